"""Reading the catalog: prices in effect, model history, version diffs, API objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from apps.rating.book import candidate_ids

from .models import (
    BatchPolicy,
    CachePolicy,
    LanguageModel,
    ModelAlias,
    PriceVersion,
    Provider,
    VersionStatus,
)
from .services.versions import data_to_json, version_to_data

API_PRICE_KEYS = (
    "input",
    "output",
    "cache_read",
    "cache_write_5m",
    "cache_write_30m",
    "cache_write_1h",
    "cache_write_12h",
    "cache_write_24h",
)


def published_versions() -> QuerySet[PriceVersion]:
    return PriceVersion.objects.filter(status=VersionStatus.PUBLISHED).prefetch_related(
        "rates", "region_multipliers", "time_bands"
    )


def resolve_model(raw: str) -> LanguageModel | None:
    """A model by canonical id or any alias spelling (dated snapshot, vendor prefix...)."""
    for candidate in candidate_ids(raw):
        model = LanguageModel.objects.select_related("provider").filter(slug=candidate).first()
        if model is not None:
            return model
        alias = ModelAlias.objects.select_related("model__provider").filter(alias=candidate).first()
        if alias is not None:
            return alias.model
    return None


def version_at(model: LanguageModel, when: datetime) -> PriceVersion | None:
    """The published version in effect at ``when`` (the latest starting at or before it)."""
    return (
        published_versions()
        .filter(model=model, effective_from__lte=when)
        .order_by("-effective_from")
        .first()
    )


def models_with_current_version(
    *, when: datetime | None = None, provider: str | None = None, query: str | None = None
) -> list[tuple[LanguageModel, PriceVersion]]:
    """Every model with the version in effect at ``when`` (default now); models without one are left out."""
    when = when or timezone.now()
    current = (
        PriceVersion.objects.filter(
            model=OuterRef("pk"), status=VersionStatus.PUBLISHED, effective_from__lte=when
        )
        .order_by("-effective_from")
        .values("pk")[:1]
    )
    models = LanguageModel.objects.select_related("provider").annotate(current_id=Subquery(current))
    models = models.filter(current_id__isnull=False)
    if provider:
        models = models.filter(provider__slug=provider)
    if query:
        q = query.strip().lower()
        models = models.filter(
            Q(slug__icontains=q) | Q(name__icontains=q) | Q(aliases__alias__icontains=q)
        ).distinct()
    models = models.prefetch_related(
        Prefetch("aliases", queryset=ModelAlias.objects.order_by("alias"))
    )
    model_list = list(models)
    versions = published_versions().in_bulk([m.current_id for m in model_list])
    return [(m, versions[m.current_id]) for m in model_list]


def price_object(model: LanguageModel, version: PriceVersion) -> dict[str, Any]:
    """The JSON shape of /api/v1/models entries and /api/v1/prices."""
    data = version_to_data(version)
    prices = {k: _dec(v) for k, v in data["rates"].items() if k in API_PRICE_KEYS}
    long = data["long_context"]
    return {
        "provider": model.provider.slug,
        "model": model.slug,
        "name": model.name,
        "aliases": [a.alias for a in model.aliases.all()],
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "status": model.status,
        "prices": prices,
        "unit": "USD per 1M tokens",
        "long_context": (
            {
                "threshold_tokens": long["threshold"],
                "inclusive": long["inclusive"],
                "prices": {k: _dec(v) for k, v in long["rates"].items()},
                "input_multiplier": _dec(long["input_multiplier"]),
                "output_multiplier": _dec(long["output_multiplier"]),
            }
            if long
            else None
        ),
        "service_tier_multipliers": {k: _dec(v) for k, v in data["tiers"].items()},
        "region_multipliers": {k: _dec(v) for k, v in data["regions"].items()},
        "time_bands": data_to_json(data).get("time_bands", []),
        "fees_per_1k_calls": {k: _dec(v) for k, v in data["fees"].items()},
        "storage_per_mtok_hour": _dec(data["storage_per_mtok_hour"]),
        "version_id": version.pk,
        "effective_from": _iso(version.effective_from),
        "source_url": version.source_url,
        "source_kind": version.source_kind,
        "checked_on": version.checked_on.isoformat() if version.checked_on else None,
    }


def _dec(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def model_history(model: LanguageModel, *, include_drafts: bool = False) -> list[PriceVersion]:
    qs = PriceVersion.objects.filter(model=model).prefetch_related(
        "rates", "region_multipliers", "time_bands"
    )
    if not include_drafts:
        qs = qs.filter(status=VersionStatus.PUBLISHED)
    return list(qs.order_by("effective_from", "pk"))


@dataclass(frozen=True)
class DiffRow:
    field: str
    left: str
    right: str

    @property
    def changed(self) -> bool:
        return self.left != self.right


def version_diff(left: PriceVersion, right: PriceVersion) -> list[DiffRow]:
    """Field-by-field comparison of two versions, flattened to readable rows."""
    a, b = (
        _flatten(data_to_json(version_to_data(left))),
        _flatten(data_to_json(version_to_data(right))),
    )
    a["status"], b["status"] = left.status, right.status
    keys = sorted(set(a) | set(b), key=_diff_order)
    return [DiffRow(k, a.get(k, "—"), b.get(k, "—")) for k in keys]


_ORDER = (
    "effective_from",
    "status",
    "rates.",
    "long_context.",
    "tiers.",
    "tier_rates.",
    "regions.",
    "time_bands",
    "fees.",
    "storage",
    "tier_multipliers",
    "source",
    "checked_on",
    "notes",
)


def _diff_order(key: str) -> tuple[int, str]:
    for i, prefix in enumerate(_ORDER):
        if key.startswith(prefix):
            return (i, key)
    return (len(_ORDER), key)


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(data, list):
        if data and isinstance(data[0], dict):
            for i, item in enumerate(data):
                out.update(_flatten(item, f"{prefix}{i}."))
        else:
            out[prefix.rstrip(".")] = ", ".join(str(x) for x in data)
    else:
        out[prefix.rstrip(".")] = "—" if data is None else str(data)
    return out


# --------------------------------------------------------------------------- catalog pages
# Read models for the /prices/ pages. Values stay Decimal; the *_display strings are made
# here (not with floats in templates) so that "0.30" never shows up as "0.3" or "0.299999".

BASE_METERS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
# Retentions only some providers sell; their columns appear only when a listed model has one.
OPTIONAL_METERS = ("cache_write_30m", "cache_write_12h", "cache_write_24h")
METER_ORDER = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_30m",
    "cache_write_1h",
    "cache_write_12h",
    "cache_write_24h",
    "output",
)
METER_LABELS = {
    "input": "Input",
    "cache_read": "Cache read",
    "cache_write_5m": "Cache write 5m",
    "cache_write_30m": "Cache write 30m",
    "cache_write_1h": "Cache write 1h",
    "cache_write_12h": "Cache write 12h",
    "cache_write_24h": "Cache write 24h",
    "output": "Output",
}
# Sort keys of the price list besides the meters: the query parameter value -> column label.
OTHER_SORT_KEYS = {
    "name": "Model",
    "provider": "Provider",
    "context_window": "Context",
    "long_context": "Long context above",
    "batch": "Batch ×",
    "effective_from": "Since",
}
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MISSING = "—"


def money_display(value: Decimal | None) -> str:
    """$ with at least two decimals and every significant digit: $3.00, $0.30, $0.075."""
    if value is None:
        return MISSING
    text = _dec(value) or "0"
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def multiplier_display(value: Decimal | None) -> str:
    return MISSING if value is None else f"×{_dec(value)}"


def tokens_display(value: int | None) -> str:
    """Exact but short: 200K, 1M, and 1,048,576 where rounding would lie."""
    if value is None:
        return MISSING
    if value and value % 1_000_000 == 0:
        return f"{value // 1_000_000}M"
    if value and value % 1_000 == 0:
        return f"{value // 1_000}K"
    return f"{value:,}"


def minute_display(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def safe_link(url: str) -> str | None:
    """Only http(s) sources become links; anything else (a note, javascript:) stays text."""
    return url if url.startswith(("https://", "http://")) else None


def base_rates(version: PriceVersion) -> dict[str, Decimal]:
    """Standard-tier, base-context token prices of a version (uses the prefetched rates)."""
    return {
        r.meter: r.price
        for r in version.rates.all()
        if r.context == "base" and not r.service_tier and r.meter in METER_ORDER
    }


def version_prices(version: PriceVersion) -> dict[str, str | None]:
    """The ``prices`` object of the API for one version: decimal strings by meter."""
    rates = base_rates(version)
    return {k: _dec(rates[k]) for k in API_PRICE_KEYS if k in rates}


@dataclass(frozen=True)
class PriceCell:
    value: Decimal | None
    display: str


@dataclass(frozen=True)
class PriceRow:
    model: LanguageModel
    version: PriceVersion
    rates: dict[str, Decimal]
    cells: tuple[PriceCell, ...]

    @property
    def long_context_display(self) -> str:
        return tokens_display(self.version.long_context_threshold)

    @property
    def batch_display(self) -> str:
        return multiplier_display(self.version.batch_multiplier)

    @property
    def context_display(self) -> str:
        return tokens_display(self.model.context_window)

    def sort_value(self, key: str) -> Any:
        """The value ``key`` sorts by; None sorts last in both directions."""
        if key in METER_ORDER:
            return self.rates.get(key)
        if key == "name":
            return (self.model.name.casefold(), self.model.slug)
        if key == "provider":
            return (self.model.provider.name.casefold(), self.model.name.casefold())
        if key == "context_window":
            return self.model.context_window
        if key == "long_context":
            return self.version.long_context_threshold
        if key == "batch":
            return self.version.batch_multiplier
        if key == "effective_from":
            return self.version.effective_from
        raise KeyError(key)


@dataclass(frozen=True)
class PriceTable:
    meters: tuple[str, ...]
    rows: list[PriceRow]
    sort: str  # the normalised sort parameter actually applied ("" = default order)

    @property
    def meter_labels(self) -> list[tuple[str, str]]:
        return [(m, METER_LABELS[m]) for m in self.meters]


def parse_sort(raw: str | None) -> tuple[str, bool]:
    """``-input`` -> ("input", True). Unknown keys give ("", False): the default order."""
    raw = (raw or "").strip()
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key in METER_ORDER or key in OTHER_SORT_KEYS:
        return key, descending
    return "", False


def sort_price_rows(rows: list[PriceRow], sort: str | None) -> list[PriceRow]:
    """Rows ordered by ``sort`` (``key`` or ``-key``); rows missing the value always come last."""
    key, descending = parse_sort(sort)
    by_name = sorted(rows, key=lambda r: r.sort_value("provider"))
    if not key:
        return by_name
    present = [r for r in by_name if r.sort_value(key) is not None]
    missing = [r for r in by_name if r.sort_value(key) is None]
    # sort() is stable with reverse=True too, so ties keep the provider/name order.
    present.sort(key=lambda r: r.sort_value(key), reverse=descending)
    return present + missing


def price_table(
    *,
    provider: str | None = None,
    query: str | None = None,
    sort: str | None = None,
    when: datetime | None = None,
) -> PriceTable:
    """Every model with prices in effect at ``when`` (default now), filtered and sorted.

    A fixed number of queries whatever the number of models (see models_with_current_version).
    """
    pairs = models_with_current_version(when=when, provider=provider, query=query)
    rates = [(m, v, base_rates(v)) for m, v in pairs]
    present = {meter for _, _, r in rates for meter in r}
    meters = tuple(m for m in METER_ORDER if m in BASE_METERS or m in present)
    rows = [
        PriceRow(
            model=m,
            version=v,
            rates=r,
            cells=tuple(PriceCell(r.get(meter), money_display(r.get(meter))) for meter in meters),
        )
        for m, v, r in rates
    ]
    key, descending = parse_sort(sort)
    applied = f"{'-' if descending else ''}{key}" if key else ""
    return PriceTable(meters=meters, rows=sort_price_rows(rows, applied), sort=applied)


def providers_with_models() -> list[Provider]:
    return list(Provider.objects.filter(models__isnull=False).distinct().order_by("name"))


def model_for_page(provider_slug: str, model_id: str) -> LanguageModel | None:
    """The model a /prices/<provider>/<model>/ URL names, by id or alias, under that provider only."""
    model = resolve_model(model_id)
    if model is None or model.provider.slug != provider_slug:
        return None
    return model


def version_in_effect(history: list[PriceVersion], when: datetime) -> PriceVersion | None:
    """From a model's published history (oldest first), the version in effect at ``when``."""
    current = None
    for version in history:
        if version.status == VersionStatus.PUBLISHED and version.effective_from <= when:
            current = version
    return current


