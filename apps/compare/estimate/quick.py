"""The quick workload in closed form: requests per month sharing a stable prefix.

Pure Python. For one model (its price sheet and cache policy) and a quick workload, every
caching strategy the provider offers becomes a handful of aggregate usage records (hits,
misses, keep-alive pings, batch and standard shares), which the rating engine prices. No
rule of money lives here: this module only counts tokens.

Arrivals of requests that share the prefix are Poisson with the given mean gap (or exactly
that gap with ``arrival="fixed"``). With a TTL of T refreshed on every hit (Anthropic),
a request finds the prefix cached when the gap since the previous one is at most T, which
for Poisson arrivals has probability 1 - exp(-T/gap). Counts are expectations rounded to
whole requests, so a result is reproducible and exact to the cent given those counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from apps.rating.engine import (
    MONEY_CONTEXT,
    ZERO,
    PriceSheet,
    RatedRecord,
    TimeBand,
    UsageRecord,
    rate_record,
    sum_amounts,
)

from .policy import (
    DEFAULT_AUTOMATIC_RETENTION,
    MAX_PINGS_PER_GAP,
    PING_INPUT,
    PING_OUTPUT,
    RETENTION_SECONDS,
    CachePolicyView,
    automatic_ttl,
    strategies,
)
from .results import Candidate, ModelEstimate, StrategyResult, model_estimates
from .workload import MAX_GAP_SECONDS, MAX_TOKENS, WorkloadError, validate_retention

MAX_REQUESTS_PER_MONTH: Final = 10**10

# One request's shape at one price: (time, tier, input, output, read, write, write meter).
_Shape = tuple[datetime, str, int, int, int, int, str]
# What one request of a shape costs: its meter amounts (or why it is unpriced), and what
# the batch tier saved on it.
_Priced = tuple[tuple[tuple[str, Decimal], ...] | str, Decimal]


@dataclass(frozen=True, slots=True)
class QuickWorkload:
    requests_per_month: int
    input_tokens: int  # all prompt tokens of a request, prefix included
    output_tokens: int
    cached_prefix_tokens: int = 0  # the stable leading part of input_tokens
    mean_gap_seconds: float = 60.0  # between requests that share the prefix
    batch_share: Decimal = Decimal(0)  # 0..1 of requests that can wait for batch
    arrival: str = "poisson"  # or "fixed"
    automatic_hit_rate: Decimal | None = None  # override of the policy's best-effort rate
    automatic_retention_seconds: int | None = None

    def validate(self) -> None:
        checks = [
            ("requests_per_month", self.requests_per_month >= 0, "must be 0 or more"),
            ("requests_per_month", self.requests_per_month <= MAX_REQUESTS_PER_MONTH,
             "must be at most 10,000,000,000"),
            ("input_tokens", 0 <= self.input_tokens <= MAX_TOKENS, "must be between 0 and 100,000,000"),
            ("output_tokens", 0 <= self.output_tokens <= MAX_TOKENS, "must be between 0 and 100,000,000"),
            ("cached_prefix_tokens", 0 <= self.cached_prefix_tokens <= self.input_tokens,
             "must be between 0 and input_tokens"),
            ("mean_gap_seconds", 0 < self.mean_gap_seconds <= MAX_GAP_SECONDS,
             f"must be more than 0 and at most {MAX_GAP_SECONDS:,} (30 days)"),
            ("batch_share", Decimal(0) <= self.batch_share <= Decimal(1), "must be between 0 and 1"),
            ("arrival", self.arrival in ("poisson", "fixed"), "must be poisson or fixed"),
        ]  # fmt: skip
        for name, ok, message in checks:
            if not ok:
                raise WorkloadError(name, message)
        if self.automatic_hit_rate is not None and not Decimal(0) <= self.automatic_hit_rate <= 1:
            raise WorkloadError("automatic_hit_rate", "must be between 0 and 1")
        validate_retention(self.automatic_retention_seconds)


def estimate_quick(
    workload: QuickWorkload, candidates: Iterable[Candidate], when: datetime
) -> list[ModelEstimate]:
    """Every candidate's best monthly bill for a (validated) workload, cheapest first."""
    priced = [(c, estimate_model(c.sheet, c.policy, workload, when)) for c in candidates]
    return model_estimates(priced, workload.requests_per_month)


