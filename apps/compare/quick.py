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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from apps.rating.engine import (
    CACHE_WRITE_METERS,
    MONEY_CONTEXT,
    ZERO,
    PriceSheet,
    RatedRecord,
    UsageRecord,
    rate_record,
    sum_amounts,
)

RETENTION_SECONDS = {"5m": 300, "30m": 1800, "1h": 3600, "12h": 43200, "24h": 86400}
# Automatic caches whose retention no source states (OpenAI in-memory caches are "typically
# cleared after 5-10 minutes of inactivity": pricing-facts section 2): assume the short end.
DEFAULT_AUTOMATIC_RETENTION = 300
# A keep-alive ping: the cached prefix plus a token of new input and one of output.
PING_INPUT, PING_OUTPUT = 1, 1
MAX_PINGS_PER_GAP = 10_000
MAX_TOKENS = 100_000_000  # per request; far beyond any context window
MAX_GAP_SECONDS = 30 * 86_400  # a gap, or a retention, longer than a month is no cache


class WorkloadError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


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
            ("requests_per_month", self.requests_per_month <= 10**10, "must be at most 10,000,000,000"),
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


def validate_retention(seconds: int | None) -> None:
    """An automatic cache's assumed retention: absent, or 1 s to 30 days."""
    if seconds is None:
        return
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise WorkloadError("automatic_retention_seconds", "must be a whole number of seconds")
    if not 1 <= seconds <= MAX_GAP_SECONDS:
        raise WorkloadError(
            "automatic_retention_seconds", f"must be between 1 and {MAX_GAP_SECONDS:,} seconds"
        )


@dataclass(frozen=True, slots=True)
class CachePolicyView:
    """What the replay needs from a catalog cache policy (model row over provider row)."""

    kind: str  # explicit | automatic | both | none
    ttl_options: tuple[str, ...] = ()
    default_ttl: str = ""
    hit_refreshes_ttl: bool = True
    min_cacheable_tokens: int = 0
    increment_tokens: int = 1
    automatic_hit_rate: Decimal | None = None
    write_fee: bool = False


