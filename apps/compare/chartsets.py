"""The charts of the comparison pages and the words around them, for the filtered rows.

A ``ChartSet`` is what the page draws below the table: general charts in order, then the
chosen model's detail (the quick form's cache-TTL chart, or the conversation form's
context strategies from ``conversation_charts``). The quick form's curves are priced with
``estimate.quick.estimate_model`` on candidates read once; chart sets are cached like the
rows (``Generation.shared``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from apps.common.display import DASH, usd
from apps.rating.adapter import Generation

from . import charts, curves
from .charts import Chart, CostBar, Series
from .curves import BreakEven
from .display import LogsCost, human_gap, strategy_short_label
from .estimate.quick import QuickWorkload, estimate_model
from .estimate.results import Candidate, StrategyResult, best_strategy, cheapest_caching
from .rows import CACHE_VERSION, Row, cheapest_first
from .sources import candidates


@dataclass(frozen=True)
class TtlDetail:
    """What the page says under the TTL chart for the chosen model."""

    model: str
    name: str
    gap: str
    offers_caching: bool
    cheapest_label: str
    cheapest_cost: str
    ties: tuple[str, ...]
    lost: str
    ideal_label: str
    ideal_cost: str
    break_evens: tuple[tuple[str, str, str], ...]  # (gap, from label, to label)
    notes: tuple[str, ...] = ()  # why caching changes nothing (prefix under the minimum...)


@dataclass(frozen=True)
class ContextCost:
    """One model's month under one context strategy, everything else as in the form."""

    strategy: str
    label: str
    current: bool
    best_label: str = ""
    cost: Decimal | None = None
    uncached: Decimal | None = None
    requests: int = 0
    notes: tuple[str, ...] = ()
    error: str = ""  # why this strategy cannot run with the form's parameters

    @property
    def cost_display(self) -> str:
        return usd(self.cost)

    @property
    def requests_display(self) -> str:
        return f"{self.requests:,}"

    @property
    def uncached_display(self) -> str:
        return usd(self.uncached)

    @property
    def saving_display(self) -> str:
        if self.cost is None or self.uncached is None:
            return DASH
        return usd(self.uncached - self.cost)


@dataclass(frozen=True)
class ConversationDetail:
    """What the page says about the chosen model under the conversation form."""

    model: str
    name: str
    choices: tuple[ContextCost, ...]
    turns: int  # turns of one conversation actually sent
    one_uncached: str  # one conversation, all its turns, no caching
    one_cached: str  # ... with ``cached_label``
    cached_label: str
    last_prompt: str  # tokens, with thousands separators
    window: str


@dataclass(frozen=True)
class ChartSet:
    """The general charts (drawn in order) and the chosen model's TTL chart with its text."""

    charts: list[Chart] = field(default_factory=list)
    ttl: Chart | None = None
    detail: TtlDetail | None = None
    context: ConversationDetail | None = None  # the conversation form's chosen model


# --------------------------------------------------------------------------- general charts


def chart_labels(rows: Sequence[Row]) -> dict[str, str]:
    """Chart labels per model: the name, with the provider when two models share it."""
    seen: dict[str, int] = {}
    for r in rows:
        seen[r.name] = seen.get(r.name, 0) + 1
    return {r.model: r.name if seen[r.name] == 1 else f"{r.name} ({r.provider_name})" for r in rows}


def _cost_bars(rows: Sequence[Row]) -> list[CostBar]:
    labels = chart_labels(rows)
    return [
        CostBar(
            labels[r.model],
            r.monthly_cost,
            {**{k: v for k, v in r.parts.items() if v is not None}, "other": r.other_fees},
            r.strategy_label,
        )
        for r in rows[: charts.TOP_COST_BARS]
    ]


def monthly_cost_chart(rows: Sequence[Row]) -> Chart:
    bars = _cost_bars(rows)
    return Chart(
        "monthly-cost",
        "Monthly cost per model",
        charts.monthly_cost_figure(bars),
        "Horizontal stacked bars of the monthly cost of the cheapest models, split into "
        "uncached input, cache reads, cache writes, output and storage; the table has the "
        "same numbers.",
        f"The {len(bars)} cheapest models that match, each with its best strategy.",
        wide=True,
    )


def savings_series(rows: Sequence[Row]) -> tuple[list[str], list[Series]]:
    """Per strategy name, each model's monthly cost under it (None where it is not offered)."""
    labels = chart_labels(rows)
    names: list[str] = []
    for row in rows:
        names.extend(s.name for s in row.strategies if s.name not in names)
    # "none" first, then in the order the providers list their strategies.
    names.sort(key=lambda n: n != "none")
    by_model = {r.model: {s.name: s.cost for s in r.strategies} for r in rows}
    series = [
        Series(n, strategy_short_label(n), [by_model[r.model].get(n) for r in rows]) for n in names
    ]
    return [labels[r.model] for r in rows], series


