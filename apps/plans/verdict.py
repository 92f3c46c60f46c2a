"""What a usage history costs on each plan and on the API, month by month, and the cheapest.

Pure. The rules (docs/plans.md, "The verdict"):

* A plan is considered only when it covers every model family of the history; each of its
  windows counts only the usage of the harnesses it applies to.
* A window's capacity is what the plan version in effect at the window's start says; a
  month's price is the version in effect at the month's first request: monthly billing,
  at the minimum number of seats.
* A 5-hour session, a week or a month whose API-equivalent cost is above the capacity
  "hits the limit" at that estimate. Judged once (the "mid" verdict): against the mid
  estimate, or, without one, it fits when under every estimate and hits when over every
  one; in between, or with no dollar capacity at all, it is unknown.
* A monthly pool billed at API rates past its size costs the excess as overage; any other
  pool hits its limit when the month's usage is larger.
* The cheapest way is the lowest total (at the mid estimate) among the API and the plans
  that fit every month with every limit known; a tie goes to the API (no commitment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from apps.rating.engine import MONEY_CONTEXT, ZERO

from .terms import LEVELS, UNITS, WINDOW_KINDS, PlanHistory, PlanTerms, WindowTerms
from .windows import Window, month_of

STATUS_TEXT: Final = {
    "fits": "fits every limit",
    "partial": "fits the known limits; some capacity unknown",
    "hits": "hits the limit",
    "unknown": "unknown capacity",
    "unavailable": "no terms for part of the history",
}
_RANK: Final = {"fits": 0, "partial": 1, "unknown": 2, "hits": 3, "unavailable": 4}

Levels = dict[str, Decimal | None]


def capacities(terms: WindowTerms) -> Levels:
    return {level: terms.usd(level) for level in LEVELS}


def shares(cost: Decimal, capacity: Levels) -> Levels:
    """The share of each capacity estimate that ``cost`` uses (None: unknown or zero size)."""
    return {
        level: MONEY_CONTEXT.divide(cost, cap) if cap else None for level, cap in capacity.items()
    }


def judge(cost: Decimal, capacity: Levels) -> str:
    """ "fits", "hits" or "unknown" at the mid estimate (or beyond every estimate)."""
    mid = capacity.get("mid")
    if mid is not None:
        return "hits" if cost > mid else "fits"
    known = [c for c in capacity.values() if c is not None]
    if not known:
        return "unknown"
    if cost <= min(known):
        return "fits"
    if cost > max(known):
        return "hits"
    return "unknown"


def window_name(terms: WindowTerms) -> str:
    name = terms.label or WINDOW_KINDS.get(terms.kind, terms.kind)
    return name if terms.unit == "usd" else f"{name} (in {UNITS.get(terms.unit, terms.unit)})"


@dataclass(frozen=True, slots=True)
class Fit:
    """One window of the history against one limit of a plan."""

    start: datetime
    kind: str
    name: str
    cost: Decimal
    capacity: Levels
    share: Levels
    verdict: str


def fit(window_start: datetime, cost: Decimal, terms: WindowTerms) -> Fit:
    cap = capacities(terms)
    return Fit(window_start, terms.kind, window_name(terms), cost, cap, shares(cost, cap),
               judge(cost, cap))  # fmt: skip


@dataclass(slots=True)
class PlanMonth:
    month: date
    terms: PlanTerms | None
    price: Decimal = ZERO
    overage: Levels = field(default_factory=lambda: dict.fromkeys(LEVELS, ZERO))
    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    mid_hits: int = 0
    unknown: set[str] = field(default_factory=set)
    known: int = 0
    fits: list[Fit] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.terms is None:
            return "unavailable"
        if self.mid_hits:
            return "hits"
        if self.unknown:
            return "partial" if self.known else "unknown"
        return "fits" if self.known else "unknown"

    def total(self, level: str) -> Decimal | None:
        overage = self.overage[level]
        return None if overage is None else MONEY_CONTEXT.add(self.price, overage)

    def count(self, item: Fit) -> None:
        self.fits.append(item)
        if item.verdict == "unknown":
            self.unknown.add(item.name)
        else:
            self.known += 1
        if item.verdict == "hits":
            self.mid_hits += 1
        for level in LEVELS:
            cap = item.capacity[level]
            if cap is not None and item.cost > cap:
                self.hits[level] += 1


@dataclass(slots=True)
class PlanVerdict:
    plan: str
    name: str
    vendor: str
    months: list[PlanMonth]
    sessions: list[Fit]  # each 5-hour session against the plan's 5-hour limit

    @property
    def status(self) -> str:
        return max((m.status for m in self.months), key=_RANK.__getitem__, default="unknown")

    @property
    def eligible(self) -> bool:
        return self.status == "fits"

    def total(self, level: str) -> Decimal | None:
        total = ZERO
        for month in self.months:
            value = month.total(level)
            if value is None:
                return None
            total = MONEY_CONTEXT.add(total, value)
        return total

    def hits(self, level: str) -> int:
        return sum(m.hits[level] for m in self.months)

    @property
    def mid_hits(self) -> int:
        return sum(m.mid_hits for m in self.months)

    @property
    def unknown(self) -> list[str]:
        return sorted({name for m in self.months for name in m.unknown})


def _in_month(windows: Sequence[Window], month: date) -> list[Window]:
    return [w for w in windows if month_of(w) == month]


def _pool(month: PlanMonth, window: Window, terms: PlanTerms, pool: WindowTerms) -> None:
    """A monthly pool: overage at API rates past its size, or a hit when nothing is billed."""
    cap = capacities(pool)
    if terms.overage_kind == "api_rates" and pool.unit == "usd":
        for level in LEVELS:
            size, before = cap[level], month.overage[level]
            excess = None if size is None else max(ZERO, MONEY_CONTEXT.subtract(window.cost, size))
            month.overage[level] = (
                None if excess is None or before is None else MONEY_CONTEXT.add(before, excess)
            )
        if cap["mid"] is None:
            month.unknown.add(window_name(pool))
        else:
            month.known += 1
        return
    if terms.overage_kind == "per_unit" and not pool.dollars_known:
        # usage past the pool is billed, but in a unit the logs do not count
        month.overage = dict.fromkeys(LEVELS, None)
        month.unknown.add(window_name(pool))
        return
    month.count(fit(window.start, window.cost, pool))


def plan_month(
    history: PlanHistory,
    month: Window,
    sessions: Sequence[Window],
    weeks: Sequence[Window],
    harness: str,
) -> PlanMonth:
    first = month.first or month.start
    terms = history.at(first)
    result = PlanMonth(month=month_of(month), terms=terms)
    if terms is None:
        result.overage = dict.fromkeys(LEVELS, None)
        return result
    result.price = terms.monthly_bill
    for kind, windows in (("session_5h", sessions), ("weekly", weeks)):
        for window in _in_month(windows, result.month):
            at_start = history.at(window.first or window.start)
            if at_start is None:
                result.unknown.add(f"{WINDOW_KINDS[kind]} before the first version")
                continue
            for limit in at_start.windows_of(kind, harness):
                result.count(fit(window.start, window.cost, limit))
    for limit in terms.windows_of("monthly", harness):
        result.count(fit(month.start, month.cost, limit))
    for pool in terms.windows_of("monthly_pool", harness):
        _pool(result, month, terms, pool)
    return result


def plan_verdict(
    history: PlanHistory,
    *,
    months: Sequence[Window],
    sessions: Sequence[Window],
    weeks: Sequence[Window],
    harness: str,
) -> PlanVerdict:
    rows = [plan_month(history, m, sessions, weeks, harness) for m in months]
    session_fits = [f for m in rows for f in m.fits if f.kind == "session_5h"]
    return PlanVerdict(history.plan, history.name, history.vendor, rows, session_fits)


def applicable(histories: Sequence[PlanHistory], families: set[str]) -> list[PlanHistory]:
    """Plans whose latest version covers every model family of the history."""
    return [h for h in histories if h.versions and h.versions[-1].covers(families)]


@dataclass(frozen=True, slots=True)
class Option:
    """One way to buy the history: the API or a plan, with its total at the mid estimate."""

    key: str  # "api" or a plan slug
    name: str
    total: Decimal


def cheapest(api_total: Decimal, verdicts: Sequence[PlanVerdict]) -> tuple[Option, list[Option]]:
    """The cheapest option and every eligible one, cheapest first (the API wins a tie)."""
    options = [Option("api", "API at list prices", api_total)]
    for verdict in verdicts:
        total = verdict.total("mid")
        if verdict.eligible and total is not None:
            options.append(Option(verdict.plan, verdict.name, total))
    ranked = sorted(options, key=lambda o: (o.total, o.key != "api"))
    return ranked[0], ranked