def hit_probability(workload: QuickWorkload, ttl_seconds: float) -> float:
    """Probability that the previous request sharing the prefix came at most ttl seconds before."""
    if workload.arrival == "fixed":
        return 1.0 if workload.mean_gap_seconds <= ttl_seconds else 0.0
    return 1.0 - math.exp(-ttl_seconds / workload.mean_gap_seconds)


def _split(count: int, share: Decimal) -> tuple[int, int]:
    batch = int((Decimal(count) * share).to_integral_value())
    return count - batch, batch


class _Bill:
    """Accumulates aggregate records for one strategy and prices them with the engine."""

    def __init__(
        self,
        sheet: PriceSheet,
        workload: QuickWorkload,
        when: datetime,
        result: StrategyResult,
        memo: dict[_Shape, _Priced] | None = None,
    ) -> None:
        self.sheet, self.workload, self.when, self.result = sheet, workload, when, result
        self.batch_ok = sheet.offers_tier("batch")
        # one request's price per (time, tier, token shape): strategies share shapes
        self.memo: dict[_Shape, _Priced] = memo if memo is not None else {}

    def add(
        self,
        count: int,
        *,
        input_tokens: int,
        output_tokens: int,
        read: int = 0,
        write: int = 0,
        write_meter: str = "",
        batchable: bool = True,
    ) -> None:
        if count <= 0:
            return
        share = self.workload.batch_share if self.batch_ok and batchable else Decimal(0)
        standard, batch = _split(count, share)
        for tier, n in (("standard", standard), ("batch", batch)):
            if n:
                for when, part in self._spread(n):
                    shape = (when, tier, input_tokens, output_tokens, read, write, write_meter)
                    self._price_at(shape, part)
        self.result.prompt_tokens += count * (input_tokens + read + write)
        self.result.cache_read_tokens += count * read
        self.result.cache_write_tokens += count * write

    def _spread(self, n: int) -> list[tuple[datetime, int]]:
        """Requests arrive around the clock: with time-of-day bands (DeepSeek off-peak), price
        an equal share in each hour of the day instead of all at the instant of the estimate."""
        if not self.sheet.time_bands:
            return [(self.when, n)]
        day = self.when.replace(hour=0, minute=0, second=0, microsecond=0)
        share, extra = divmod(n, 24)
        # Hours in the same band price alike, and the engine is exact and linear in the
        # request count: one record per band (at its first hour) gives the same amounts.
        first: dict[TimeBand | None, datetime] = {}
        counts: dict[TimeBand | None, int] = {}
        for h in range(24):
            when = day + timedelta(hours=h, minutes=30)
            band = self.sheet.band(when)
            first.setdefault(band, when)
            counts[band] = counts.get(band, 0) + share + (1 if h < extra else 0)
        return [(when, counts[band]) for band, when in first.items()]

    def _price_at(self, shape: _Shape, n: int) -> None:
        if n <= 0:
            return
        priced = self.memo.get(shape)
        if priced is None:
            priced = self.memo[shape] = self._price_one(shape)
        rated, savings = priced
        result = self.result
        if isinstance(rated, str):
            result.unpriced = rated
            return
        # The engine is exact and linear: n requests cost n times one (long-context tiers
        # judge an aggregate by its mean request, which is this one).
        count = Decimal(n)
        add, multiply = MONEY_CONTEXT.add, MONEY_CONTEXT.multiply
        meters = result.meters
        for meter, amount in rated:
            meters[meter] = add(meters.get(meter, ZERO), multiply(count, amount))
        result.cost = add(result.cost, multiply(count, sum_amounts(a for _, a in rated)))
        if savings:
            result.batch_savings = add(result.batch_savings, multiply(count, savings))

    def _price_one(self, shape: _Shape) -> _Priced:
        """(meter amounts of ONE request, or the unpriced reason; its batch saving)."""
        when, tier, input_tokens, output_tokens, read, write, write_meter = shape
        fields: dict[str, Any] = {"input_tokens": input_tokens, "output_tokens": output_tokens,
                                  "cache_read_tokens": read}  # fmt: skip
        if write:
            fields[f"{write_meter}_tokens"] = write
        sheet = self.sheet
        record = UsageRecord(
            provider=sheet.provider, model=sheet.model, timestamp=when, service_tier=tier, **fields
        )
        rated = rate_record(record, sheet)
        if not isinstance(rated, RatedRecord):
            return rated.reason, ZERO
        savings = ZERO
        if tier == "batch":
            standard = UsageRecord(
                provider=sheet.provider, model=sheet.model, timestamp=when, **fields
            )
            full = rate_record(standard, sheet)
            if isinstance(full, RatedRecord):
                savings = full.total - rated.total
        return tuple((item.meter, item.amount) for item in rated.items), savings


