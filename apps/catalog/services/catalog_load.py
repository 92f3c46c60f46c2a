"""Loading the bundled catalog (docs/catalog-data.md). Idempotent and all-or-nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from apps.catalog.models import (
    BatchPolicy,
    CachePolicy,
    LanguageModel,
    ModelAlias,
    PriceVersion,
    Provider,
    VersionStatus,
)
from apps.catalog.version_data import (
    CatalogDataError,
    clean_version_data,
    parse_date,
    parse_price,
    same_prices,
    version_to_data,
)

from .versions import versions_bulk_create

BUNDLED_CATALOG = Path(__file__).resolve().parent.parent / "data" / "catalog.json"

CACHE_POLICY_FIELDS = (
    "kind",
    "ttl_options",
    "default_ttl",
    "hit_refreshes_ttl",
    "min_cacheable_tokens",
    "increment_tokens",
    "max_breakpoints",
    "write_fee",
    "automatic_hit_rate",
    "source_url",
    "checked_on",
    "notes",
)
BATCH_POLICY_FIELDS = (
    "discount",
    "applies_to_cache",
    "turnaround_hours",
    "max_requests_per_batch",
    "source_url",
    "checked_on",
    "notes",
)
MODEL_FIELDS = ("name", "context_window", "max_output_tokens", "released_on", "status", "notes")


@dataclass
class LoadReport:
    providers_created: int = 0
    models_created: int = 0
    models_updated: int = 0
    aliases_created: int = 0
    versions_created: int = 0
    versions_unchanged: int = 0
    policies_written: int = 0
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.providers_created,
                self.models_created,
                self.models_updated,
                self.aliases_created,
                self.versions_created,
                self.policies_written,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "changed": self.changed}


def read_catalog_file(path: Path = BUNDLED_CATALOG) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CatalogDataError(
            f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("providers"), list):
        raise CatalogDataError(f"{path.name}: expected an object with a 'providers' list")
    return data


@transaction.atomic
def catalog_load(data: dict[str, Any]) -> LoadReport:
    """Write providers, models, aliases, policies and published versions; change nothing that matches.

    A bundled version that differs from an already published one at the same instant is a
    conflict: published history is never rewritten, so it is reported, and the whole load
    is rolled back.
    """
    report = LoadReport()
    seen_aliases: dict[str, str] = {}
    to_create: list[tuple[LanguageModel, dict[str, Any]]] = []
    for p_index, pdata in enumerate(data["providers"]):
        where = f"providers[{p_index}]"
        provider = _provider(pdata, where, report)
        if pdata.get("cache_policy"):
            _cache_policy(provider, None, pdata["cache_policy"], f"{where}.cache_policy", report)
        if pdata.get("batch_policy"):
            _batch_policy(provider, None, pdata["batch_policy"], f"{where}.batch_policy", report)
        for m_index, mdata in enumerate(pdata.get("models") or []):
            mwhere = f"{where}.models[{m_index}]"
            model = _model(provider, mdata, mwhere, report)
            _aliases(model, mdata.get("aliases") or [], f"{mwhere}.aliases", report, seen_aliases)
            if mdata.get("cache_policy"):
                merged = {**(pdata.get("cache_policy") or {}), **mdata["cache_policy"]}
                _cache_policy(provider, model, merged, f"{mwhere}.cache_policy", report)
            if mdata.get("batch_policy"):
                merged = {**(pdata.get("batch_policy") or {}), **mdata["batch_policy"]}
                _batch_policy(provider, model, merged, f"{mwhere}.batch_policy", report)
            to_create += _versions(model, mdata.get("versions") or [], f"{mwhere}.versions", report)
    if report.conflicts:
        raise CatalogDataError(report.conflicts)
    # one bulk write: rows go in while the versions are drafts, then one UPDATE publishes
    report.versions_created = len(versions_bulk_create(items=to_create, publish=True))
    return report


def _provider(pdata: dict[str, Any], where: str, report: LoadReport) -> Provider:
    slug = pdata.get("slug")
    if not slug:
        raise CatalogDataError(f"{where}.slug: required")
    provider, created = Provider.objects.get_or_create(
        slug=slug,
        defaults={"name": pdata.get("name") or slug, "website": pdata.get("website") or ""},
    )
    report.providers_created += int(created)
    return provider


def _model(
    provider: Provider, mdata: dict[str, Any], where: str, report: LoadReport
) -> LanguageModel:
    slug = str(mdata.get("slug") or "").strip()
    if not slug or slug != slug.lower():
        raise CatalogDataError(f"{where}.slug: required, lowercase (got {slug!r})")
    values = {
        "name": mdata.get("name") or slug,
        "context_window": mdata.get("context_window"),
        "max_output_tokens": mdata.get("max_output_tokens"),
        "released_on": parse_date(mdata.get("released_on"), f"{where}.released_on"),
        "status": mdata.get("status") or "active",
        "notes": mdata.get("notes") or "",
    }
    model = LanguageModel.objects.filter(slug=slug).first()
    if model is None:
        model = LanguageModel(provider=provider, slug=slug, **values)
        model.full_clean()
        model.save()
        report.models_created += 1
        return model
    if model.provider_id != provider.pk:
        raise CatalogDataError(
            f"{where}.slug: {slug} already belongs to provider {model.provider.slug}"
        )
    changed = [k for k, v in values.items() if getattr(model, k) != v]
    if changed:
        for k in changed:
            setattr(model, k, values[k])
        model.full_clean()
        model.save(update_fields=changed)
        report.models_updated += 1
    return model


def _aliases(
    model: LanguageModel, aliases: list[str], where: str, report: LoadReport, seen: dict[str, str]
) -> None:
    for alias in aliases:
        key = str(alias).strip().lower()
        if not key or key == model.slug:
            continue
        if seen.get(key, model.slug) != model.slug:
            raise CatalogDataError(
                f"{where}: alias {key!r} given to both {seen[key]} and {model.slug}"
            )
        seen[key] = model.slug
        if LanguageModel.objects.filter(slug=key).exclude(pk=model.pk).exists():
            raise CatalogDataError(f"{where}: alias {key!r} is another model's id")
        existing = ModelAlias.objects.filter(alias=key).select_related("model").first()
        if existing is None:
            ModelAlias.objects.create(alias=key, model=model)
            report.aliases_created += 1
        elif existing.model_id != model.pk:
            raise CatalogDataError(
                f"{where}: alias {key!r} already points to {existing.model.slug}"
            )


def _policy_values(pdata: dict[str, Any], fields: tuple[str, ...], where: str) -> dict[str, Any]:
    values = {}
    for name in fields:
        if name not in pdata:
            continue
        value = pdata[name]
        if name == "checked_on":
            value = parse_date(value, f"{where}.checked_on")
        elif name in ("discount", "automatic_hit_rate") and value is not None:
            value = parse_price(value, f"{where}.{name}")
        elif value is None and name in ("source_url", "notes", "default_ttl"):
            value = ""
        values[name] = value
    return values


def _write_policy(model_cls, provider, model, values, where, report) -> None:
    obj = model_cls.objects.filter(provider=provider, model=model).first()
    if obj is None:
        obj = model_cls(provider=provider, model=model, **values)
    else:
        changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
        if not changed:
            return
        for k, v in changed.items():
            setattr(obj, k, v)
    try:
        obj.full_clean()
    except Exception as exc:  # name the place in the file
        raise CatalogDataError(f"{where}: {exc}") from exc
    obj.save()
    report.policies_written += 1


def _cache_policy(provider, model, pdata, where, report) -> None:
    values = _policy_values(pdata, CACHE_POLICY_FIELDS, where)
    if "kind" not in values:
        raise CatalogDataError(f"{where}.kind: required")
    _write_policy(CachePolicy, provider, model, values, where, report)


def _batch_policy(provider, model, pdata, where, report) -> None:
    _write_policy(
        BatchPolicy,
        provider,
        model,
        _policy_values(pdata, BATCH_POLICY_FIELDS, where),
        where,
        report,
    )


def _versions(
    model: LanguageModel, versions: list[dict[str, Any]], where: str, report: LoadReport
) -> list[tuple[LanguageModel, dict[str, Any]]]:
    """Validate a model's bundled versions; return the ones to create, count the unchanged."""
    previous = None
    published = {
        v.effective_from: v
        for v in PriceVersion.objects.filter(
            model=model, status=VersionStatus.PUBLISHED
        ).prefetch_related("rates", "region_multipliers", "time_bands")
    }
    new = []
    for index, vdata in enumerate(versions):
        vwhere = f"{where}[{index}]"
        clean = clean_version_data(vdata, vwhere)
        if previous is not None and clean["effective_from"] <= previous:
            raise CatalogDataError(
                f"{vwhere}.effective_from: versions must be in increasing date order"
            )
        previous = clean["effective_from"]
        existing = published.get(clean["effective_from"])
        if existing is None:
            new.append((model, clean))
        elif same_prices(version_to_data(existing), clean):
            report.versions_unchanged += 1
        else:
            report.conflicts.append(
                f"{vwhere}: {model.slug} already has a different published version from "
                f"{clean['effective_from']:%Y-%m-%d %H:%M} UTC (id {existing.pk}); "
                "publish a new version instead"
            )
    return new
