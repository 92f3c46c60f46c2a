"""The ORM side of the engine: price sheets, a price book, and the one catalog-generation cache.

``catalog_generation()`` reads the published catalog's state (two cheap aggregate queries:
published versions and aliases). Everything derived from the catalog is cached under that
generation, so publishing a version or adding an alias shows on the next request:

* ``Generation.local(name, build)``: objects kept per process until the generation changes
  (the price book of ``published_book``; the comparison's models and cache policies, which
  also pass ``max_age`` because editing a cache policy or a model's name changes no
  generation);
* ``Generation.shared(kind, parts, compute)``: results in Django's cache, shared by every
  process (the comparison's rows and charts), kept ``SHARED_SECONDS`` because they are
  priced at the time they were computed: a scheduled version that comes into effect shows
  within that time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.core.cache import cache
from django.db.models import Count, Max

from apps.catalog.models import ModelAlias, PriceVersion, VersionStatus

from .book import PriceBook
from .engine import LongContextTier, PriceSheet, TimeBand

_TIERS = ("batch", "flex", "priority", "fast")
SHARED_SECONDS = 5 * 60
_lock = threading.Lock()
# name -> (generation key, monotonic time built, value)
_local: dict[str, tuple[tuple[Any, ...], float, Any]] = {}


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


@dataclass(frozen=True, slots=True)
class Generation:
    """The published catalog's state, read once per request: it keys what is derived from it."""

    key: tuple[Any, ...]

    @property
    def digest(self) -> str:
        """A short digest of the key, for cache keys."""
        return hashlib.sha256(repr(self.key).encode()).hexdigest()[:16]

    def local[T](self, name: str, build: Callable[[], T], *, max_age: float | None = None) -> T:
        """``build()``, kept in this process until the generation changes (or ``max_age`` s)."""
        now = time.monotonic()
        with _lock:
            hit = _local.get(name)
        if hit is not None and hit[0] == self.key and (max_age is None or now - hit[1] < max_age):
            return cast(T, hit[2])
        value = build()
        with _lock:
            _local[name] = (self.key, now, value)
        return value

    def shared[T](
        self,
        kind: str,
        parts: tuple[Any, ...],
        compute: Callable[[], T],
        *,
        seconds: int = SHARED_SECONDS,
    ) -> T:
        """``compute()`` for these ``parts``, kept in Django's cache under this generation."""
        digest = hashlib.sha256(repr((self.digest, *parts)).encode()).hexdigest()
        key = f"catalog:{kind}:{digest}"
        found = cache.get(key)
        if found is None:
            found = compute()
            cache.set(key, found, seconds)
        return cast(T, found)


def catalog_generation() -> Generation:
    """What changes whenever a version is published or an alias added (two cheap queries)."""
    stats = PriceVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), last=Max("published_at"), top=Max("id")
    )
    alias_stats = ModelAlias.objects.aggregate(n=Count("id"), top=Max("id"))
    return Generation(
        (stats["n"], stats["last"], stats["top"], alias_stats["n"], alias_stats["top"])
    )


def published_book(generation: Generation | None = None) -> PriceBook:
    """The price book of every published version, cached until the catalog changes.

    ``generation`` is a ``catalog_generation()`` the caller already read in this request.
    """
    generation = catalog_generation() if generation is None else generation
    return generation.local("published-book", lambda: build_book(versions_queryset()))


def book_with_version(version: PriceVersion) -> PriceBook:
    """The published book plus one (possibly draft) version, for previews and --version."""
    book = published_book()
    sheets = [s for items in book.sheets.values() for s in items]
    version = versions_queryset(include_drafts=True).get(pk=version.pk)
    if version.status != VersionStatus.PUBLISHED:
        sheets.append(sheet_from_version(version))
    return PriceBook.build(sheets, dict(book.aliases))