# Fields of a version diff that are bookkeeping, not prices.
_NOT_A_PRICE_CHANGE = (
    "effective_from",
    "status",
    "source_url",
    "source_kind",
    "checked_on",
    "notes",
)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _money_or_text(text: str) -> str:
    try:
        return money_display(Decimal(text))
    except ArithmeticError:  # "—" for a price that did not exist on one side
        return text


def change_display(row: DiffRow) -> Change:
    """A diff row as people read it: "Input $3.00 → $2.50", "Long context rates cache read …"."""
    path = row.field.split(".")
    if path[-1] in METER_LABELS and ("rates" in path or "tier_rates" in path):
        prefix = " ".join(p.replace("_", " ") for p in path[:-1] if p != "rates")
        label = f"{prefix} {METER_LABELS[path[-1]].lower()}".strip().capitalize()
        return Change(label, _money_or_text(row.left), _money_or_text(row.right))
    return Change(row.field.replace(".", " ").replace("_", " ").capitalize(), row.left, row.right)


@dataclass(frozen=True)
class HistoryEntry:
    version: PriceVersion
    rates: dict[str, Decimal]
    changes: list[Change]
    state: str  # "past", "current" or "scheduled"

    def price(self, meter: str) -> str:
        return money_display(self.rates.get(meter))

    @property
    def input_display(self) -> str:
        return self.price("input")

    @property
    def output_display(self) -> str:
        return self.price("output")

    @property
    def cache_read_display(self) -> str:
        return self.price("cache_read")

    @property
    def source_link(self) -> str | None:
        return safe_link(self.version.source_url)


