"""Where the charts sample their curves, and where the cheapest curve changes (pure).

The cost-vs-volume chart prices ten volumes around the workload's; the cache-TTL chart
prices a grid of gaps and locates each break-even (the gap where the cheapest strategy
changes) by bisection. ``cheapest`` ignores differences smaller than a cent, so a
break-even always saves something worth a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

# Cost vs volume: ten volumes from 1% to 1000% of the workload's, evenly spaced on a log axis.
VOLUME_FACTORS = tuple(10 ** (-2 + 3 * k / 9) for k in range(10))
# The TTL chart's gap axis: 5 seconds to 4 hours.
GAP_MIN_SECONDS, GAP_MAX_SECONDS, GAP_POINTS = 5.0, 4 * 3600.0, 48
# Two strategies closer than this are a tie, and the simpler one (earlier in the provider's
# list, "none" first) wins: sub-cent differences come from rounding expected counts to whole
# requests, and would otherwise draw break-evens that save nothing worth a sentence.
TIE_USD = Decimal("0.01")
TIE_RELATIVE = Decimal("0.0001")


@dataclass(frozen=True)
class BreakEven:
    """The gap at which the cheapest strategy changes from ``before`` to ``after``."""

    gap_seconds: float
    before: str
    after: str


def log_grid(low: float, high: float, points: int) -> list[float]:
    """``points`` values from ``low`` to ``high``, evenly spaced on a log axis."""
    if points < 2:
        return [low]
    step = math.log(high / low) / (points - 1)
    return [low * math.exp(step * k) for k in range(points)]


def volume_steps(requests_per_month: int) -> list[int]:
    """The request volumes of the cost-vs-volume chart (whole requests, at least 1, distinct)."""
    out: list[int] = []
    for factor in VOLUME_FACTORS:
        n = max(1, round(requests_per_month * factor))
        if n not in out:
            out.append(n)
    return out


def cheapest(costs: Mapping[str, Decimal]) -> str:
    """The cheapest strategy, where a later one must beat an earlier one by more than a tie."""
    low = min(costs.values())
    tie = max(TIE_USD, abs(low) * TIE_RELATIVE)
    return next(name for name, cost in costs.items() if cost - low <= tie)


def find_break_evens(
    winner: Callable[[float], str],
    grid: Sequence[float],
    *,
    relative_precision: float = 1e-3,
) -> list[BreakEven]:
    """Where ``winner(gap)`` changes along ``grid``, each located by bisection on a log scale.

    A change and its reversal between two neighbouring grid points go unseen; the grid is
    fine enough (48 points over 5 s to 4 h, about 19% apart) that the closed-form curves
    of ``estimate.quick`` do not do that.
    """
    found: list[BreakEven] = []
    names = [winner(g) for g in grid]
    for k in range(len(grid) - 1):
        if names[k] == names[k + 1]:
            continue
        low, high = grid[k], grid[k + 1]
        while high / low > 1 + relative_precision:
            middle = math.sqrt(low * high)
            if winner(middle) == names[k]:
                low = middle
            else:
                high = middle
        found.append(BreakEven(math.sqrt(low * high), names[k], names[k + 1]))
    return found
