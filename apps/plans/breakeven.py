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

For a described workload (requests spread evenly over a 30-day month), ``monthly_capacity``
turns a plan's windows into one monthly capacity and ``plan_choice`` judges the month on
each plan; ``imported_choice`` judges an imported log by its real windows (docs/plans.md,
"Break-even").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from apps.rating.engine import MONEY_CONTEXT, ZERO

from .terms import FAMILY_LABELS, LEVELS, PlanTerms, WindowTerms
from .verdict import PlanVerdict, window_name

# A described month is 30 days of evenly spread requests: 720 hours, so a rolling 5-hour
# window sees 5/720 of it (144 windows a month) and a week 7/30 of it.
SESSIONS_PER_MONTH: Final = Decimal(144)
MONTH_DAYS: Final = Decimal(30)
WEEK_DAYS: Final = Decimal(7)
VERDICTS: Final = ("plan", "api", "over_limit")


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


# --------------------------------------------------------------------------- monthly capacity


def window_monthly_usd(window: WindowTerms, level: str) -> Decimal | None:
    """The month's API-equivalent cost this window lets through at ``level`` (None: unknown).

    A 5-hour window of ``C`` dollars holds a month of ``144 x C``; a weekly cap ``W`` one of
    ``W x 30 / 7``; a monthly pool or a monthly estimate ``P`` one of ``P``.
    """
    size = window.usd(level)
    if size is None:
        return None
    ctx = MONEY_CONTEXT
    if window.kind == "session_5h":
        return ctx.multiply(size, SESSIONS_PER_MONTH)
    if window.kind == "weekly":
        return ctx.divide(ctx.multiply(size, MONTH_DAYS), WEEK_DAYS)
    if window.kind in ("monthly_pool", "monthly"):
        return size
    return None


@dataclass(frozen=True, slots=True)
class MonthlyCapacity:
    """A plan's monthly capacity for evenly spread usage, and the windows of unknown size."""

    capacity: Capacity
    unknown_windows: tuple[str, ...] = ()  # no dollar size: the plan may stop sooner

    @property
    def known(self) -> bool:
        return any(self.capacity.at(level) is not None for level in LEVELS)


def monthly_capacity(terms: PlanTerms, harness: str = "") -> MonthlyCapacity:
    """The lowest monthly capacity over the plan's windows, at each estimate separately.

    Only windows that count usage through ``harness`` ("" for a described workload: the
    windows of every harness, none scoped to one app). A window with no dollar size at all
    (a capacity in prompts or messages) gives no number and is named in
    ``unknown_windows``; a window with a dollar size at some estimates but not at this one
    leaves this estimate unknown, as its size there could be the smallest.
    """
    counted = [w for w in terms.windows if w.applies_to(harness)]
    sized = [w for w in counted if w.dollars_known]
    levels: dict[str, Decimal | None] = {}
    for level in LEVELS:
        values = [window_monthly_usd(w, level) for w in sized]
        known = [v for v in values if v is not None]
        levels[level] = min(known) if known and len(known) == len(values) else None
    unknown = tuple(dict.fromkeys(window_name(w) for w in counted if not w.dollars_known))
    return MonthlyCapacity(Capacity(**levels), unknown)


def month_verdict(api_cost: Decimal, price: Decimal, capacity: Capacity) -> str:
    """ "over_limit" past the mid capacity, else "plan" when the price is below the API's
    month, else "api" (a tie is the API: no commitment).

    Without a mid estimate the month is over the limit only past every known estimate (as
    ``verdict.judge``); with no dollar capacity at all, only the prices are compared.
    """
    known = [v for v in (capacity.at(level) for level in LEVELS) if v is not None]
    mid = capacity.mid
    over = api_cost > mid if mid is not None else bool(known) and api_cost > max(known)
    if over:
        return "over_limit"
    return "plan" if api_cost > price else "api"


def capacity_note(capacity: MonthlyCapacity) -> str:
    """What the verdict could not know about the plan's capacity ("" when nothing)."""
    if not capacity.known:
        return "unknown capacity (no dollar size is published): prices only"
    unknown = ", ".join(capacity.unknown_windows)
    if capacity.capacity.mid is None:
        return "no mid estimate: over the limit only past every known one"
    if unknown:
        return f"unknown capacity of {unknown}: the plan may stop sooner"
    return ""


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """One plan against the API for a month of usage of one model."""

    plan: str
    name: str
    vendor: str
    price: Decimal  # what a month costs: monthly billing at the minimum seats
    seats: int
    covers_model: bool
    capacity: MonthlyCapacity
    result: BreakEven  # per request
    verdict: str
    note: str = ""
    hits: dict[str, int] | None = None  # imported logs: windows over each estimate
    families: tuple[str, ...] = ()  # the model families the plan covers
    overage: str = "none"  # what happens past the limit (``terms.OVERAGE_KINDS``)


def _family_note(family: str | None) -> str:
    label = FAMILY_LABELS.get(family or "", family or "these")
    return f"does not cover {label} models: the API is the only way"


def plan_choice(
    terms: PlanTerms,
    *,
    family: str | None,
    api_cost: Decimal,
    cost_per_request: Decimal,
    harness: str = "",
) -> PlanChoice:
    """A described month (evenly spread) on one plan: capacity, break-even and verdict."""
    capacity = monthly_capacity(terms, harness)
    price = terms.monthly_bill
    covers = family is not None and terms.covers([family])
    result = breakeven(cost_per_request, price, capacity.capacity)
    if not covers:
        verdict, note = "api", _family_note(family)
    else:
        verdict, note = month_verdict(api_cost, price, capacity.capacity), capacity_note(capacity)
    return PlanChoice(terms.plan, terms.name, terms.vendor, price, terms.seats, covers,
                      capacity, result, verdict, note, families=terms.families,
                      overage=terms.overage_kind)  # fmt: skip


def imported_choice(
    terms: PlanTerms,
    judged: PlanVerdict | None,
    *,
    api_monthly_cost: Decimal,
    cost_per_request: Decimal,
    harness: str,
) -> PlanChoice:
    """An imported log on one plan, judged by its real windows (``verdict.plan_verdict``).

    ``judged`` None: the plan does not cover every model family of the log. Over the limit
    when any session, week or month went past the mid estimate, or past a pool billed at
    API rates; else the prices of today's version against the log's mean month.
    """
    capacity = monthly_capacity(terms, harness)
    price = terms.monthly_bill
    result = breakeven(cost_per_request, price, capacity.capacity)
    if judged is None:
        return PlanChoice(terms.plan, terms.name, terms.vendor, price, terms.seats, False,
                          capacity, result, "api", "does not cover every model of the log",
                          families=terms.families, overage=terms.overage_kind)  # fmt: skip
    over_pool = any((m.overage["mid"] or ZERO) > 0 for m in judged.months)
    if judged.mid_hits or over_pool:
        verdict = "over_limit"
    else:
        verdict = "plan" if api_monthly_cost > price else "api"
    status = judged.status
    note = ""
    if status in ("unknown", "partial"):
        unknown = ", ".join(judged.unknown) or "its limits"
        note = f"unknown capacity of {unknown}: judged on the known limits and the prices"
    elif status == "unavailable":
        note = "no terms for part of the log"
    hits = {level: judged.hits(level) for level in LEVELS}
    return PlanChoice(terms.plan, terms.name, terms.vendor, price, terms.seats, True,
                      capacity, result, verdict, note, hits, terms.families,
                      terms.overage_kind)  # fmt: skip
