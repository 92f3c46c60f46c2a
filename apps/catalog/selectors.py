"""Reading the catalog: prices in effect, model history, version diffs, API objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from apps.rating.book import candidate_ids

from .models import LanguageModel, ModelAlias, PriceVersion, VersionStatus
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
    models = models.prefetch_related(Prefetch("aliases", queryset=ModelAlias.objects.order_by("alias")))
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
    a, b = _flatten(data_to_json(version_to_data(left))), _flatten(data_to_json(version_to_data(right)))
    a["status"], b["status"] = left.status, right.status
    keys = sorted(set(a) | set(b), key=_diff_order)
    return [DiffRow(k, a.get(k, "—"), b.get(k, "—")) for k in keys]


_ORDER = ("effective_from", "status", "rates.", "long_context.", "tiers.", "tier_rates.", "regions.",
          "time_bands", "fees.", "storage", "tier_multipliers", "source", "checked_on", "notes")


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
