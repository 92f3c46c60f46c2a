"""Reading side of the comparison pages: rows per model and the series behind their charts.

The quick form is priced by ``services.estimate`` (every model) and ``quick.estimate_model``
(one model under many variations of the workload); the conversation form and imported
workloads by the cache replay (``imported.estimate_conversation``, ``estimate_imported``).
Results are cached for five minutes under a key that includes the catalog generation, so
publishing a price shows on the next request; a scheduled version that comes into effect
shows within the five minutes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from apps.catalog.models import Provider
from apps.catalog.selectors import tokens_display
from apps.rating.adapter import catalog_generation_key, published_book
from apps.usage.models import ImportJob, JobStatus, Workload

from . import charts
from .charts import BreakEven, Chart, CostBar, Series
from .conversation import Candidate, estimate_workload, growth_series
from .imported import candidates, estimate_conversation, estimate_imported
from .quick import CachePolicyView, QuickWorkload, StrategyResult, WorkloadError, estimate_model
from .services import BREAKDOWN, ModelEstimate, estimate, policy_views
from .timeline import CONTEXT_STRATEGIES, ConversationWorkload

CACHE_SECONDS = 5 * 60
CACHE_VERSION = 2  # bump when Row or the chart payload changes shape
DASH = "—"

# Sortable columns: key -> header label. Ascending first, as on the price list.
SORT_LABELS = {
    "provider": "Provider",
    "model": "Model",
    "strategy": "Best strategy",
    "monthly_cost": "Monthly cost",
    "cost_per_request": "Per request",
    "hit_rate": "Hit rate",
    "uncached_input": "Uncached input",
    "cache_reads": "Cache reads",
    "cache_writes": "Cache writes",
    "output": "Output",
    "storage": "Storage",
    "batch_discount": "Batch discount",
    "context_window": "Context",
    "max_output": "Max output",
}
BREAKDOWN_KEYS = ("uncached_input", "cache_reads", "cache_writes", "output", "storage")
DEFAULT_SORT = "monthly_cost"


# --------------------------------------------------------------------------- money display


def usd(value: Decimal | None) -> str:
    """Dollars for people: cents from ten cents up, else three significant digits.

    Decimal all the way (money is never a float in the HTML); a minus sign, not a hyphen.
    """
    if value is None:
        return DASH
    sign = "−" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "$0.00"
    # Enough digits for any amount: absurd workloads (10^30 tokens) must still render.
    context = Context(prec=max(28, value.adjusted() + 8))
    if value >= Decimal("0.0995"):
        return f"{sign}${value.quantize(Decimal('0.01'), context=context):,}"
    places = max(2, 2 - value.adjusted())
    return f"{sign}${value.quantize(Decimal(1).scaleb(-places), context=context):f}"


def percent(value: Decimal | None) -> str:
    if value is None:
        return DASH
    return f"{(value * 100).quantize(Decimal('0.1'))}%"


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class StrategyCost:
    name: str
    label: str
    cost: Decimal


@dataclass(frozen=True)
class Row:
    """One model's best bill for the workload. ``None`` in a part: the strategy has no such meter."""

    provider: str
    provider_name: str
    model: str
    name: str
    context_window: int | None
    max_output_tokens: int | None
    strategy: str
    strategy_label: str
    monthly_cost: Decimal
    cost_per_request: Decimal | None
    hit_rate: Decimal | None
    parts: dict[str, Decimal | None]
    batch_discount: Decimal | None
    strategies: tuple[StrategyCost, ...]
    # What the replay says about this model alone (prompts past its context window, a
    # prefix under its minimum cacheable length); the quick form keeps its notes elsewhere.
    notes: tuple[str, ...] = ()

    def value(self, key: str) -> Any:
        """The sort value of a column (None sorts last)."""
        if key in self.parts:
            return self.parts[key]
        return {
            "provider": self.provider_name.lower(),
            "model": self.name.lower(),
            "strategy": self.strategy_label,
            "monthly_cost": self.monthly_cost,
            "cost_per_request": self.cost_per_request,
            "hit_rate": self.hit_rate,
            "batch_discount": self.batch_discount,
            "context_window": self.context_window,
            "max_output": self.max_output_tokens,
        }[key]

    @property
    def cells(self) -> list[str]:
        """The breakdown columns as shown, in BREAKDOWN_KEYS order then the batch discount."""
        return [usd(self.parts[k]) for k in BREAKDOWN_KEYS] + [usd(self.batch_discount)]

    @property
    def strategy_short(self) -> str:
        return charts.strategy_short_label(self.strategy)

    @property
    def monthly_cost_display(self) -> str:
        return usd(self.monthly_cost)

    @property
    def cost_per_request_display(self) -> str:
        return usd(self.cost_per_request)

    @property
    def hit_rate_display(self) -> str:
        return percent(self.hit_rate)

    @property
    def context_display(self) -> str:
        return tokens_display(self.context_window)

    @property
    def max_output_display(self) -> str:
        return tokens_display(self.max_output_tokens)

    @property
    def other_fees(self) -> Decimal:
        """What the breakdown does not name (per-call fees), so the stacked bar adds up."""
        named = sum((v for v in self.parts.values() if v is not None), Decimal(0))
        return self.monthly_cost - named