def _bands_summary(version: PriceVersion) -> str:
    bands = sorted(version.time_bands.all(), key=lambda b: b.start_minute)
    if not bands:
        return "none"
    parts = []
    for b in bands:
        text = f"{minute_display(b.start_minute)}–{minute_display(b.end_minute)} UTC"
        text += f" {multiplier_display(b.multiplier)}"
        if b.weekdays:
            text += " (" + ",".join(WEEKDAY_NAMES[int(d)] for d in b.weekdays.split(",")) + ")"
        parts.append(text)
    return ", ".join(parts)


def history_entries(history: list[PriceVersion], when: datetime) -> list[HistoryEntry]:
    """Each published version with what changed from the one before it (oldest first)."""
    current = version_in_effect(history, when)
    entries = []
    previous = None
    for version in history:
        changes = []
        if previous is not None:
            changes = [
                change_display(row)
                for row in version_diff(previous, version)
                if row.changed and not row.field.startswith((*_NOT_A_PRICE_CHANGE, "time_bands"))
            ]
            # Band-by-band field diffs ("time bands 0 end") read badly: compare whole schedules.
            before, after = _bands_summary(previous), _bands_summary(version)
            if before != after:
                changes.append(Change("Time of day", before, after))
        if version == current:
            state = "current"
        elif version.effective_from > when:
            state = "scheduled"
        else:
            state = "past"
        entries.append(HistoryEntry(version, base_rates(version), changes, state))
        previous = version
    return entries


