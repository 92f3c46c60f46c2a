"""A timeline priced on every model under every caching strategy, exactly.

Pure Python, NumPy and the rating engine. For each model (its price sheet and cache
policy) and each strategy ``policy.strategies`` offers, the replay splits every request
into disjoint buckets; the bulk rating path (``RecordColumns`` + ``rate_matrix``) prices
them in ``Decimal``. Results have the quick form's shape (``results.ModelEstimate``), so
the API and page render both alike.

Pricing a million requests per strategy stays fast because cost is linear in tokens within
a price group: requests are first summed per (service tier, side of every long-context
threshold, minute of the week when a sheet has time-of-day bands). Each such sum is one
aggregate record whose requests all pay the same unit prices, which the engine's
aggregate rule (the mean prompt against the threshold) then prices exactly as it would
each request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import numpy as np

from apps.rating.bulk import RecordColumns, rate_matrix
from apps.rating.engine import (
    MONEY_CONTEXT,
    SERVICE_TIERS,
    TOKEN_METERS,
    ZERO,
    PriceSheet,
    RatedRecord,
    UsageRecord,
    rate_record,
)

from .policy import PING_INPUT, PING_OUTPUT, CachePolicyView, strategies
from .replay import Buckets, KeepAlivePrices, ReplayParams, params_for, replay_params
from .results import Candidate, ModelEstimate, StrategyResult, cheapest_caching, model_estimates
from .timeline import KIND_TURN, ConversationWorkload, Timeline, conversation_timeline

_METER: Final = {m: i for i, m in enumerate(TOKEN_METERS)}
_STANDARD, _BATCH = SERVICE_TIERS.index("standard"), SERVICE_TIERS.index("batch")
_MINUTES_A_WEEK: Final = 7 * 1440  # epoch minute-of-week fixes both the minute and the weekday
_EXACT: Final = float(2**53)
# (meters, batch savings, unpriced reason) of one sheet
_Priced = tuple[dict[str, Decimal], Decimal, str]


@dataclass(frozen=True, slots=True)
class _Job:
    candidate: int  # index into the candidates
    strategy: str
    label: str
    params: ReplayParams
    prices: KeepAlivePrices | None


# --------------------------------------------------------------------------- estimate


def estimate_timeline(
    timeline: Timeline,
    sheets_and_policies: Iterable[Candidate | tuple[PriceSheet, CachePolicyView]],
    when: datetime,
    *,
    seed: int = 0,
    hit_rate: Decimal | None = None,
    retention_seconds: int | None = None,
) -> list[ModelEstimate]:
    """Every model's cost of the timeline under each strategy, cheapest model first.

    Models whose strategies cannot all be priced keep the priced ones; a model with none
    is left out (``results.model_estimates``). ``hit_rate`` and ``retention_seconds``
    override automatic caches' best-effort hit rate and retention (as ``QuickWorkload``
    does).
    """
    candidates = [c if isinstance(c, Candidate) else Candidate(*c) for c in sheets_and_policies]
    jobs = _jobs(candidates, hit_rate, retention_seconds)
    results: dict[tuple[int, str], StrategyResult] = {}
    by_key: dict[tuple[ReplayParams, KeepAlivePrices | None], list[_Job]] = {}
    for job in jobs:
        by_key.setdefault((job.params, job.prices), []).append(job)
    for (params, prices), group in by_key.items():
        buckets = replay_params(timeline, params, seed=seed, keepalive_prices=prices)
        sheets = [candidates[j.candidate].sheet for j in group]
        priced = _price(timeline, buckets, sheets, when)
        stats = _token_stats(buckets)
        for job, (meters, savings, unpriced) in zip(group, priced, strict=True):
            result = StrategyResult(job.strategy, job.label)
            result.meters, result.batch_savings, result.unpriced = meters, savings, unpriced
            result.cost = _sum(meters.values())
            result.prompt_tokens, result.cache_read_tokens = stats["prompt"], stats["read"]
            result.cache_write_tokens, result.hits = stats["write"], stats["hits"]
            result.pings = stats["pings"]
            result.notes.extend(_notes(timeline, candidates[job.candidate], job, buckets))
            results[(job.candidate, job.strategy)] = result
    per_candidate = [
        (candidate, [results[(index, j.strategy)] for j in jobs if j.candidate == index])
        for index, candidate in enumerate(candidates)
    ]
    return model_estimates(per_candidate, timeline.n)


def estimate_workload(
    params: ConversationWorkload,
    sheets_and_policies: Iterable[Candidate | tuple[PriceSheet, CachePolicyView]],
    when: datetime,
    *,
    seed: int = 0,
) -> tuple[Timeline, list[ModelEstimate]]:
    """A described (valid) conversation workload: generate its month, then estimate it."""
    timeline = conversation_timeline(params, seed, origin=_month_start(when))
    estimates = estimate_timeline(
        timeline,
        sheets_and_policies,
        when,
        seed=seed,
        hit_rate=params.automatic_hit_rate,
        retention_seconds=params.automatic_retention_seconds,
    )
    return timeline, estimates


def _month_start(when: datetime) -> float:
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def _jobs(
    candidates: Sequence[Candidate], hit_rate: Decimal | None, retention: int | None
) -> list[_Job]:
    jobs: list[_Job] = []
    for index, c in enumerate(candidates):
        for name, label in strategies(c.sheet, c.policy):
            params = params_for(c.policy, name, hit_rate=hit_rate, retention_seconds=retention)
            if params.write_meter and params.write_meter not in c.sheet.rates:
                params = replace(params, write_meter="")  # as quick: misses billed as input
            prices = None
            if params.keepalive:
                prices = KeepAlivePrices.from_sheet(c.sheet, params.write_meter)
            jobs.append(_Job(index, name, label, params, prices))
    return jobs


def _notes(tl: Timeline, c: Candidate, job: _Job, b: Buckets) -> list[str]:
    notes = list(tl.notes)
    if c.context_window and tl.max_prompt > c.context_window:
        notes.append(
            f"prompts reach {tl.max_prompt:,} tokens, more than this model's "
            f"{c.context_window:,}-token context window"
        )
    p = job.params
    if p.mode == "none" or not tl.n:
        return notes
    if tl.max_prompt < max(p.min_tokens, 1):
        notes.append(f"no prompt reaches the minimum cacheable length ({p.min_tokens:,} tokens)")
    elif p.mode == "storage" and int(tl.static.max()) < max(p.min_tokens, 1):
        notes.append(
            f"the static prefix is below the minimum cacheable length ({p.min_tokens:,} tokens)"
        )
    return notes


def _token_stats(b: Buckets) -> dict[str, int]:
    """Totals as ``quick`` counts them: a ping's prefix read and its token count as prompt."""
    ping_read = int((b.pings * b.ping_read).sum())
    pings = int(b.pings.sum())
    return {
        "prompt": b.prompt_tokens + ping_read + pings * PING_INPUT,
        "read": int(b.read.sum()) + ping_read,
        "write": int(b.write.sum()),
        "hits": b.hits,
        "pings": pings,
    }


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for amount in amounts:
        total = MONEY_CONTEXT.add(total, amount)
    return total