def savings_chart(rows: Sequence[Row]) -> Chart:
    models, savings = savings_series(rows[: charts.TOP_SAVINGS])
    return Chart(
        "caching-savings",
        "What caching saves",
        charts.caching_savings_figure(models, savings),
        "Grouped bars per model of the monthly cost with no caching and with each caching "
        "strategy the model offers.",
        f"The {len(models)} cheapest models: no caching against each strategy they offer.",
    )


def imported_chart(logs: LogsCost, rows: Sequence[Row]) -> Chart:
    """Your cost at the prices of the day against the cheapest models for the same traffic."""
    cheapest_rows = cheapest_first(rows)
    labels = chart_labels(cheapest_rows)
    bars = [
        CostBar(labels[r.model], r.monthly_cost, {}, r.strategy_label)
        for r in cheapest_rows[: charts.TOP_ALTERNATIVES]
    ]
    yours = CostBar("Your logs (prices of their day)", logs.total, {}, "as logged")
    return Chart(
        "your-cost",
        "Your cost vs the cheapest alternatives",
        charts.your_cost_figure(yours, bars),
        "Horizontal bars: what your logs cost, then the cheapest models for the same traffic; "
        "the table has the same numbers.",
        f"Your logs against the {len(bars)} cheapest models that match, each with its best "
        "caching strategy, at today's prices. Green: cheaper than your logs; red: dearer.",
        wide=True,
    )


# --------------------------------------------------------------------------- the quick form


@dataclass(frozen=True)
class _Pricer:
    """One model's sheet and cache policy, priced under variations of a workload."""

    candidate: Candidate
    when: datetime

    def run(self, workload: QuickWorkload) -> list[StrategyResult]:
        return estimate_model(self.candidate.sheet, self.candidate.policy, workload, self.when)


def _pricers(
    slugs: Sequence[str], when: datetime, generation: Generation | None = None
) -> dict[str, _Pricer]:
    """The models' candidates at ``when``, read once for every variation of the workload."""
    if not slugs:
        return {}
    found, _ = candidates(slugs, when, generation=generation)
    return {c.sheet.model: _Pricer(c, when) for c in found}


def _best_cost(results: Sequence[StrategyResult]) -> Decimal | None:
    best = best_strategy(results)
    return None if best is None else best.cost


def _costs(results: Sequence[StrategyResult]) -> dict[str, Decimal]:
    return {r.name: r.cost for r in results if not r.unpriced}


def volume_series(
    workload: QuickWorkload, rows: Sequence[Row], pricers: dict[str, _Pricer]
) -> tuple[list[int], list[Series]]:
    """Each model's best monthly cost at volumes from 1% to 1000% of the workload's.

    Priced with estimate_model on candidates read once: a full estimate per volume would
    price every model ten times over.
    """
    if workload.requests_per_month <= 0:
        return [], []
    volumes = curves.volume_steps(workload.requests_per_month)
    labels = chart_labels(rows)
    series = []
    for row in rows:
        pricer = pricers.get(row.model)
        if pricer is None:
            continue
        values = [_best_cost(pricer.run(replace(workload, requests_per_month=n))) for n in volumes]
        series.append(Series(row.model, labels[row.model], values))
    return volumes, series


def ttl_series(
    workload: QuickWorkload, pricer: _Pricer
) -> tuple[list[float], list[Series], list[BreakEven]]:
    """Cost of every strategy of one model over the gap grid, and where the cheapest changes."""
    grid = curves.log_grid(curves.GAP_MIN_SECONDS, curves.GAP_MAX_SECONDS, curves.GAP_POINTS)
    memo: dict[float, dict[str, Decimal]] = {}

    def costs_at(gap: float) -> dict[str, Decimal]:
        if gap not in memo:
            memo[gap] = _costs(pricer.run(replace(workload, mean_gap_seconds=gap)))
        return memo[gap]

    per_gap = [costs_at(g) for g in grid]
    names = list(per_gap[0]) if per_gap else []
    series = [Series(n, strategy_short_label(n), [c.get(n) for c in per_gap]) for n in names]
    if not names:
        return grid, series, []
    break_evens = curves.find_break_evens(lambda g: curves.cheapest(costs_at(g)), grid)
    return grid, series, break_evens