@dataclass(frozen=True)
class MeterLine:
    label: str
    price: str
    long_price: str
    long_note: str


@dataclass(frozen=True)
class ModelPage:
    """Everything the model detail page shows, read in a fixed number of queries."""

    model: LanguageModel
    history: list[PriceVersion]
    entries: list[HistoryEntry]
    current: PriceVersion | None
    meters: list[MeterLine]
    data: dict[str, Any] | None  # version_to_data(current)
    provider_cache: CachePolicy | None
    model_cache: CachePolicy | None
    provider_batch: BatchPolicy | None
    model_batch: BatchPolicy | None

    @property
    def aliases(self) -> list[str]:
        return [a.alias for a in self.model.aliases.all()]

    @property
    def source_link(self) -> str | None:
        return safe_link(self.current.source_url) if self.current else None

    @property
    def long_context(self) -> dict[str, Any] | None:
        return self.data["long_context"] if self.data else None

    @property
    def context_window_display(self) -> str:
        n = self.model.context_window
        return MISSING if n is None else f"{n:,} tokens"

    @property
    def max_output_display(self) -> str:
        n = self.model.max_output_tokens
        return MISSING if n is None else f"{n:,} tokens"

    @property
    def long_context_rule(self) -> str:
        """When the long-context prices apply, in words (they price the whole request)."""
        long = self.long_context
        if not long:
            return ""
        size = tokens_display(long["threshold"])
        if long["inclusive"]:
            return f"prompts of {size} tokens or more"
        return f"prompts over {size} tokens"

    @property
    def tiers(self) -> list[tuple[str, str]]:
        if not self.data:
            return []
        return [(name, multiplier_display(m)) for name, m in self.data["tiers"].items()]

    @property
    def tier_rates(self) -> list[tuple[str, list[tuple[str, str]]]]:
        if not self.data:
            return []
        return [
            (tier, [(METER_LABELS.get(m, m), money_display(p)) for m, p in rates.items()])
            for tier, rates in self.data["tier_rates"].items()
        ]

    @property
    def regions(self) -> list[tuple[str, str]]:
        if not self.data:
            return []
        return [(region, multiplier_display(m)) for region, m in self.data["regions"].items()]

    @property
    def time_bands(self) -> list[dict[str, str]]:
        if not self.data:
            return []
        return [
            {
                "label": band["label"] or "band",
                "window": f"{minute_display(band['start'])}–{minute_display(band['end'])} UTC",
                "days": (
                    ", ".join(WEEKDAY_NAMES[d] for d in band["weekdays"])
                    if band["weekdays"] is not None
                    else "every day"
                ),
                "multiplier": multiplier_display(band["multiplier"]),
            }
            for band in self.data["time_bands"]
        ]

    @property
    def fees(self) -> list[tuple[str, str]]:
        if not self.data:
            return []
        return [
            (meter.replace("_", " "), money_display(p)) for meter, p in self.data["fees"].items()
        ]

    @property
    def cache_policy(self) -> PolicyTable:
        return policy_table(self.provider_cache, self.model_cache, _cache_policy_fields)

    @property
    def batch_policy(self) -> PolicyTable:
        return policy_table(self.provider_batch, self.model_batch, _batch_policy_fields)

    @property
    def storage(self) -> str:
        return money_display(self.data["storage_per_mtok_hour"]) if self.data else MISSING