# --------------------------------------------------------------------------- exact pricing


@dataclass(slots=True)
class _Rows:
    """Per-request tokens by meter (requests, then keep-alive pings), with multiplicities."""

    columns: dict[str, np.ndarray]  # meter -> int64 tokens of one request, meters in use only
    count: np.ndarray | None  # int64 requests each row stands for; None: one each
    batch: np.ndarray | None  # bool: batch tier where the sheet offers it; None: no row
    epoch: Callable[[], np.ndarray]  # int64 epoch seconds per row, computed when needed
    n: int
    _sizes: dict[frozenset[str], np.ndarray] = field(default_factory=dict)

    def size(self, counts: frozenset[str]) -> np.ndarray:
        """Per-request sum of the meters a long-context threshold counts."""
        if counts not in self._sizes:
            total = np.zeros(self.n, dtype=np.int64)
            for meter in counts:
                if meter in self.columns:
                    total += self.columns[meter]
            self._sizes[counts] = total
        return self._sizes[counts]


def _rows(tl: Timeline, b: Buckets) -> _Rows:
    pinged = np.nonzero(b.pings)[0]
    columns = {"input": b.uncached, "cache_read": b.read, "output": b.output}
    if b.write_meter:
        columns[b.write_meter] = b.write
    count: np.ndarray | None = None
    batch: np.ndarray | None = None
    if tl.batchable.any():
        batch = tl.batchable
    if pinged.size:
        ping: dict[str, np.ndarray | int] = {
            "input": PING_INPUT,
            "cache_read": b.ping_read[pinged],
            "output": PING_OUTPUT,
        }
        columns = {
            meter: np.concatenate(
                [values, np.broadcast_to(np.asarray(ping.get(meter, 0)), pinged.shape)]
            )
            for meter, values in columns.items()
        }
        count = np.concatenate([np.ones(tl.n, dtype=np.int64), b.pings[pinged]])
        if batch is not None:
            batch = np.concatenate([batch, np.zeros(pinged.shape[0], dtype=bool)])

    def epoch() -> np.ndarray:
        seconds = tl.origin + tl.t
        if pinged.size:
            # a ping's time: one TTL after the request before the gap (only bands use it)
            seconds = np.concatenate([seconds, tl.origin + tl.t[pinged - 1] + b.ttl_seconds])
        return seconds.astype(np.int64)

    return _Rows(columns, count, batch, epoch, tl.n + pinged.shape[0])


