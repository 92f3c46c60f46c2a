"""The conversation form's chart set: the general charts, then the chosen model in detail.

For the chosen model: one conversation's cost turn by turn (the growth chart) and the same
month under each context strategy (same conversations, same times), priced by the
estimate core on the model's candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from django.utils import timezone

from apps.common.display import usd
from apps.rating.adapter import Generation

from . import charts
from .chartsets import (
    ChartSet,
    ContextCost,
    ConversationDetail,
    monthly_cost_chart,
    savings_chart,
)
from .display import CONTEXT_LABELS, strategy_short_label
from .estimate.conversation import estimate_workload, growth_series
from .estimate.results import Candidate, cheapest_caching
from .estimate.timeline import CONTEXT_STRATEGIES, ConversationWorkload
from .estimate.workload import WorkloadError
from .rows import CACHE_VERSION, Row, cheapest_first
from .sources import candidates


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
        month = replace(params, context_strategy=strategy)
        try:
            month.validate()  # compaction: the summary may not fit the window
            timeline, estimates = estimate_workload(month, [candidate], when, seed=seed)
        except WorkloadError as exc:
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
                strategy_short_label(best.name),
                best.cost,
                plain.cost if plain else None,
                timeline.n,
                timeline.notes,
            )
        )
    return tuple(out)


def _growth(
    params: ConversationWorkload, candidate: Candidate, chosen: Row, when: datetime, seed: int
) -> tuple[charts.Chart, ConversationDetail]:
    # The month's cheapest caching strategy ("none" when the model offers none).
    strategy = cheapest_caching({s.name: s.cost for s in chosen.strategies})
    growth = growth_series(
        params, candidate.sheet, candidate.policy, when, strategy=strategy, seed=seed
    )
    caching = growth.strategy != "none"
    label = strategy_short_label(growth.strategy)
    figure = charts.growth_figure(
        growth.turns,
        growth.cumulative_uncached,
        growth.cumulative_cached if caching else None,
        cached_name=growth.strategy,
        prompt_tokens=growth.prompt_tokens,
    )
    with_caching = f"; with {label}, the cached prefix is read at a fraction" if caching else ""
    chart = charts.Chart(
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
    generation: Generation,
    when: datetime | None = None,
) -> ChartSet:
    """The conversation form's figures: the general ones, then the chosen model's growth."""
    cheapest_rows = cheapest_first(rows)
    parts = (
        CACHE_VERSION,
        params,
        seed,
        tuple(r.model for r in cheapest_rows[: charts.TOP_COST_BARS]),
        chosen.model if chosen else "",
    )

    def compute() -> ChartSet:
        out = [monthly_cost_chart(cheapest_rows), savings_chart(cheapest_rows)]
        if chosen is None:
            return ChartSet(out)
        at = when or timezone.now()
        found, _ = candidates([chosen.model], at, generation=generation)
        if not found:
            return ChartSet(out)
        chart, detail = _growth(params, found[0], chosen, at, seed)
        return ChartSet([*out, chart], context=detail)

    return generation.shared("compare-conversation-charts", parts, compute)
