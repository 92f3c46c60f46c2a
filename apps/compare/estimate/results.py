"""What an estimate returns: candidates, each strategy's bill, each model's best, as JSON.

Pure Python. A ``Candidate`` is one model to price (its price sheet at the date and its
cache policy); pricing it gives one ``StrategyResult`` per caching strategy, and
``model_estimates`` keeps each model's best by the one rule of ``best_strategy``. Money
is ``Decimal`` throughout; ``money`` writes it for JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from apps.common.display import plain_decimal
from apps.rating.engine import ZERO, PriceSheet

from .policy import CachePolicyView

# The bill's parts: key -> the meters it adds up. Per-call fees are in no part.
BREAKDOWN: Final = {
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
_GROUP_OF: Final = {meter: key for key, meters in BREAKDOWN.items() for meter in meters}
_QUANTA: Final = {places: Decimal(1).scaleb(-places) for places in range(13)}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One model to price: its sheet at the date, its cache policy, and what the page shows."""

    sheet: PriceSheet
    policy: CachePolicyView
    name: str = ""
    context_window: int | None = None
    max_output_tokens: int | None = None


@dataclass(slots=True)
class StrategyResult:
    """One model's bill for the workload under one caching strategy."""

    name: str
    label: str
    cost: Decimal = ZERO
    meters: dict[str, Decimal] = field(default_factory=dict)
    prompt_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    hits: int = 0
    pings: int = 0
    batch_savings: Decimal = ZERO
    unpriced: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def hit_rate(self) -> Decimal:
        if not self.prompt_tokens:
            return ZERO
        return (Decimal(self.cache_read_tokens) / Decimal(self.prompt_tokens)).quantize(
            Decimal("0.0001")
        )


@dataclass(frozen=True, slots=True)
class ModelEstimate:
    """One model's best strategy for the workload, with every strategy that could be priced."""

    provider: str
    model: str
    name: str
    context_window: int | None
    max_output_tokens: int | None
    best: StrategyResult
    strategies: list[StrategyResult]
    requests: int

    def as_dict(self) -> dict[str, Any]:
        """The estimate API's JSON of one model."""
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


def conversation_dict(estimate: ModelEstimate) -> dict[str, Any]:
    """``ModelEstimate.as_dict()`` plus the token counts of each strategy (replayed bills)."""
    data = estimate.as_dict()
    by_name = {s.name: s for s in estimate.strategies}
    for item in data["strategies"]:
        s = by_name[item["name"]]
        item["tokens"] = {
            "prompt": s.prompt_tokens,
            "cache_read": s.cache_read_tokens,
            "cache_write": s.cache_write_tokens,
            "uncached": s.prompt_tokens - s.cache_read_tokens - s.cache_write_tokens,
            "requests_with_hits": s.hits,
        }
    return data


def money(value: Decimal, places: int = 6) -> str:
    """Dollars for JSON: rounded to ``places`` decimals, plain notation, no trailing zeros."""
    if not value:
        return "0"
    return plain_decimal(value.quantize(_QUANTA[places]))


def breakdown(result: StrategyResult) -> dict[str, str]:
    """The bill's parts (``BREAKDOWN``) and the batch discount, as JSON money."""
    totals = dict.fromkeys(BREAKDOWN, Decimal(0))
    for meter, amount in result.meters.items():
        key = _GROUP_OF.get(meter)
        if key is not None:
            totals[key] += amount
    out = {key: money(total) for key, total in totals.items()}
    out["batch_discount"] = money(-result.batch_savings)
    return out


def best_strategy(results: Iterable[StrategyResult]) -> StrategyResult | None:
    """The strategy a model is shown with: the cheapest priced one, "none" on a tie."""
    priced = [r for r in results if not r.unpriced]
    if not priced:
        return None
    return min(priced, key=lambda r: (r.cost, r.name != "none"))


def cheapest_caching(costs: Mapping[str, Decimal]) -> str:
    """The cheapest strategy that caches (ties by name); "none" when there is none."""
    caching = [name for name in costs if name != "none"]
    return min(caching, key=lambda name: (costs[name], name)) if caching else "none"


def model_estimates(
    priced: Iterable[tuple[Candidate, Sequence[StrategyResult]]], requests: int
) -> list[ModelEstimate]:
    """Each candidate's best strategy, cheapest model first (ties by model id).

    Strategies that could not be priced are left out; a model with none priced is too.
    """
    out = []
    for candidate, results in priced:
        kept = [r for r in results if not r.unpriced]
        best = best_strategy(kept)
        if best is None:
            continue
        sheet = candidate.sheet
        out.append(ModelEstimate(sheet.provider, sheet.model, candidate.name or sheet.model,
                                 candidate.context_window, candidate.max_output_tokens, best,
                                 kept, requests))  # fmt: skip
    out.sort(key=lambda e: (e.best.cost, e.model))
    return out
