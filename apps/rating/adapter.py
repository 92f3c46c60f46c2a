"""The ORM side of the engine: price sheets and a price book from the catalog tables.

The book is cached per process and rebuilt when the catalog's published set changes
(a cheap aggregate query tells), so every page and import prices against current data.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.db.models import Count, Max

from apps.catalog.models import ModelAlias, PriceVersion, VersionStatus

from .book import PriceBook
from .engine import LongContextTier, PriceSheet, TimeBand

_TIERS = ("batch", "flex", "priority", "fast")
_lock = threading.Lock()
_cache: dict[str, tuple[tuple, PriceBook]] = {}


def sheet_from_version(version: PriceVersion) -> PriceSheet:
    """A PriceSheet from a version whose rates, regions and bands are prefetched."""
    rates, long_rates, tier_rates, fees = version.split_rates()
    long = None
    if version.long_context_threshold:
        long = LongContextTier(
            threshold=version.long_context_threshold,
            inclusive=version.long_context_inclusive,
            rates=long_rates,
            input_multiplier=version.long_context_input_multiplier,
            output_multiplier=version.long_context_output_multiplier,
        )
    multipliers = {
        tier: getattr(version, f"{tier}_multiplier")
        for tier in _TIERS
        if getattr(version, f"{tier}_multiplier") is not None
    }
    bands = tuple(
        TimeBand(
            start_minute=b.start_minute,
            end_minute=b.end_minute,
            multiplier=b.multiplier,
            label=b.label,
            weekdays=frozenset(int(d) for d in b.weekdays.split(",")) if b.weekdays else None,
        )
        for b in sorted(version.time_bands.all(), key=lambda b: b.start_minute)
    )
    return PriceSheet(
        version_id=str(version.pk),
        provider=version.model.provider.slug,
        model=version.model.slug,
        effective_from=version.effective_from,
        rates=rates,
        long_context=long,
        tier_multipliers=multipliers,
        tier_rates=tier_rates,
        tiers_exempting_cache=frozenset()
        if version.tier_multipliers_apply_to_cache
        else frozenset(_TIERS),
        region_multipliers={
            r.region.lower(): r.multiplier for r in version.region_multipliers.all()
        },
        time_bands=bands,
        call_fees=fees,
        storage_per_mtok_hour=version.storage_per_mtok_hour,
    )


def versions_queryset(include_drafts: bool = False):
    qs = PriceVersion.objects.select_related("model__provider").prefetch_related(
        "rates", "region_multipliers", "time_bands"
    )
    return qs if include_drafts else qs.filter(status=VersionStatus.PUBLISHED)


def build_book(versions: Iterable[PriceVersion]) -> PriceBook:
    aliases = dict(ModelAlias.objects.values_list("alias", "model__slug"))
    return PriceBook.build((sheet_from_version(v) for v in versions), aliases)


def catalog_generation_key() -> tuple:
    """What changes whenever a version is published or an alias added (two cheap queries)."""
    stats = PriceVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), last=Max("published_at"), top=Max("id")
    )
    alias_stats = ModelAlias.objects.aggregate(n=Count("id"), top=Max("id"))
    return (stats["n"], stats["last"], stats["top"], alias_stats["n"], alias_stats["top"])


def published_book(key: tuple | None = None) -> PriceBook:
    """The price book of every published version, cached until the catalog changes.

    ``key`` is a ``catalog_generation_key()`` the caller already read in this request.
    """
    key = catalog_generation_key() if key is None else key
    with _lock:
        cached = _cache.get("published")
        if cached is not None and cached[0] == key:
            return cached[1]
    book = build_book(versions_queryset())
    with _lock:
        _cache["published"] = (key, book)
    return book


def book_with_version(version: PriceVersion) -> PriceBook:
    """The published book plus one (possibly draft) version, for previews and --version."""
    book = published_book()
    sheets = [s for items in book.sheets.values() for s in items]
    version = versions_queryset(include_drafts=True).get(pk=version.pk)
    if version.status != VersionStatus.PUBLISHED:
        sheets.append(sheet_from_version(version))
    return PriceBook.build(sheets, dict(book.aliases))
