"""The comparison: one workload priced on every model under every caching strategy."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.catalog.models import CachePolicy, LanguageModel
from apps.rating.adapter import catalog_generation_key, published_book
from apps.rating.summary import decimal_str

from .conversation import Candidate
from .quick import CachePolicyView, QuickWorkload, StrategyResult, estimate_model

BREAKDOWN = {
    "uncached_input": ("input",),
    "cache_reads": ("cache_read",),
    "cache_writes": (
        "cache_write_5m",
        "cache_write_30m",
        "cache_write_1h",
        "cache_write_12h",
        "cache_write_24h",
    ),
    "output": ("output",),
    "storage": ("cache_storage",),
}


@dataclass(frozen=True, slots=True)
class ModelEstimate:
    provider: str
    model: str
    name: str
    context_window: int | None
    max_output_tokens: int | None
    best: StrategyResult
    strategies: list[StrategyResult]
    requests: int

    def as_dict(self) -> dict[str, Any]:
        per_request = self.best.cost / self.requests if self.requests else Decimal(0)
        return {
            "provider": self.provider,
            "model": self.model,
            "name": self.name,
            "context_window": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "monthly_cost_usd": money(self.best.cost),
            "cost_per_request_usd": money(per_request, places=8),
            "strategy": self.best.name,
            "breakdown": breakdown(self.best),
            "cache_hit_rate": str(self.best.hit_rate),
            "strategies": [
                {
                    "name": s.name,
                    "label": s.label,
                    "monthly_cost_usd": money(s.cost),
                    "cache_hit_rate": str(s.hit_rate),
                    "breakdown": breakdown(s),
                    "keepalive_pings": s.pings,
                    "notes": s.notes,
                }
                for s in self.strategies
                if not s.unpriced
            ],
        }


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(13)}


def money(value: Decimal, places: int = 6) -> str:
    if not value:
        return "0"
    return decimal_str(value.quantize(_QUANTA[places]))


_GROUP_OF = {meter: key for key, meters in BREAKDOWN.items() for meter in meters}


def breakdown(result: StrategyResult) -> dict[str, str]:
    totals = dict.fromkeys(BREAKDOWN, Decimal(0))
    for meter, amount in result.meters.items():
        key = _GROUP_OF.get(meter)
        if key is not None:
            totals[key] += amount
    out = {key: money(total) for key, total in totals.items()}
    out["batch_discount"] = money(-result.batch_savings)
    return out


def policy_views() -> dict[str, CachePolicyView]:
    """Cache policy per model slug: the model's own row, else its provider's."""
    rows = list(CachePolicy.objects.select_related("provider", "model"))
    by_provider = {r.provider.slug: r for r in rows if r.model_id is None}
    by_model = {r.model.slug: r for r in rows if r.model_id is not None}
    views = {}
    for model in LanguageModel.objects.select_related("provider"):
        row = by_model.get(model.slug) or by_provider.get(model.provider.slug)
        views[model.slug] = _view(row)
    return views


def _view(row: CachePolicy | None) -> CachePolicyView:
    if row is None:
        return CachePolicyView(kind="none")
    return CachePolicyView(
        kind=row.kind,
        ttl_options=tuple(row.ttl_options or ()),
        default_ttl=row.default_ttl,
        hit_refreshes_ttl=row.hit_refreshes_ttl,
        min_cacheable_tokens=row.min_cacheable_tokens or 0,
        increment_tokens=row.increment_tokens or 1,
        automatic_hit_rate=row.automatic_hit_rate,
        write_fee=row.write_fee,
    )


_CATALOG_TTL = 60.0  # seconds: cache-policy edits show within a minute; versions at once
_catalog_cache: dict[str, tuple[float, tuple, Any]] = {}


def _catalog_info(key: tuple) -> tuple[dict[str, LanguageModel], dict[str, CachePolicyView]]:
    """Models and cache policies, read once per catalog generation (and at most a minute old)."""
    hit = _catalog_cache.get("info")
    now = time.monotonic()
    if hit and hit[1] == key and now - hit[0] < _CATALOG_TTL:
        return hit[2]
    value = ({m.slug: m for m in LanguageModel.objects.select_related("provider")}, policy_views())
    _catalog_cache["info"] = (now, key, value)
    return value


def candidates(
    models: Iterable[str] | None = None, when: datetime | None = None
) -> tuple[list[Candidate], list[str]]:
    """Every model with a price at ``when`` (or the given ids/aliases); also the ids not found."""
    when = when or timezone.now()
    key = catalog_generation_key()
    book = published_book(key)
    wanted: list[str] | None = None
    unknown: list[str] = []
    if models:
        wanted = []
        for raw in models:
            slug = book.resolve(raw)
            (wanted.append(slug) if slug else unknown.append(raw))
    info, views = _catalog_info(key)
    out = []
    for slug in wanted if wanted is not None else book.models():
        sheet = book.sheet_at(slug, when)
        if sheet is None or slug not in info:
            continue
        m = info[slug]
        policy = views.get(slug, CachePolicyView("none"))
        out.append(Candidate(sheet, policy, m.name, m.context_window, m.max_output_tokens))
    return out, unknown


def estimate(
    workload: QuickWorkload, *, models: Iterable[str] | None = None, when: datetime | None = None
) -> tuple[list[ModelEstimate], list[str]]:
    """Every model (or the given ids/aliases) with a price now; also the ids not found."""
    workload.validate()
    when = when or timezone.now()
    found, unknown = candidates(models, when)
    out = []
    for c in found:
        priced = [r for r in estimate_model(c.sheet, c.policy, workload, when) if not r.unpriced]
        if not priced:
            continue
        best = min(priced, key=lambda r: (r.cost, r.name != "none"))
        out.append(ModelEstimate(c.sheet.provider, c.sheet.model, c.name, c.context_window,
                                 c.max_output_tokens, best, priced, workload.requests_per_month))  # fmt: skip
    out.sort(key=lambda e: (e.best.cost, e.model))
    return out, unknown