def estimate_model(
    sheet: PriceSheet, policy: CachePolicyView, workload: QuickWorkload, when: datetime
) -> list[StrategyResult]:
    """Monthly cost of the workload on one model under each available strategy."""
    results = []
    memo: dict[_Shape, _Priced] = {}
    for name, label in strategies(sheet, policy):
        result = StrategyResult(name, label)
        bill = _Bill(sheet, workload, when, result, memo)
        _fill(name, bill, sheet, policy, workload)
        results.append(result)
    return results


def _fill(
    name: str, bill: _Bill, sheet: PriceSheet, policy: CachePolicyView, w: QuickWorkload
) -> None:
    n, p, i, o = w.requests_per_month, w.cached_prefix_tokens, w.input_tokens, w.output_tokens
    cacheable = p >= policy.min_cacheable_tokens and p > 0
    if name == "none" or not cacheable:
        if name != "none" and not cacheable:
            bill.result.notes.append(
                f"the prefix ({p} tokens) is below the minimum cacheable length ({policy.min_cacheable_tokens})"
            )
        bill.add(n, input_tokens=i, output_tokens=o)
        return
    if name.startswith("cache_") and not name.endswith("keepalive"):
        ttl = name.removeprefix("cache_")
        hits = _hits(w, RETENTION_SECONDS[ttl])
        bill.result.hits = hits
        bill.add(hits, input_tokens=i - p, output_tokens=o, read=p)
        bill.add(
            n - hits, input_tokens=i - p, output_tokens=o, write=p, write_meter=f"cache_write_{ttl}"
        )
        return
    if name == "cache_5m_keepalive":
        _keepalive(bill, sheet, w)
        return
    if name == "explicit_storage":
        ttl_seconds = RETENTION_SECONDS.get(policy.default_ttl or "1h", 3600)
        hits = _hits(w, ttl_seconds)
        bill.result.hits = hits
        # creating the cache bills its tokens as input; it then lives min(gap, TTL) per request
        alive_seconds = n * _expected_min_gap(w, ttl_seconds)
        storage = (Decimal(p) * Decimal(repr(alive_seconds)) / Decimal(3600)).quantize(Decimal(1))
        bill.add(hits, input_tokens=i - p, output_tokens=o, read=p)
        bill.add(n - hits, input_tokens=i, output_tokens=o)
        _add_storage(bill, storage)
        return
    if name.startswith("automatic"):
        _automatic(name, bill, sheet, policy, w)
        return
    raise ValueError(f"unknown strategy {name}")