def _row(
    e: ModelEstimate, provider_names: dict[str, str], shared_notes: tuple[str, ...] | None = None
) -> Row:
    """The table row of one estimate. ``shared_notes``: the timeline's own notes, said once
    above the table; the best strategy's other notes stay with the row (replay rows only)."""
    best = e.best
    parts: dict[str, Decimal | None] = {}
    for key, meters in BREAKDOWN.items():
        billed = [best.meters[m] for m in meters if m in best.meters]
        parts[key] = sum(billed, Decimal(0)) if billed else None
    return Row(
        provider=e.provider,
        provider_name=provider_names.get(e.provider, e.provider),
        model=e.model,
        name=e.name,
        context_window=e.context_window,
        max_output_tokens=e.max_output_tokens,
        strategy=best.name,
        strategy_label=best.label,
        monthly_cost=best.cost,
        cost_per_request=best.cost / e.requests if e.requests else None,
        hit_rate=best.hit_rate if best.name != "none" else None,
        parts=parts,
        batch_discount=-best.batch_savings if best.batch_savings else None,
        strategies=tuple(StrategyCost(s.name, s.label, s.cost) for s in e.strategies),
        notes=()
        if shared_notes is None
        else tuple(dict.fromkeys(n for n in best.notes if n not in shared_notes)),
    )


def catalog_generation() -> str:
    """A short digest of the published catalog's state: part of every cache key."""
    return hashlib.sha256(repr(catalog_generation_key()).encode()).hexdigest()[:16]


