"""The comparison tables: one row per model, filters and sort, and each form's cached rows.

The quick form's rows come from ``sources.estimate``, the conversation form's and an
imported workload's from the cache replay (``sources.estimate_conversation``,
``sources.estimate_imported``). Rows are cached in the catalog-generation cache
(``Generation.shared``) for five minutes, so publishing a price shows on the next request
and a scheduled version that comes into effect within the five minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from apps.catalog.display import tokens_display
from apps.common.display import percent, usd
from apps.common.tables import sort_missing_last
from apps.rating.adapter import Generation

from .display import strategy_short_label
from .estimate.quick import QuickWorkload
from .estimate.results import BREAKDOWN, ModelEstimate
from .estimate.timeline import ConversationWorkload
from .sources import catalog_facts, estimate, estimate_conversation, estimate_imported

if TYPE_CHECKING:
    from apps.usage.models import Workload

CACHE_VERSION = 2  # bump when Row or the chart payload changes shape

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
TEXT_COLUMNS = ("provider", "model", "strategy")
BREAKDOWN_KEYS = ("uncached_input", "cache_reads", "cache_writes", "output", "storage")
DEFAULT_SORT = "monthly_cost"


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
        return strategy_short_label(self.strategy)

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


def row_from_estimate(
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


# --------------------------------------------------------------------------- filters and sort


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


def cheapest_first(rows: Sequence[Row]) -> list[Row]:
    """Rows by monthly cost, ties by model id: the tables' and charts' default order."""
    return sorted(rows, key=lambda r: (r.monthly_cost, r.model))


def sort_rows(rows: Sequence[Row], key: str, descending: bool) -> list[Row]:
    """Rows by one column; missing values ("—") last either way, ties cheapest first."""
    return sort_missing_last(cheapest_first(rows), lambda r: r.value(key), descending=descending)


def sort_headers(
    key: str, descending: bool, *, cost_label: str = ""
) -> dict[str, dict[str, str | bool]]:
    """Per column: the sort value its link asks for, its aria-sort state and arrow."""
    headers: dict[str, dict[str, str | bool]] = {}
    for column, label in SORT_LABELS.items():
        active = column == key
        headers[column] = {
            "label": cost_label if column == "monthly_cost" and cost_label else label,
            "numeric": column not in TEXT_COLUMNS,
            # First click sorts ascending (cheapest first); a second click flips it.
            "next": f"-{column}" if active and not descending else column,
            "aria": ("descending" if descending else "ascending") if active else "none",
            "arrow": ("▼" if descending else "▲") if active else "",
        }
    return headers


@dataclass(frozen=True)
class Table:
    """A table after filters and sort, with its cheapest and chosen rows."""

    every: list[Row]
    rows: list[Row]
    cheapest: Row | None
    chosen: Row | None
    model_options: list[Row]
    unknown_model: bool  # a model was chosen that no row has

    def context(self) -> dict[str, Any]:
        return {
            "every": self.every,
            "rows": self.rows,
            "cheapest": self.cheapest,
            "chosen": self.chosen,
            "model_options": self.model_options,
        }


def table(every: list[Row], filters: Filters, sort: tuple[str, bool], model: str) -> Table:
    """The rows after filters and sort, the cheapest and the chosen model (else the cheapest)."""
    rows = sort_rows(filter_rows(every, filters), *sort)
    by_slug = {r.model: r for r in every}
    cheapest = min(rows, key=lambda r: (r.monthly_cost, r.model)) if rows else None
    return Table(
        every=every,
        rows=rows,
        cheapest=cheapest,
        chosen=by_slug.get(model) or cheapest,
        model_options=sorted(every, key=lambda r: (r.provider_name, r.name)),
        unknown_model=bool(model) and model not in by_slug,
    )


# --------------------------------------------------------------------------- cached rows


def comparison_rows(
    workload: QuickWorkload, *, generation: Generation, when: datetime | None = None
) -> list[Row]:
    """Every priced model's best bill for the workload, cheapest first (estimate's order)."""

    def compute() -> list[Row]:
        results, _ = estimate(workload, when=when or timezone.now(), generation=generation)
        names = catalog_facts(generation).provider_names
        return [row_from_estimate(e, names) for e in results]

    return generation.shared("compare-rows", (CACHE_VERSION, workload), compute)


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
    params: ConversationWorkload,
    *,
    seed: int,
    generation: Generation,
    when: datetime | None = None,
) -> ReplayResult:
    """Every priced model's best monthly bill for the conversation form, cheapest first."""

    def compute() -> ReplayResult:
        timeline, estimates, _ = estimate_conversation(
            params, when=when or timezone.now(), seed=seed, generation=generation
        )
        names = catalog_facts(generation).provider_names
        rows = [row_from_estimate(e, names, timeline.notes) for e in estimates]
        return ReplayResult(rows, timeline.n, timeline.notes, timeline.streams)

    return generation.shared("compare-conversation-rows", (CACHE_VERSION, params, seed), compute)


def imported_rows(
    workload: Workload, *, job_id: int, generation: Generation, when: datetime | None = None
) -> ReplayResult:
    """The imported traffic replayed on every priced model at today's prices.

    Cached per workload, catalog generation and last import: a new import changes the rows.
    """

    def compute() -> ReplayResult:
        timeline, estimates, _ = estimate_imported(
            workload, when=when or timezone.now(), generation=generation
        )
        names = catalog_facts(generation).provider_names
        rows = (
            [row_from_estimate(e, names, timeline.notes) for e in estimates] if timeline.n else []
        )
        start = end = None
        if timeline.n:
            start = datetime.fromtimestamp(timeline.origin, tz=UTC)
            end = datetime.fromtimestamp(timeline.origin + float(timeline.t.max()), tz=UTC)
        return ReplayResult(rows, timeline.n, timeline.notes, timeline.streams, start, end)

    return generation.shared("compare-imported-rows", (CACHE_VERSION, workload.pk, job_id), compute)
