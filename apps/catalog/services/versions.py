"""Writing price versions: store cleaned data, publish, start a draft from any version.

Data arrives in the form of docs/catalog-data.md, cleaned by ``version_data``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.catalog.models import (
    LanguageModel,
    PriceVersion,
    Rate,
    RegionMultiplier,
    TimeBand,
    VersionStatus,
)
from apps.catalog.version_data import TIER_NAMES, CatalogDataError, version_to_data


@transaction.atomic
def version_create(
    *, model: LanguageModel, data: dict[str, Any], derived_from: PriceVersion | None = None
) -> PriceVersion:
    """Create a DRAFT version with all its rows from cleaned data."""
    [version] = versions_bulk_create(
        items=[(model, data)], publish=False, derived_from=derived_from
    )
    return version


def versions_bulk_create(
    *,
    items: list[tuple[LanguageModel, dict[str, Any]]],
    publish: bool,
    derived_from: PriceVersion | None = None,
) -> list[PriceVersion]:
    """``version_create`` (and ``version_publish``) for many cleaned versions in a few queries.

    ``version_create`` runs ``full_clean`` with constraint validation: about ten queries per
    version, as each check constraint is evaluated in SQL. For the 2,269 priced entries of a
    full LiteLLM file that, with ``version_publish``, took 45 s on SQLite. Here the data has
    passed ``clean_version_data``, fields are validated in Python, and the database enforces
    the constraints. Rows go in while the versions are drafts; publishing is one UPDATE
    afterwards, as migration 0002 freezes the rows of a published version.
    tests/catalog/test_litellm.py checks that both paths store the same version.
    """
    versions = []
    for model, data in items:
        long = data.get("long_context")
        version = PriceVersion(
            model=model,
            effective_from=data["effective_from"],
            status=VersionStatus.DRAFT,
            source_url=data.get("source_url", ""),
            source_kind=data.get("source_kind", "official"),
            checked_on=data.get("checked_on"),
            notes=data.get("notes", ""),
            derived_from=derived_from,
            long_context_threshold=long["threshold"] if long else None,
            long_context_inclusive=bool(long and long["inclusive"]),
            long_context_input_multiplier=long["input_multiplier"] if long else None,
            long_context_output_multiplier=long["output_multiplier"] if long else None,
            tier_multipliers_apply_to_cache=data.get("tier_multipliers_apply_to_cache", True),
            storage_per_mtok_hour=data.get("storage_per_mtok_hour"),
            **{f"{name}_multiplier": data.get("tiers", {}).get(name) for name in TIER_NAMES},
        )
        version.full_clean(exclude=["model", "derived_from"], validate_constraints=False)
        versions.append(version)
    PriceVersion.objects.bulk_create(versions, batch_size=500)
    rates, regions, bands = [], [], []
    for version, (_, data) in zip(versions, items, strict=True):
        long = data.get("long_context")
        rates += [Rate(version=version, meter=m, price=p) for m, p in data["rates"].items()]
        rates += [
            Rate(version=version, meter=m, context="long", price=p)
            for m, p in (long["rates"].items() if long else ())
        ]
        rates += [
            Rate(version=version, meter=m, service_tier=tier, price=p)
            for tier, tier_rates in data.get("tier_rates", {}).items()
            for m, p in tier_rates.items()
        ]
        rates += [Rate(version=version, meter=m, price=p) for m, p in data.get("fees", {}).items()]
        regions += [
            RegionMultiplier(version=version, region=r, multiplier=m)
            for r, m in data.get("regions", {}).items()
        ]
        bands += [
            TimeBand(
                version=version,
                label=b["label"],
                start_minute=b["start"],
                end_minute=b["end"],
                multiplier=b["multiplier"],
                weekdays=",".join(map(str, b["weekdays"])) if b["weekdays"] is not None else "",
            )
            for b in data.get("time_bands", [])
        ]
    Rate.objects.bulk_create(rates, batch_size=500)
    RegionMultiplier.objects.bulk_create(regions, batch_size=500)
    TimeBand.objects.bulk_create(bands, batch_size=500)
    if publish:
        now = timezone.now()
        ids = [v.pk for v in versions]
        for start in range(0, len(ids), 500):
            PriceVersion.objects.filter(pk__in=ids[start : start + 500]).update(
                status=VersionStatus.PUBLISHED, published_at=now
            )
        for version in versions:
            version.status, version.published_at = VersionStatus.PUBLISHED, now
    return versions


def version_validate_for_publish(version: PriceVersion) -> list[str]:
    """Problems that stop a draft from being published (empty list: fine)."""
    problems = []
    meters = {r.meter for r in version.rates.all() if r.context == "base" and not r.service_tier}
    for required in ("input", "output"):
        if required not in meters:
            problems.append(f"rates: a standard {required} price is required")
    long_meters = {r.meter for r in version.rates.all() if r.context == "long"}
    if version.long_context_threshold is None and long_meters:
        problems.append("long_context_threshold: long-context prices need a threshold")
    if (
        version.long_context_threshold is not None
        and not long_meters
        and (
            version.long_context_input_multiplier is None
            and version.long_context_output_multiplier is None
        )
    ):
        problems.append(
            "long_context_threshold: set long-context prices or multipliers, or clear the threshold"
        )
    clash = (
        PriceVersion.objects.filter(
            model_id=version.model_id,
            effective_from=version.effective_from,
            status=VersionStatus.PUBLISHED,
        )
        .exclude(pk=version.pk)
        .exists()
    )
    if clash:
        problems.append(
            f"effective_from: {version.model.slug} already has a published version starting "
            f"{version.effective_from:%Y-%m-%d %H:%M} UTC"
        )
    return problems


@transaction.atomic
def version_publish(*, version: PriceVersion) -> PriceVersion:
    locked = PriceVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status == VersionStatus.PUBLISHED:
        raise CatalogDataError(f"price version {locked.pk} is already published")
    problems = version_validate_for_publish(locked)
    if problems:
        raise CatalogDataError(problems)
    locked.status = VersionStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at"])
    return locked


def version_create_draft_from(
    *, version: PriceVersion, effective_from: datetime | None = None
) -> PriceVersion:
    """A new draft with every price of ``version``; effective from tomorrow 00:00 UTC by default."""
    data = version_to_data(version)
    if effective_from is None:
        tomorrow = timezone.now().astimezone(UTC).date() + timedelta(days=1)
        effective_from = datetime.combine(tomorrow, time(0), tzinfo=UTC)
    data["effective_from"] = effective_from
    data["notes"] = f"Draft started from version {version.pk}."
    return version_create(model=version.model, data=data, derived_from=version)