def _cached(kind: str, parts: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    digest = hashlib.sha256(repr((CACHE_VERSION, *parts)).encode()).hexdigest()
    key = f"compare:{kind}:{digest}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return found


def comparison_rows(
    workload: QuickWorkload, *, generation: str, when: datetime | None = None
) -> list[Row]:
    """Every priced model's best bill for the workload, cheapest first (estimate's order)."""

    def compute() -> list[Row]:
        results, _ = estimate(workload, when=when or timezone.now())
        names = dict(Provider.objects.values_list("slug", "name"))
        return [_row(e, names) for e in results]

    return _cached("rows", (generation, workload), compute)


@dataclass(frozen=True)
class Filters:
    providers: tuple[str, ...] = ()
    min_context: int | None = None
    min_output: int | None = None
    max_cost: Decimal | None = None

    @property
    def active(self) -> bool:
        return bool(self.providers) or any(
            v is not None for v in (self.min_context, self.min_output, self.max_cost)
        )


def filter_rows(rows: Sequence[Row], filters: Filters) -> list[Row]:
    """Rows passing every filter; an unknown context window or max output fails a minimum."""

    def keep(row: Row) -> bool:
        if filters.providers and row.provider not in filters.providers:
            return False
        if filters.min_context is not None and (row.context_window or 0) < filters.min_context:
            return False
        if filters.min_output is not None and (row.max_output_tokens or 0) < filters.min_output:
            return False
        return filters.max_cost is None or row.monthly_cost <= filters.max_cost

    return [r for r in rows if keep(r)]


def parse_sort(raw: str | None) -> tuple[str, bool]:
    """(column, descending) from "col" or "-col"; anything unknown is the default sort."""
    raw = (raw or "").strip()
    key = raw.removeprefix("-")
    if key not in SORT_LABELS:
        return DEFAULT_SORT, False
    return key, raw.startswith("-")


def sort_rows(rows: Sequence[Row], key: str, descending: bool) -> list[Row]:
    """Rows by one column; missing values ("—") last either way, ties cheapest first."""
    present = [r for r in rows if r.value(key) is not None]
    missing = [r for r in rows if r.value(key) is None]
    # Two stable sorts: the tie-break first, then the column.
    present.sort(key=lambda r: (r.monthly_cost, r.model))
    present.sort(key=lambda r: r.value(key), reverse=descending)
    return present + missing


# --------------------------------------------------------------------------- charts


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
class ChartSet:
    """The general charts (drawn in order) and the chosen model's TTL chart with its text."""

    charts: list[Chart] = field(default_factory=list)
    ttl: Chart | None = None
    detail: TtlDetail | None = None
    context: ConversationDetail | None = None  # the conversation form's chosen model


def _labels(rows: Sequence[Row]) -> dict[str, str]:
    """Chart labels per model: the name, with the provider when two models share it."""
    seen: dict[str, int] = {}
    for r in rows:
        seen[r.name] = seen.get(r.name, 0) + 1
    return {r.model: r.name if seen[r.name] == 1 else f"{r.name} ({r.provider_name})" for r in rows}


def _best_cost(results: Sequence[StrategyResult]) -> Decimal | None:
    # The same choice as services.estimate: the cheapest priced strategy, "none" on a tie.
    priced = [r for r in results if not r.unpriced]
    if not priced:
        return None
    return min(priced, key=lambda r: (r.cost, r.name != "none")).cost


def _costs(results: Sequence[StrategyResult]) -> dict[str, Decimal]:
    return {r.name: r.cost for r in results if not r.unpriced}


@dataclass(frozen=True)
class _Pricer:
    """One model's sheet and cache policy, priced under variations of a workload."""

    sheet: Any
    policy: CachePolicyView
    when: datetime

    def run(self, workload: QuickWorkload) -> list[StrategyResult]:
        return estimate_model(self.sheet, self.policy, workload, self.when)


def _pricers(slugs: Sequence[str], when: datetime) -> dict[str, _Pricer]:
    book = published_book()
    views = policy_views()
    out = {}
    for slug in slugs:
        sheet = book.sheet_at(slug, when)
        if sheet is not None:
            out[slug] = _Pricer(sheet, views.get(slug, CachePolicyView("none")), when)
    return out


def volume_series(
    workload: QuickWorkload, rows: Sequence[Row], pricers: dict[str, _Pricer]
) -> tuple[list[int], list[Series]]:
    """Each model's best monthly cost at volumes from 1% to 1000% of the workload's.

    Priced with estimate_model on sheets loaded once: calling estimate() per volume would
    reload every model and cache policy ten times (50 queries, ~100 ms on the bundled catalog).
    """
    if workload.requests_per_month <= 0:
        return [], []
    volumes = charts.volume_steps(workload.requests_per_month)
    labels = _labels(rows)
    series = []
    for row in rows:
        pricer = pricers.get(row.model)
        if pricer is None:
            continue
        values = [_best_cost(pricer.run(replace(workload, requests_per_month=n))) for n in volumes]
        series.append(Series(row.model, labels[row.model], values))
    return volumes, series


def savings_series(rows: Sequence[Row]) -> tuple[list[str], list[Series]]:
    """Per strategy name, each model's monthly cost under it (None where it is not offered)."""
    labels = _labels(rows)
    names: list[str] = []
    for row in rows:
        names.extend(s.name for s in row.strategies if s.name not in names)
    # "none" first, then in the order the providers list their strategies.
    names.sort(key=lambda n: n != "none")
    by_model = {r.model: {s.name: s.cost for s in r.strategies} for r in rows}
    series = [
        Series(n, charts.strategy_short_label(n), [by_model[r.model].get(n) for r in rows])
        for n in names
    ]
    return [labels[r.model] for r in rows], series


def ttl_series(
    workload: QuickWorkload, pricer: _Pricer
) -> tuple[list[float], list[Series], list[BreakEven]]:
    """Cost of every strategy of one model over the gap grid, and where the cheapest changes."""
    grid = charts.log_grid(charts.GAP_MIN_SECONDS, charts.GAP_MAX_SECONDS, charts.GAP_POINTS)
    memo: dict[float, dict[str, Decimal]] = {}

    def costs_at(gap: float) -> dict[str, Decimal]:
        if gap not in memo:
            memo[gap] = _costs(pricer.run(replace(workload, mean_gap_seconds=gap)))
        return memo[gap]

    per_gap = [costs_at(g) for g in grid]
    names = list(per_gap[0]) if per_gap else []
    series = [Series(n, charts.strategy_short_label(n), [c.get(n) for c in per_gap]) for n in names]
    if not names:
        return grid, series, []
    break_evens = charts.find_break_evens(lambda g: charts.cheapest(costs_at(g)), grid)
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
    labels = {n: charts.strategy_short_label(n) for n in now}
    winner = charts.cheapest(now) if now else "none"
    caching = [n for n in ideal_all if n != "none"]
    if winner != "none":
        ideal_name = winner
    elif caching:
        ideal_name = min(caching, key=lambda n: ideal_all[n])
    else:
        ideal_name = "none"
    ideal = ideal_all.get(ideal_name, now.get(winner, Decimal(0)))
    lost = max(now.get(winner, Decimal(0)) - ideal, Decimal(0))
    tie = max(charts.TIE_USD, abs(now.get(winner, Decimal(0))) * charts.TIE_RELATIVE)
    ties = tuple(labels.get(n, n) for n, c in now.items() if n != winner and c - now[winner] <= tie)
    return TtlDetail(
        model=row.model,
        name=row.name,
        gap=charts.human_gap(workload.mean_gap_seconds),
        offers_caching=bool(caching),
        cheapest_label=labels.get(winner, winner),
        cheapest_cost=usd(now.get(winner)),
        ties=ties,
        lost=usd(lost),
        ideal_label=labels.get(ideal_name, ideal_name),
        ideal_cost=usd(ideal),
        break_evens=tuple(
            (
                charts.human_gap(b.gap_seconds),
                labels.get(b.before, b.before),
                labels.get(b.after, b.after),
            )
            for b in evens
        ),
        notes=notes,
    )


def comparison_charts(
    workload: QuickWorkload,
    rows: Sequence[Row],
    *,
    chosen: Row | None,
    generation: str,
    when: datetime | None = None,
) -> ChartSet:
    """The page's figures for the filtered rows (cheapest first) and the chosen model.

    Extension point: a new figure is one more ``Chart`` in ``charts``; the template renders
    whatever is listed (``conversation_charts`` appends the conversation's growth chart).
    """
    cheapest_rows = sorted(rows, key=lambda r: (r.monthly_cost, r.model))
    top_volume = cheapest_rows[: charts.TOP_VOLUME]
    top_savings = cheapest_rows[: charts.TOP_SAVINGS]
    parts = (
        generation,
        workload,
        tuple(r.model for r in cheapest_rows[: charts.TOP_COST_BARS]),
        chosen.model if chosen else "",
    )

    def compute() -> ChartSet:
        at = when or timezone.now()
        slugs = [r.model for r in top_volume] + ([chosen.model] if chosen else [])
        pricers = _pricers(slugs, at)
        return _chart_set(workload, cheapest_rows, top_volume, top_savings, chosen, pricers)

    return _cached("charts", parts, compute)


def _cost_bars(rows: Sequence[Row]) -> list[CostBar]:
    labels = _labels(rows)
    return [
        CostBar(
            labels[r.model],
            r.monthly_cost,
            {**{k: v for k, v in r.parts.items() if v is not None}, "other": r.other_fees},
            r.strategy_label,
        )
        for r in rows[: charts.TOP_COST_BARS]
    ]


def _monthly_cost_chart(rows: Sequence[Row]) -> Chart:
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


def _savings_chart(rows: Sequence[Row]) -> Chart:
    models, savings = savings_series(rows[: charts.TOP_SAVINGS])
    return Chart(
        "caching-savings",
        "What caching saves",
        charts.caching_savings_figure(models, savings),
        "Grouped bars per model of the monthly cost with no caching and with each caching "
        "strategy the model offers.",
        f"The {len(models)} cheapest models: no caching against each strategy they offer.",
    )


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
        _monthly_cost_chart(rows),
        Chart(
            "cost-volume",
            "Cost as volume changes",
            charts.cost_volume_figure(volumes, volume_lines, current=workload.requests_per_month),
            "Lines of monthly cost against requests per month for the five cheapest models, "
            "on logarithmic axes.",
            "The five cheapest models from 1% to 1000% of your monthly requests, each with its "
            "best strategy at that volume.",
        ),
        _savings_chart(top_savings),
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


# --------------------------------------------------------------------------- conversations

CONTEXT_LABELS = {
    "none": "None (refuse at the limit)",
    "sliding": "Sliding window",
    "hysteresis": "Hysteresis",
    "compaction": "Compaction",
}


@dataclass(frozen=True)
class ReplayResult:
    """A replayed workload's table and what its timeline says (conversation or import)."""

    rows: list[Row]
    requests: int
    notes: tuple[str, ...] = ()
    streams: int = 0
    start: datetime | None = None  # imported logs: the first and last request
    end: datetime | None = None

    @property
    def requests_display(self) -> str:
        return f"{self.requests:,}"

    @property
    def streams_display(self) -> str:
        return f"{self.streams:,}"


def conversation_rows(
    params: ConversationWorkload, *, seed: int, generation: str, when: datetime | None = None
) -> ReplayResult:
    """Every priced model's best monthly bill for the conversation form, cheapest first."""

    def compute() -> ReplayResult:
        timeline, estimates, _ = estimate_conversation(
            params, when=when or timezone.now(), seed=seed
        )
        names = dict(Provider.objects.values_list("slug", "name"))
        rows = [_row(e, names, timeline.notes) for e in estimates]
        return ReplayResult(rows, timeline.n, timeline.notes, timeline.streams)

    return _cached("conversation-rows", (generation, params, seed), compute)


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


def context_costs(
    params: ConversationWorkload, candidate: Candidate, when: datetime, seed: int
) -> tuple[ContextCost, ...]:
    """The chosen model's month under each context strategy: same conversations, same times.

    The timeline draws every turn's gap whatever the strategy, so with one seed the four
    months differ only in what happens at the window limit.
    """
    out = []
    for strategy in CONTEXT_STRATEGIES:
        label, current = CONTEXT_LABELS[strategy], strategy == params.context_strategy
        try:
            timeline, estimates = estimate_workload(
                replace(params, context_strategy=strategy), [candidate], when, seed=seed
            )
        except WorkloadError as exc:  # compaction: the summary may not fit the window
            out.append(ContextCost(strategy, label, current, error=str(exc).split(": ", 1)[-1]))
            continue
        if not estimates:
            out.append(ContextCost(strategy, label, current, error="no price for this model"))
            continue
        best = estimates[0].best
        plain = next((s for s in estimates[0].strategies if s.name == "none"), None)
        out.append(
            ContextCost(
                strategy,
                label,
                current,
                charts.strategy_short_label(best.name),
                best.cost,
                plain.cost if plain else None,
                timeline.n,
                timeline.notes,
            )
        )
    return tuple(out)


def _best_caching(row: Row) -> str:
    """The row's cheapest caching strategy for the month ("none" when it offers none)."""
    caching = [s for s in row.strategies if s.name != "none"]
    return min(caching, key=lambda s: (s.cost, s.name)).name if caching else "none"


def _growth(
    params: ConversationWorkload, candidate: Candidate, chosen: Row, when: datetime, seed: int
) -> tuple[Chart, ConversationDetail]:
    growth = growth_series(
        params, candidate.sheet, candidate.policy, when, strategy=_best_caching(chosen), seed=seed
    )
    caching = growth.strategy != "none"
    label = charts.strategy_short_label(growth.strategy)
    figure = charts.growth_figure(
        growth.turns,
        growth.cumulative_uncached,
        growth.cumulative_cached if caching else None,
        cached_name=growth.strategy,
        prompt_tokens=growth.prompt_tokens,
    )
    with_caching = f"; with {label}, the cached prefix is read at a fraction" if caching else ""
    chart = Chart(
        "conversation-growth",
        f"One conversation's cost by turn on {chosen.name}",
        figure,
        f"Lines of the cumulative cost of one conversation on {chosen.name}, turn by turn, "
        f"without caching{' and with ' + label if caching else ''}; a dotted line shows the "
        "prompt size on the right axis.",
        "Every turn sends the whole history again, so without caching the cost grows "
        f"quadratically with the turns{with_caching}. One conversation on its own: its system "
        "prefix is not warmed by the others, unlike in the monthly table.",
    )
    detail = ConversationDetail(
        model=chosen.model,
        name=chosen.name,
        choices=context_costs(params, candidate, when, seed),
        turns=len(growth.turns),
        one_uncached=usd(growth.cumulative_uncached[-1] if growth.turns else None),
        one_cached=usd(growth.cumulative_cached[-1] if growth.turns and caching else None),
        cached_label=label if caching else "",
        last_prompt=f"{growth.prompt_tokens[-1] if growth.prompt_tokens else 0:,}",
        window=f"{params.context_window:,}",
    )
    return chart, detail


def conversation_charts(
    params: ConversationWorkload,
    rows: Sequence[Row],
    *,
    seed: int,
    chosen: Row | None,
    generation: str,
    when: datetime | None = None,
) -> ChartSet:
    """The conversation form's figures: the general ones, then the chosen model's growth."""
    cheapest_rows = sorted(rows, key=lambda r: (r.monthly_cost, r.model))
    parts = (
        generation,
        params,
        seed,
        tuple(r.model for r in cheapest_rows[: charts.TOP_COST_BARS]),
        chosen.model if chosen else "",
    )

    def compute() -> ChartSet:
        out = [_monthly_cost_chart(cheapest_rows), _savings_chart(cheapest_rows)]
        if chosen is None:
            return ChartSet(out)
        at = when or timezone.now()
        found, _ = candidates([chosen.model], at)
        if not found:
            return ChartSet(out)
        chart, detail = _growth(params, found[0], chosen, at, seed)
        return ChartSet([*out, chart], context=detail)

    return _cached("conversation-charts", parts, compute)


# --------------------------------------------------------------------------- imported logs


@dataclass(frozen=True)
class LoggedModel:
    provider: str
    model: str
    requests: int
    cost: Decimal

    @property
    def cost_display(self) -> str:
        return usd(self.cost)

    @property
    def requests_display(self) -> str:
        return f"{self.requests:,}"


@dataclass(frozen=True)
class LogsCost:
    """What an import's summary says the logs cost, at the prices in effect at each request."""

    total: Decimal
    models: tuple[LoggedModel, ...]
    unpriced_records: int = 0

    @property
    def total_display(self) -> str:
        return usd(self.total)

    @property
    def slugs(self) -> frozenset[str]:
        return frozenset(m.model for m in self.models)


def latest_import(workload: Workload) -> ImportJob | None:
    """The workload's last finished import: its summary prices every row of the workload."""
    return (
        ImportJob.objects.filter(workload=workload, status=JobStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


def logs_cost(summary: dict[str, Any] | None) -> LogsCost:
    summary = summary or {}
    models = tuple(
        LoggedModel(
            str(m.get("provider", "")),
            str(m.get("model", "")),
            int(m.get("requests") or 0),
            Decimal(str(m.get("cost_usd") or 0)),
        )
        for m in summary.get("by_model") or ()
    )
    unpriced = int((summary.get("unpriced") or {}).get("records") or 0)
    return LogsCost(Decimal(str(summary.get("total_cost_usd") or 0)), models, unpriced)


def imported_rows(
    workload: Workload, *, job_id: int, generation: str, when: datetime | None = None
) -> ReplayResult:
    """The imported traffic replayed on every priced model at today's prices.

    Cached per workload, catalog generation and last import: a new import changes the rows.
    """

    def compute() -> ReplayResult:
        timeline, estimates, _ = estimate_imported(workload, when=when or timezone.now())
        names = dict(Provider.objects.values_list("slug", "name"))
        rows = [_row(e, names, timeline.notes) for e in estimates] if timeline.n else []
        start = end = None
        if timeline.n:
            start = datetime.fromtimestamp(timeline.origin, tz=UTC)
            end = datetime.fromtimestamp(timeline.origin + float(timeline.t.max()), tz=UTC)
        return ReplayResult(rows, timeline.n, timeline.notes, timeline.streams, start, end)

    return _cached("imported-rows", (generation, workload.pk, job_id), compute)


@dataclass(frozen=True)
class Versus:
    """An alternative's cost against what the logs cost."""

    amount: str  # the difference, unsigned
    percent: str  # of the logs' cost; "" when the logs cost nothing
    cheaper: bool
    same: bool


def versus(logged: Decimal, other: Decimal) -> Versus:
    difference = logged - other
    share = percent(abs(difference) / logged) if logged > 0 else ""
    return Versus(usd(abs(difference)), share, difference > 0, difference == 0)


def imported_chart(logs: LogsCost, rows: Sequence[Row]) -> Chart:
    """Your cost at the prices of the day against the cheapest models for the same traffic."""
    cheapest_rows = sorted(rows, key=lambda r: (r.monthly_cost, r.model))
    labels = _labels(cheapest_rows)
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