def ttl_detail(
    workload: QuickWorkload, row: Row, pricer: _Pricer, evens: Sequence[BreakEven]
) -> TtlDetail:
    """Cheapest strategy at the current gap and the dollars expired caches cost.

    Lost to expired caches = the cheapest strategy's cost minus what the same strategy would
    cost if every request after the first read the cache (requests 1 s apart, inside any
    TTL). When no caching is cheapest, the ideal is the best caching strategy's.
    """
    results = pricer.run(workload)
    now = _costs(results)
    notes = tuple(dict.fromkeys(n for r in results if not r.unpriced for n in r.notes))
    ideal_all = _costs(pricer.run(replace(workload, arrival="fixed", mean_gap_seconds=1.0)))
    # Short labels: the full ones carry commas, which garble a list of them.
    labels = {n: strategy_short_label(n) for n in now}
    winner = curves.cheapest(now) if now else "none"
    ideal_name = winner if winner != "none" else cheapest_caching(ideal_all)
    ideal = ideal_all.get(ideal_name, now.get(winner, Decimal(0)))
    lost = max(now.get(winner, Decimal(0)) - ideal, Decimal(0))
    tie = max(curves.TIE_USD, abs(now.get(winner, Decimal(0))) * curves.TIE_RELATIVE)
    ties = tuple(labels.get(n, n) for n, c in now.items() if n != winner and c - now[winner] <= tie)
    return TtlDetail(
        model=row.model,
        name=row.name,
        gap=human_gap(workload.mean_gap_seconds),
        offers_caching=any(n != "none" for n in ideal_all),
        cheapest_label=labels.get(winner, winner),
        cheapest_cost=usd(now.get(winner)),
        ties=ties,
        lost=usd(lost),
        ideal_label=labels.get(ideal_name, ideal_name),
        ideal_cost=usd(ideal),
        break_evens=tuple(
            (human_gap(b.gap_seconds), labels.get(b.before, b.before), labels.get(b.after, b.after))
            for b in evens
        ),
        notes=notes,
    )


def comparison_charts(
    workload: QuickWorkload,
    rows: Sequence[Row],
    *,
    chosen: Row | None,
    generation: Generation,
    when: datetime | None = None,
) -> ChartSet:
    """The quick form's figures for the filtered rows (cheapest first) and the chosen model.

    Extension point: a new figure is one more ``Chart`` in the set; the template renders
    whatever is listed (``conversation_charts`` appends the conversation's growth chart).
    """
    cheapest_rows = cheapest_first(rows)
    top_volume = cheapest_rows[: charts.TOP_VOLUME]
    top_savings = cheapest_rows[: charts.TOP_SAVINGS]
    parts = (
        CACHE_VERSION,
        workload,
        tuple(r.model for r in cheapest_rows[: charts.TOP_COST_BARS]),
        chosen.model if chosen else "",
    )

    def compute() -> ChartSet:
        at = when or timezone.now()
        slugs = [r.model for r in top_volume] + ([chosen.model] if chosen else [])
        pricers = _pricers(slugs, at, generation)
        return _chart_set(workload, cheapest_rows, top_volume, top_savings, chosen, pricers)

    return generation.shared("compare-charts", parts, compute)


def _chart_set(
    workload: QuickWorkload,
    rows: Sequence[Row],
    top_volume: Sequence[Row],
    top_savings: Sequence[Row],
    chosen: Row | None,
    pricers: dict[str, _Pricer],
) -> ChartSet:
    volumes, volume_lines = volume_series(workload, top_volume, pricers)
    out = [
        monthly_cost_chart(rows),
        Chart(
            "cost-volume",
            "Cost as volume changes",
            charts.cost_volume_figure(volumes, volume_lines, current=workload.requests_per_month),
            "Lines of monthly cost against requests per month for the five cheapest models, "
            "on logarithmic axes.",
            "The five cheapest models from 1% to 1000% of your monthly requests, each with its "
            "best strategy at that volume.",
        ),
        savings_chart(top_savings),
    ]
    pricer = pricers.get(chosen.model) if chosen else None
    if chosen is None or pricer is None:
        return ChartSet(out)
    gaps, lines, evens = ttl_series(workload, pricer)
    ttl = Chart(
        "cache-ttl",
        f"Cache TTL for {chosen.name}",
        charts.ttl_figure(gaps, lines, current_gap=workload.mean_gap_seconds, break_evens=evens),
        f"Lines of the monthly cost of {chosen.name} under each caching strategy as "
        "the mean gap between requests goes from 5 seconds to 4 hours, with your gap "
        "and the break-even gaps marked.",
        "Monthly cost of each strategy as the mean gap between requests sharing the "
        "prefix varies, everything else as in the form.",
    )
    return ChartSet(out, ttl, ttl_detail(workload, chosen, pricer, evens))