def percent_display(share: Decimal | None) -> str:
    return MISSING if share is None else f"{_dec(share * 100)}%"


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _cache_policy_fields(p: CachePolicy) -> list[tuple[str, str]]:
    return [
        ("Kind", p.get_kind_display()),
        ("Retentions (TTL)", ", ".join(p.ttl_options) or MISSING),
        ("Default TTL", p.default_ttl or MISSING),
        ("A hit refreshes the TTL", _yes_no(p.hit_refreshes_ttl)),
        ("Minimum cacheable tokens", tokens_display(p.min_cacheable_tokens)),
        ("Cached in steps of", tokens_display(p.increment_tokens)),
        ("Max breakpoints", MISSING if p.max_breakpoints is None else str(p.max_breakpoints)),
        ("Writes cost extra", _yes_no(p.write_fee)),
        ("Assumed automatic hit rate", percent_display(p.automatic_hit_rate)),
        ("Checked", p.checked_on.isoformat() if p.checked_on else MISSING),
    ]


def _batch_policy_fields(p: BatchPolicy) -> list[tuple[str, str]]:
    return [
        ("Discount", percent_display(p.discount)),
        ("Applies to cache", _yes_no(p.applies_to_cache)),
        (
            "Turnaround",
            MISSING if p.turnaround_hours is None else f"within {p.turnaround_hours} h",
        ),
        (
            "Requests per batch",
            MISSING if p.max_requests_per_batch is None else f"{p.max_requests_per_batch:,}",
        ),
        ("Checked", p.checked_on.isoformat() if p.checked_on else MISSING),
    ]