def _price(tl: Timeline, b: Buckets, sheets: Sequence[PriceSheet], when: datetime) -> list[_Priced]:
    """(meters, batch savings, unpriced reason) per sheet, exact."""
    rows = _rows(tl, b)
    storage = b.storage_token_hours()
    out: dict[int, _Priced] = {}
    any_batch = rows.batch is not None
    # Sheets that offer batch send batchable rows there; the others price them as standard.
    split: dict[bool, list[int]] = {True: [], False: []}
    for index, sheet in enumerate(sheets):
        split[any_batch and sheet.offers_tier("batch")].append(index)
    for batch_tier, indexes in split.items():
        if not indexes:
            continue
        group = [sheets[i] for i in indexes]
        totals = rate_matrix(_aggregate(rows, group, batch_tier, when), group).per_sheet
        full = None
        if batch_tier:
            full = rate_matrix(_aggregate(rows, group, False, when), group).per_sheet
        for k, index in enumerate(indexes):
            meters = dict(totals[k].meters)
            unpriced = ""
            if totals[k].refused:
                unpriced = f"no price for a meter this strategy uses on {group[k].model}"
            savings = ZERO
            if full is not None:
                savings = MONEY_CONTEXT.subtract(full[k].cost, totals[k].cost)
            if storage:
                unpriced = unpriced or _add_storage(meters, group[k], storage, when)
            out[index] = (meters, savings, unpriced)
    return [out[index] for index in range(len(sheets))]


