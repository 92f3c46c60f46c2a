"""Plan or API at a monthly volume: the break-even volume and where the plan stops covering.

Pure and exact. With the API costing ``c`` dollars per request, a month of ``v`` requests
costs ``v x c`` on the API. A plan costs its price ``P`` while that usage stays within its
capacity ``C`` (API-equivalent dollars a month, a low / mid / high estimate):

* break-even volume ``P / c``: below it the API is cheaper; at it both cost the same and
  the API wins (no commitment);
* the plan stops covering at ``C / c`` requests a month;
* the verdict at a volume: "over_limit" past the capacity, else "plan" past the break-even,
  else "api". It uses the mid estimate; ``verdicts`` gives it at every estimate.

A plan whose price is above its capacity is never the cheaper way within its limit. An
unknown capacity (None) never makes a verdict "over_limit": ``capacity_known`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from apps.rating.engine import MONEY_CONTEXT

LEVELS: Final = ("low", "mid", "high")


@dataclass(frozen=True, slots=True)
class Capacity:
    """A plan's monthly capacity in API-equivalent dollars (None: unknown)."""

    low: Decimal | None = None
    mid: Decimal | None = None
    high: Decimal | None = None

    def at(self, level: str) -> Decimal | None:
        value: Decimal | None = getattr(self, level)
        return value


@dataclass(frozen=True, slots=True)
class BreakEven:
    breakeven_volume: Decimal | None  # None: the API is free, so a plan never pays off
    covers_until: dict[str, Decimal | None]  # volume where the plan stops covering, per level
    plan_can_win: dict[str, bool | None]  # whether break-even comes before the limit
    verdict: str | None  # at ``volume``, mid estimate; None when no volume was given
    verdicts: dict[str, str | None]
    capacity_known: bool


def _verdict(cost: Decimal, price: Decimal, capacity: Decimal | None) -> str:
    if capacity is not None and cost > capacity:
        return "over_limit"
    return "plan" if cost > price else "api"


def breakeven(
    cost_per_request: Decimal,
    plan_price: Decimal,
    capacity: Capacity,
    volume: Decimal | int | None = None,
) -> BreakEven:
    if cost_per_request < 0 or plan_price < 0:
        raise ValueError("cost_per_request and plan_price must not be negative")
    ctx = MONEY_CONTEXT
    free = cost_per_request == 0
    even = None if free else ctx.divide(plan_price, cost_per_request)
    covers: dict[str, Decimal | None] = {}
    can_win: dict[str, bool | None] = {}
    for level in LEVELS:
        cap = capacity.at(level)
        covers[level] = None if cap is None or free else ctx.divide(cap, cost_per_request)
        can_win[level] = None if cap is None else (not free and cap > plan_price)
    verdicts: dict[str, str | None] = dict.fromkeys(LEVELS)
    verdict = None
    if volume is not None:
        cost = ctx.multiply(Decimal(volume), cost_per_request)
        verdicts = {level: _verdict(cost, plan_price, capacity.at(level)) for level in LEVELS}
        verdict = verdicts["mid"]
    return BreakEven(
        breakeven_volume=even,
        covers_until=covers,
        plan_can_win=can_win,
        verdict=verdict,
        verdicts=verdicts,
        capacity_known=any(capacity.at(level) is not None for level in LEVELS),
    )