@dataclass(frozen=True)
class PolicyTable:
    """A provider's policy beside the model's own override, field by field."""

    rows: list[tuple[str, str, str]]
    has_override: bool
    sources: list[tuple[str, str | None, str]]  # (whose, link, notes)

    def __bool__(self) -> bool:
        return bool(self.rows)


def policy_table(provider_policy: Any, model_policy: Any, fields: Any) -> PolicyTable:
    present = [p for p in (provider_policy, model_policy) if p is not None]
    if not present:
        return PolicyTable([], False, [])
    left = fields(provider_policy) if provider_policy else None
    right = fields(model_policy) if model_policy else None
    labels = [label for label, _ in (left or right)]
    rows = [
        (
            label,
            left[i][1] if left else MISSING,
            right[i][1] if right else "",
        )
        for i, label in enumerate(labels)
    ]
    sources = [
        (whose, safe_link(p.source_url), p.notes)
        for whose, p in (("Provider", provider_policy), ("This model", model_policy))
        if p is not None and (p.source_url or p.notes)
    ]
    return PolicyTable(rows, model_policy is not None, sources)


def _meter_lines(data: dict[str, Any]) -> list[MeterLine]:
    """Base and long-context price of each meter the version prices, in a fixed order."""
    rates, long = data["rates"], data["long_context"]
    lines = []
    for meter in METER_ORDER:
        base = rates.get(meter)
        long_price, note = None, ""
        if long:
            if meter in long["rates"]:
                long_price = long["rates"][meter]
            else:
                # Mirrors LongContextTier.rate: meters without an explicit long price use the
                # tier's input or output multiplier, or have no long-context price at all.
                mult = long["output_multiplier"] if meter == "output" else long["input_multiplier"]
                if base is not None and mult is not None:
                    long_price, note = base * mult, f"{multiplier_display(mult)} base"
        if base is None and long_price is None:
            continue
        lines.append(
            MeterLine(
                METER_LABELS[meter],
                money_display(base),
                money_display(long_price) if long else "",
                note,
            )
        )
    return lines


def _policies(model: LanguageModel, policy_model: type[CachePolicy] | type[BatchPolicy]):
    rows = list(
        policy_model.objects.filter(provider_id=model.provider_id).filter(
            Q(model__isnull=True) | Q(model=model)
        )
    )
    provider_row = next((p for p in rows if p.model_id is None), None)
    model_row = next((p for p in rows if p.model_id == model.pk), None)
    return provider_row, model_row


def model_page(model: LanguageModel, *, when: datetime | None = None) -> ModelPage:
    when = when or timezone.now()
    history = model_history(model)
    current = version_in_effect(history, when)
    data = version_to_data(current) if current else None
    provider_cache, model_cache = _policies(model, CachePolicy)
    provider_batch, model_batch = _policies(model, BatchPolicy)
    return ModelPage(
        model=model,
        history=history,
        entries=history_entries(history, when),
        current=current,
        meters=_meter_lines(data) if data else [],
        data=data,
        provider_cache=provider_cache,
        model_cache=model_cache,
        provider_batch=provider_batch,
        model_batch=model_batch,
    )


def first_effective_from(model: LanguageModel) -> datetime | None:
    """When the model's first published version starts (None: nothing published)."""
    return (
        PriceVersion.objects.filter(model=model, status=VersionStatus.PUBLISHED)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )


def iso_utc(when: datetime) -> str:
    """An instant as the API writes it: ISO 8601 in UTC with a Z."""
    return _iso(when)