def _aggregate(
    rows: _Rows, sheets: Sequence[PriceSheet], batch_tier: bool, when: datetime
) -> RecordColumns:
    """Sum the rows per price group of these sheets: one aggregate record per group."""
    if rows.batch is not None and batch_tier:
        key = rows.batch.astype(np.int64)
    else:
        key = np.zeros(rows.n, dtype=np.int64)
    specs = sorted(
        {
            (s.long_context.threshold, s.long_context.inclusive, s.long_context.counts)
            for s in sheets
            if s.long_context is not None
        },
        key=lambda x: (x[0], x[1], sorted(x[2])),
    )
    for threshold, inclusive, counts in specs:
        size = rows.size(counts)
        key = key * 2 + (size >= threshold if inclusive else size > threshold)
    banded = any(s.time_bands for s in sheets)
    if banded:
        key = key * _MINUTES_A_WEEK + (rows.epoch() // 60) % _MINUTES_A_WEEK
    # the key space is small (tier x long-context sides x minutes of the week): no sort needed
    present = np.bincount(key) > 0 if rows.n else np.zeros(1, dtype=bool)
    groups = np.nonzero(present)[0]
    inverse = (np.cumsum(present) - 1)[key]
    g = groups.shape[0]
    tokens = np.zeros((g, len(TOKEN_METERS)), dtype=np.int64)
    for meter, column in rows.columns.items():
        weights = column if rows.count is None else column * rows.count
        if g == 1:
            tokens[0, _METER[meter]] = int(weights.sum())
            continue
        sums = np.bincount(inverse, weights=weights, minlength=g)
        if sums.max(initial=0) >= _EXACT:  # pragma: no cover - 9e15 tokens in one group
            raise OverflowError("token sum too large for exact float64 accumulation")
        tokens[:, _METER[meter]] = sums.astype(np.int64)
    if rows.count is None:
        requests = np.bincount(inverse, minlength=g).astype(np.int64)
    else:
        requests = np.bincount(inverse, weights=rows.count, minlength=g).astype(np.int64)
    if banded:
        ts = (groups % _MINUTES_A_WEEK) * 60  # same minute of the day and weekday
        rest = groups // _MINUTES_A_WEEK
    else:
        ts = np.full(g, int(when.timestamp()), dtype=np.int64)
        rest = groups
    tier = np.where((rest >> len(specs)) == 1, _BATCH, _STANDARD)
    return RecordColumns(
        models=[sheets[0].model],
        model_code=np.zeros(g, dtype=np.int32),
        ts=ts.astype(np.int64),
        tokens=tokens,
        tier_code=tier.astype(np.int8),
        regions=[""],
        region_code=np.zeros(g, dtype=np.int16),
        web_search=np.zeros(g, dtype=np.int64),
        requests=requests,
    )


def _add_storage(
    meters: dict[str, Decimal], sheet: PriceSheet, token_hours: Decimal, when: datetime
) -> str:
    record = UsageRecord(provider=sheet.provider, model=sheet.model, timestamp=when, requests=0,
                         cache_storage_token_hours=token_hours)  # fmt: skip
    rated = rate_record(record, sheet)
    if not isinstance(rated, RatedRecord):
        return rated.reason
    for item in rated.items:
        meters[item.meter] = MONEY_CONTEXT.add(meters.get(item.meter, ZERO), item.amount)
    return ""


# --------------------------------------------------------------------------- for the page


@dataclass(frozen=True, slots=True)
class GrowthSeries:
    """Cumulative cost of one conversation, turn by turn (compactions and pings included)."""

    turns: list[int]  # 1, 2, ...
    prompt_tokens: list[int]  # the prompt of each turn
    cumulative_uncached: list[Decimal]  # USD, no caching: grows quadratically with turns
    cumulative_cached: list[Decimal]  # USD under ``strategy``
    strategy: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "prompt_tokens": self.prompt_tokens,
            "cumulative_uncached_usd": [str(v) for v in self.cumulative_uncached],
            "cumulative_cached_usd": [str(v) for v in self.cumulative_cached],
            "strategy": self.strategy,
        }


