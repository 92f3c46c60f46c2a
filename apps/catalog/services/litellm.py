"""LiteLLM price files into price versions and back: the import and export services.

The file format and its mapping to version data are ``apps/catalog/litellm_mapping.py``;
here the mapped entries are matched to catalog models and stored, or the versions in
effect are read and written as entries. An import is all-or-nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.catalog.litellm_mapping import (
    PRICE_PLACES,
    PROVIDER_NAMES,
    MappedEntry,
    litellm_entry,
    map_entry,
    map_file,
    provider_slug,
)
from apps.catalog.models import LanguageModel, ModelAlias, PriceVersion, Provider
from apps.catalog.selectors import models_with_current_version
from apps.catalog.version_data import clean_version_data, parse_date, same_prices, version_to_data
from apps.rating.book import candidate_ids

from .versions import versions_bulk_create

LITELLM_SOURCE_URL = (
    "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"
)
SLUG_LENGTH: int = LanguageModel._meta.get_field("slug").max_length or 100


# --------------------------------------------------------------------------- import


@dataclass
class LiteLLMImportReport:
    entries: int = 0
    versions_created: int = 0
    versions_published: int = 0
    unchanged: int = 0
    unchanged_drafts: int = 0  # matched an unpublished draft: publish it in the admin
    models_created: int = 0
    providers_created: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    unknown_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    rounded: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    imported: dict[str, str] = field(default_factory=dict)  # entry key → model slug

    def skip(self, reason: str, key: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        examples = self.skipped_examples.setdefault(reason, [])
        if len(examples) < 3:
            examples.append(key)

    def note_unknown(self, entry: MappedEntry) -> None:
        for name in entry.unknown:
            item = self.unknown_keys.setdefault(name, {"count": 0, "examples": []})
            item["count"] += 1
            if len(item["examples"]) < 3:
                item["examples"].append(entry.key)
        if entry.rounded:
            self.rounded[entry.key] = entry.rounded

    def as_dict(self) -> dict[str, Any]:
        """The counts printed by ``import_litellm --json`` (the key → slug map left out)."""
        unknown = dict(sorted(self.unknown_keys.items(), key=lambda kv: (-kv[1]["count"], kv[0])))
        return {
            "entries": self.entries,
            "versions_created": self.versions_created,
            "versions_published": self.versions_published,
            "unchanged": self.unchanged,
            "unchanged_drafts": self.unchanged_drafts,
            "models_created": self.models_created,
            "providers_created": self.providers_created,
            "skipped": dict(sorted(self.skipped.items())),
            "unknown_keys": unknown,
            "rounded": self.rounded,
            "errors": self.errors,
        }


@dataclass
class _CatalogIndex:
    """Slugs and aliases in memory, resolved exactly as ``selectors.resolve_model`` does."""

    slugs: dict[str, int]
    aliases: dict[str, int]
    provider_of: dict[int, str]

    @classmethod
    def load(cls) -> _CatalogIndex:
        models = LanguageModel.objects.values_list("pk", "slug", "provider__slug")
        slugs, provider_of = {}, {}
        for pk, slug, provider in models:
            slugs[slug] = pk
            provider_of[pk] = provider
        return cls(slugs, dict(ModelAlias.objects.values_list("alias", "model_id")), provider_of)

    def resolve(self, raw: str) -> tuple[int | None, str]:
        """(model id, "exact" | "alias" | "stripped"), or (None, "") for an unknown id."""
        for index, candidate in enumerate(candidate_ids(raw)):
            for table, how in ((self.slugs, "exact"), (self.aliases, "alias")):
                if candidate in table:
                    return table[candidate], how if index == 0 else "stripped"
        return None, ""


def _plan(
    entries: list[MappedEntry], index: _CatalogIndex, only_known: bool, report: LiteLLMImportReport
) -> list[tuple[MappedEntry, int | str]]:
    """One entry per target model (an existing model's id, or a new slug).

    Several entries often resolve to one model (``claude-x``, ``claude-x-20250101``,
    ``gemini/x`` and Vertex's bare ``x``). The first-party entry wins, then the exact id,
    then an alias, then file order. A reseller's or cloud's entry that only resolves by
    stripping its route (``openrouter/anthropic/claude-x``) never prices the first-party
    model: it becomes a model of its own, so its id stays unique.
    """
    groups: dict[int | str, list[tuple[tuple[bool, bool, bool, int], MappedEntry]]] = {}
    for order, entry in enumerate(entries):
        model_id, how = index.resolve(entry.key)
        same_provider = model_id is not None and index.provider_of[model_id] == provider_slug(
            entry.provider or ""
        )
        target: int | str
        if model_id is not None and (same_provider or how != "stripped"):
            target = model_id
        elif only_known:
            report.skip("not in catalog", entry.key)
            continue
        else:
            target = entry.key.strip().lower()
        score = (same_provider, how == "exact", how == "alias", -order)
        groups.setdefault(target, []).append((score, entry))
    plan = []
    for target, items in groups.items():
        items.sort(key=lambda item: item[0], reverse=True)
        plan.append((items[0][1], target))
        for _, other in items[1:]:
            report.skip("another entry prices the same model", other.key)
    return plan


def _create_models(
    plan: list[tuple[MappedEntry, int | str]], report: LiteLLMImportReport
) -> dict[int | str, LanguageModel]:
    """Existing models by id and newly created ones by slug, in a few bulk queries."""
    existing_ids = [t for _, t in plan if isinstance(t, int)]
    models: dict[int | str, LanguageModel] = dict(
        LanguageModel.objects.select_related("provider").in_bulk(existing_ids)
    )
    new = [(e, t) for e, t in plan if isinstance(t, str)]
    if not new:
        return models
    providers = {p.slug: p for p in Provider.objects.all()}
    missing = {provider_slug(e.provider or ""): e.provider or "" for e, _ in new}
    missing = {s: n for s, n in missing.items() if s not in providers}
    for created in Provider.objects.bulk_create(
        Provider(slug=s, name=PROVIDER_NAMES.get(s, n or s)[:80]) for s, n in missing.items()
    ):
        providers[created.slug] = created
    report.providers_created += len(missing)
    fresh = []
    for entry, slug in new:
        if len(slug) > SLUG_LENGTH:
            report.errors.append(f'"{entry.key}": id longer than {SLUG_LENGTH} characters')
            continue
        fresh.append(
            LanguageModel(
                provider=providers[provider_slug(entry.provider or "")],
                slug=slug,
                name=entry.key[:120],
                context_window=entry.context_window,
                max_output_tokens=entry.max_output_tokens,
            )
        )
    for model in LanguageModel.objects.bulk_create(fresh, batch_size=500):
        models[model.slug] = model
    report.models_created += len(fresh)
    return models


def _versions_by_model(model_ids: list[int]) -> dict[int, list[PriceVersion]]:
    out: dict[int, list[PriceVersion]] = defaultdict(list)
    for start in range(0, len(model_ids), 500):  # stay far below SQLite's variable limit
        chunk = model_ids[start : start + 500]
        versions = PriceVersion.objects.filter(model_id__in=chunk).prefetch_related(
            "rates", "region_multipliers", "time_bands"
        )
        for version in versions:
            out[version.model_id].append(version)
    return out


def _unchanged(
    versions: list[PriceVersion], clean: dict[str, Any], entry: MappedEntry
) -> PriceVersion | None:
    """The latest version, or the one in effect at the import's instant, if it has these prices.

    Prices match when ``same_prices`` says so, or when the version written as a LiteLLM
    entry reads back as this entry: a catalog version with a batch multiplier, time bands
    or fees says more than LiteLLM can, and re-importing our own export must change nothing.
    """
    order = sorted(versions, key=lambda v: (v.effective_from, v.pk))
    in_effect = [v for v in order if v.effective_from <= clean["effective_from"]][-1:]
    for version in {v.pk: v for v in order[-1:] + in_effect}.values():
        data = version_to_data(version)
        if same_prices(data, clean):
            return version
        rendered = litellm_entry(provider=entry.provider or "", model_id=entry.key, data=data)
        if map_entry(entry.key, rendered).data == entry.data:
            return version
    return None


@transaction.atomic
def litellm_import(
    *,
    data: dict[str, Any],
    effective_from: datetime,
    publish: bool = False,
    providers: set[str] | None = None,
    only_known: bool = False,
    source_url: str = LITELLM_SOURCE_URL,
) -> LiteLLMImportReport:
    """Draft (or published) import-sourced versions for every priced text model in ``data``.

    All-or-nothing: the whole file is validated before the first write. Re-importing the
    same file changes nothing. Models already in the catalog keep their context sizes;
    new models take LiteLLM's.
    """
    mapped = map_file(data)
    report = LiteLLMImportReport(entries=len(mapped))
    wanted = {provider_slug(p) for p in providers} if providers else None
    last_updated = data.get("last_updated")
    checked_on = (
        parse_date(last_updated[:10], "last_updated") if isinstance(last_updated, str) else None
    )
    candidates = []
    for entry in mapped:
        reason = entry.skip_reason
        if (
            reason is None
            and wanted is not None
            and provider_slug(entry.provider or "") not in wanted
        ):
            reason = "provider not selected"
        if reason:
            report.skip(reason, entry.key)
        else:
            candidates.append(entry)
    plan = _plan(candidates, _CatalogIndex.load(), only_known, report)
    models = _create_models(plan, report)
    history = _versions_by_model([t for _, t in plan if isinstance(t, int)])
    to_write: list[tuple[LanguageModel, dict[str, Any]]] = []
    for entry, target in plan:
        model = models.get(target)
        if model is None:
            continue  # reported by _create_models
        clean = clean_version_data(
            {
                **entry.data,
                "effective_from": effective_from.astimezone(UTC).isoformat(),
                "source_url": source_url,
                "source_kind": "import",
                "checked_on": checked_on.isoformat() if checked_on else None,
                "notes": _notes(entry),
            },
            f'"{entry.key}"',
        )
        report.note_unknown(entry)
        versions = history.get(model.pk, [])
        same = _unchanged(versions, clean, entry)
        if same is not None:
            report.unchanged += 1
            report.unchanged_drafts += int(not same.is_published)
            report.imported[entry.key] = model.slug
            continue
        # what version_validate_for_publish would refuse; the rest it checks holds by
        # construction (input and output present, a threshold only with long rates)
        clash = [
            v for v in versions if v.is_published and v.effective_from == clean["effective_from"]
        ]
        if publish and clash:
            report.errors.append(
                f'"{entry.key}": {model.slug} already has different published prices from '
                f"{clean['effective_from']:%Y-%m-%d %H:%M} UTC (version {clash[0].pk})"
            )
            continue
        to_write.append((model, clean))
        report.imported[entry.key] = model.slug
    report.versions_created = len(versions_bulk_create(items=to_write, publish=publish))
    report.versions_published = report.versions_created if publish else 0
    return report


def _notes(entry: MappedEntry) -> str:
    notes = f'Imported from LiteLLM entry "{entry.key}" (litellm_provider {entry.provider}).'
    if entry.unknown:
        notes += " Not imported: " + ", ".join(sorted(entry.unknown)) + "."
    if entry.rounded:
        notes += f" Rounded to {PRICE_PLACES} decimals per MTok: " + ", ".join(entry.rounded) + "."
    return notes


def default_effective_from() -> datetime:
    return timezone.now().replace(microsecond=0)


# --------------------------------------------------------------------------- export


def litellm_export(
    *,
    at: datetime | None = None,
    models: Iterable[LanguageModel] | None = None,
    include_aliases: bool = False,
) -> dict[str, Any]:
    """LiteLLM entries for the published version in effect at ``at`` (default now).

    Keyed by canonical slug, and also by every alias with ``include_aliases``. Models with
    no version in effect are left out.
    """
    wanted = None if models is None else {m.pk for m in models}
    out: dict[str, Any] = {}
    for model, version in models_with_current_version(when=at or timezone.now()):
        if wanted is not None and model.pk not in wanted:
            continue
        entry = litellm_entry(
            provider=model.provider.slug,
            model_id=model.slug,
            data=version_to_data(version),
            context_window=model.context_window,
            max_output_tokens=model.max_output_tokens,
            source_url=version.source_url,
        )
        out[model.slug] = entry
        if include_aliases:
            for alias in model.aliases.all():
                out.setdefault(alias.alias, dict(entry))
    return dict(sorted(out.items()))