@dataclass(slots=True)
class StrategyResult:
    name: str
    label: str
    cost: Decimal = ZERO
    meters: dict[str, Decimal] = field(default_factory=dict)
    prompt_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    hits: int = 0
    pings: int = 0
    batch_savings: Decimal = ZERO
    unpriced: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def hit_rate(self) -> Decimal:
        if not self.prompt_tokens:
            return ZERO
        return (Decimal(self.cache_read_tokens) / Decimal(self.prompt_tokens)).quantize(
            Decimal("0.0001")
        )


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
        memo: dict[tuple, tuple] | None = None,
    ):
        self.sheet, self.workload, self.when, self.result = sheet, workload, when, result
        self.batch_ok = sheet.offers_tier("batch")
        # one request's price per (time, tier, token shape): strategies share shapes
        self.memo: dict[tuple, tuple] = memo if memo is not None else {}

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
                self._price(tier, n, input_tokens, output_tokens, read, write, write_meter)
        self.result.prompt_tokens += count * (input_tokens + read + write)
        self.result.cache_read_tokens += count * read
        self.result.cache_write_tokens += count * write

    def _price(self, tier, n, input_tokens, output_tokens, read, write, write_meter) -> None:
        for when, count in self._spread(n):
            self._price_at(when, tier, count, input_tokens, output_tokens, read, write, write_meter)

    def _spread(self, n: int) -> list[tuple[datetime, int]]:
        """Requests arrive around the clock: with time-of-day bands (DeepSeek off-peak), price
        an equal share in each hour of the day instead of all at the instant of the estimate."""
        if not self.sheet.time_bands:
            return [(self.when, n)]
        day = self.when.replace(hour=0, minute=0, second=0, microsecond=0)
        share, extra = divmod(n, 24)
        # Hours in the same band price alike, and the engine is exact and linear in the
        # request count: one record per band (at its first hour) gives the same amounts.
        groups: dict[object, list] = {}
        for h in range(24):
            when = day + timedelta(hours=h, minutes=30)
            group = groups.setdefault(self.sheet.band(when), [when, 0])
            group[1] += share + (1 if h < extra else 0)
        return [(when, count) for when, count in groups.values()]

    def _price_at(
        self, when, tier, n, input_tokens, output_tokens, read, write, write_meter
    ) -> None:
        if n <= 0:
            return
        key = (when, tier, input_tokens, output_tokens, read, write, write_meter)
        priced = self.memo.get(key)
        if priced is None:
            priced = self.memo[key] = self._price_one(key)
        rated, savings = priced
        result = self.result
        if type(rated) is str:
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

    def _price_one(self, key: tuple) -> tuple[tuple[tuple[str, Decimal], ...] | str, Decimal]:
        """(meter amounts of ONE request, or the unpriced reason; its batch saving)."""
        when, tier, input_tokens, output_tokens, read, write, write_meter = key
        fields = {"input_tokens": input_tokens, "output_tokens": output_tokens,
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


def strategies(sheet: PriceSheet, policy: CachePolicyView) -> list[tuple[str, str]]:
    """(name, label) of every caching strategy this model offers, 'none' first."""
    out = [("none", "no caching")]
    kind = policy.kind
    if kind in ("explicit", "both"):
        for ttl in policy.ttl_options:
            meter = f"cache_write_{ttl}"
            if kind == "explicit" and meter in sheet.rates:
                out.append((f"cache_{ttl}", f"explicit cache, {ttl} TTL"))
        if kind == "explicit" and "cache_write_5m" in sheet.rates and "5m" in policy.ttl_options:
            out.append(
                ("cache_5m_keepalive", "explicit cache, 5m TTL kept alive by pings when cheaper")
            )
        if (
            kind == "both"
            and sheet.storage_per_mtok_hour is not None
            and "cache_read" in sheet.rates
        ):
            out.append(
                (
                    "explicit_storage",
                    f"explicit cache with storage, {policy.default_ttl or '1h'} TTL",
                )
            )
    if kind in ("automatic", "both") and "cache_read" in sheet.rates:
        out.append(("automatic", "automatic prefix caching"))
        if policy.write_fee:
            for ttl in policy.ttl_options:
                if ttl != (policy.default_ttl or ttl) and f"cache_write_{ttl}" in sheet.rates:
                    out.append((f"automatic_{ttl}", f"automatic caching with {ttl} paid retention"))
    return out


def estimate_model(
    sheet: PriceSheet, policy: CachePolicyView, workload: QuickWorkload, when: datetime
) -> list[StrategyResult]:
    """Monthly cost of the workload on one model under each available strategy."""
    results = []
    memo: dict[tuple, tuple] = {}
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
        ttl = RETENTION_SECONDS.get(policy.default_ttl or "1h", 3600)
        hits = _hits(w, ttl)
        bill.result.hits = hits
        # creating the cache bills its tokens as input; it then lives min(gap, TTL) per request
        alive_seconds = n * _expected_min_gap(w, ttl)
        storage = (Decimal(p) * Decimal(repr(alive_seconds)) / Decimal(3600)).quantize(Decimal(1))
        bill.add(hits, input_tokens=i - p, output_tokens=o, read=p)
        bill.add(n - hits, input_tokens=i, output_tokens=o)
        _add_storage(bill, storage)
        return
    if name.startswith("automatic"):
        ttl_name = (
            name.removeprefix("automatic_") if name != "automatic" else _automatic_ttl(policy)
        )
        retention = (
            RETENTION_SECONDS.get(ttl_name)
            or w.automatic_retention_seconds
            or DEFAULT_AUTOMATIC_RETENTION
        )
        if w.automatic_retention_seconds and name == "automatic":
            retention = w.automatic_retention_seconds
        rate = (
            w.automatic_hit_rate if w.automatic_hit_rate is not None else policy.automatic_hit_rate
        )
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
        return
    raise ValueError(f"unknown strategy {name}")


def _automatic_ttl(policy: CachePolicyView) -> str:
    """The retention of an automatic cache. With both kinds (Gemini), the default TTL is the
    explicit cache's; the implicit cache's retention is not published, so none is assumed."""
    return "" if policy.kind == "both" else (policy.default_ttl or "")


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
    read, write, inp, out = (
        sheet.rates.get(k) for k in ("cache_read", "cache_write_5m", "input", "output")
    )
    if None in (read, write, inp, out):
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


__all__ = [
    "CACHE_WRITE_METERS",
    "CachePolicyView",
    "QuickWorkload",
    "StrategyResult",
    "WorkloadError",
    "estimate_model",
    "hit_probability",
    "strategies",
]