def growth_series(
    params: ConversationWorkload,
    sheet: PriceSheet,
    policy: CachePolicyView,
    when: datetime,
    *,
    strategy: str | None = None,
    seed: int = 0,
) -> GrowthSeries:
    """One conversation of the workload, priced request by request, without and with caching.

    ``strategy`` defaults to the cheapest caching strategy for this one conversation (the
    static prefix is not warmed by other conversations here). Each turn carries the cost of
    the compaction request and the keep-alive pings that precede it.
    """
    one = replace(params, conversations_per_month=1)
    tl = conversation_timeline(one, seed, origin=_month_start(when))
    names = [n for n, _ in strategies(sheet, policy) if n != "none"]
    options: dict[str, list[Decimal]] = {}
    for name in names:
        costs = _per_request(tl, sheet, policy, name, when, seed, params)
        if costs is not None:
            options[name] = costs
    if strategy is None:
        strategy = cheapest_caching({name: _sum(costs) for name, costs in options.items()})
    cached = options.get(strategy) if strategy != "none" else None
    plain = _per_request(tl, sheet, policy, "none", when, seed, params) or []
    cached = cached or plain
    kinds = tl.kinds
    turn_index = np.cumsum(kinds == KIND_TURN) - 1  # compactions join the turn they precede
    turns = int(turn_index[-1]) + 1 if tl.n else 0
    per_turn_plain = [ZERO] * turns
    per_turn_cached = [ZERO] * turns
    for i in range(tl.n):
        k = int(turn_index[i]) if kinds[i] == KIND_TURN else int(turn_index[i]) + 1
        per_turn_plain[k] = MONEY_CONTEXT.add(per_turn_plain[k], plain[i])
        per_turn_cached[k] = MONEY_CONTEXT.add(per_turn_cached[k], cached[i])
    prompts = tl.input_tokens[kinds == KIND_TURN].tolist()
    return GrowthSeries(list(range(1, turns + 1)), prompts, _cumulative(per_turn_plain),
                        _cumulative(per_turn_cached), strategy)  # fmt: skip


def _cumulative(values: list[Decimal]) -> list[Decimal]:
    out: list[Decimal] = []
    total = ZERO
    for v in values:
        total = MONEY_CONTEXT.add(total, v)
        out.append(total)
    return out


def _per_request(
    tl: Timeline,
    sheet: PriceSheet,
    policy: CachePolicyView,
    name: str,
    when: datetime,
    seed: int,
    params: ConversationWorkload,
) -> list[Decimal] | None:
    """Cost of each request (its pings included) with the engine; None if unpriced."""
    p = params_for(policy, name, hit_rate=params.automatic_hit_rate,
                   retention_seconds=params.automatic_retention_seconds)  # fmt: skip
    if p.write_meter and p.write_meter not in sheet.rates:
        p = replace(p, write_meter="")
    prices = KeepAlivePrices.from_sheet(sheet, p.write_meter) if p.keepalive else None
    b = replay_params(tl, p, seed=seed, keepalive_prices=prices)
    storage_per_request = b.storage_token_seconds
    out: list[Decimal] = []
    for i in range(tl.n):
        fields = {"input_tokens": int(b.uncached[i]), "cache_read_tokens": int(b.read[i]),
                  "output_tokens": int(b.output[i])}  # fmt: skip
        if b.write_meter:
            fields[f"{b.write_meter}_tokens"] = int(b.write[i])
        cost = _rate(sheet, when, **fields)
        if cost is None:
            return None
        if b.pings[i]:
            ping = _rate(sheet, when, requests=int(b.pings[i]),
                         input_tokens=int(b.pings[i]) * PING_INPUT,
                         cache_read_tokens=int(b.pings[i] * b.ping_read[i]),
                         output_tokens=int(b.pings[i]) * PING_OUTPUT)  # fmt: skip
            if ping is None:
                return None
            cost = MONEY_CONTEXT.add(cost, ping)
        if storage_per_request[i]:
            hours = Decimal(repr(float(storage_per_request[i]))) / Decimal(3600)
            storage = _rate(sheet, when, requests=0, cache_storage_token_hours=hours)
            if storage is None:
                return None
            cost = MONEY_CONTEXT.add(cost, storage)
        out.append(cost)
    return out


def _rate(sheet: PriceSheet, when: datetime, **fields: Any) -> Decimal | None:
    record = UsageRecord(provider=sheet.provider, model=sheet.model, timestamp=when, **fields)
    rated = rate_record(record, sheet)
    return rated.total if isinstance(rated, RatedRecord) else None