def _automatic(
    name: str, bill: _Bill, sheet: PriceSheet, policy: CachePolicyView, w: QuickWorkload
) -> None:
    n, p, i, o = w.requests_per_month, w.cached_prefix_tokens, w.input_tokens, w.output_tokens
    ttl_name = name.removeprefix("automatic_") if name != "automatic" else automatic_ttl(policy)
    retention = (
        RETENTION_SECONDS.get(ttl_name)
        or w.automatic_retention_seconds
        or DEFAULT_AUTOMATIC_RETENTION
    )
    if w.automatic_retention_seconds and name == "automatic":
        retention = w.automatic_retention_seconds
    rate = w.automatic_hit_rate if w.automatic_hit_rate is not None else policy.automatic_hit_rate
    rate = Decimal(1) if rate is None else rate
    step = max(policy.increment_tokens, 1)
    cached = (p // step) * step
    hits = int((Decimal(repr(_hits(w, retention))) * rate).to_integral_value())
    bill.result.hits = hits
    bill.add(hits, input_tokens=i - cached, output_tokens=o, read=cached)
    write_meter = f"cache_write_{ttl_name}" if policy.write_fee and ttl_name else ""
    if write_meter and write_meter in sheet.rates:
        bill.add(
            n - hits,
            input_tokens=i - cached,
            output_tokens=o,
            write=cached,
            write_meter=write_meter,
        )
    else:
        bill.add(n - hits, input_tokens=i, output_tokens=o)


def _hits(w: QuickWorkload, ttl_seconds: float) -> int:
    if w.requests_per_month <= 1:
        return 0
    return int(round((w.requests_per_month - 1) * hit_probability(w, ttl_seconds)))


def _expected_min_gap(w: QuickWorkload, ttl: float) -> float:
    if w.arrival == "fixed":
        return min(w.mean_gap_seconds, ttl)
    return w.mean_gap_seconds * (1.0 - math.exp(-ttl / w.mean_gap_seconds))


def _add_storage(bill: _Bill, token_hours: Decimal) -> None:
    if not token_hours:
        return
    record = UsageRecord(provider=bill.sheet.provider, model=bill.sheet.model, timestamp=bill.when,
                         requests=0, cache_storage_token_hours=token_hours)  # fmt: skip
    rated = rate_record(record, bill.sheet)
    if isinstance(rated, RatedRecord):
        for item in rated.items:
            bill.result.meters[item.meter] = MONEY_CONTEXT.add(
                bill.result.meters.get(item.meter, ZERO), item.amount
            )
        bill.result.cost = MONEY_CONTEXT.add(bill.result.cost, rated.total)
    else:
        bill.result.unpriced = rated.reason


def _keepalive(bill: _Bill, sheet: PriceSheet, w: QuickWorkload) -> None:
    """5-minute cache kept warm by pings through a gap when they cost less than a rewrite."""
    n, p, i, o = w.requests_per_month, w.cached_prefix_tokens, w.input_tokens, w.output_tokens
    ttl = RETENTION_SECONDS["5m"]
    read, write = sheet.rates.get("cache_read"), sheet.rates.get("cache_write_5m")
    inp, out = sheet.rates.get("input"), sheet.rates.get("output")
    if read is None or write is None or inp is None or out is None:
        bill.add(n, input_tokens=i, output_tokens=o)
        return
    ping_cost = Decimal(p) * read + Decimal(PING_INPUT) * inp + Decimal(PING_OUTPUT) * out
    rewrite_saving = Decimal(p) * (write - read)
    # the most pings worth sending through one gap: k pings cover a gap of up to (k + 1) x TTL
    k_max = min(
        int(rewrite_saving // ping_cost) if ping_cost else MAX_PINGS_PER_GAP, MAX_PINGS_PER_GAP
    )
    gaps = max(n - 1, 0)
    if w.arrival == "fixed":
        needed = max(math.ceil(w.mean_gap_seconds / ttl) - 1, 0)
        kept = needed <= k_max
        hits, pings = (gaps, gaps * needed) if kept else (0, 0)
    else:
        a = ttl / w.mean_gap_seconds
        covered = 1.0 - math.exp(-(k_max + 1) * a)
        # expected pings per gap: sum over k of k x P(k x TTL < gap <= (k + 1) x TTL)
        per_gap = sum(k * (math.exp(-k * a) - math.exp(-(k + 1) * a)) for k in range(1, k_max + 1))
        # a client cannot know how long a gap will be: in gaps too long to bridge it still
        # sends its k_max pings before the cache expires anyway
        per_gap += k_max * math.exp(-(k_max + 1) * a)
        hits, pings = int(round(gaps * covered)), int(round(gaps * per_gap))
    bill.result.hits, bill.result.pings = hits, pings
    bill.add(hits, input_tokens=i - p, output_tokens=o, read=p)
    bill.add(n - hits, input_tokens=i - p, output_tokens=o, write=p, write_meter="cache_write_5m")
    bill.add(pings, input_tokens=PING_INPUT, output_tokens=PING_OUTPUT, read=p, batchable=False)
