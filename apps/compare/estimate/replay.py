"""Cache replay: what each provider's prompt cache would do with a timeline of requests.

Pure NumPy; no prices except the keep-alive decision's. For one cache policy and one
strategy (the names of ``policy.strategies``), every request of the timeline is split into
disjoint buckets: uncached input, cache read, cache write (one retention), output; plus the
keep-alive pings sent in the gap before it and the explicit-cache storage it keeps alive.

The model (``docs/cache-replay.md`` has the sources):

* Each stream keeps one cache entry: its latest request's cached prefix. A request can read
  it when its shared prefix still contains it (``shared`` >= the entry's length) and the
  entry has not expired; a stream whose prompt was cut reads no further than the static
  prefix. Older entries are superseded: each is a prefix of the next, and expires first.
* Streams with the same static length share the static prefix (one application's system
  prompt and tools), kept alive by every request of any of them.
* Explicit caches (Anthropic): breakpoints at the static prefix and at the end of the
  prompt (2 of the 4 allowed); a breakpoint shorter than the model's minimum is not
  cached. A request reads the longest live entry it contains and writes the tokens from
  there to its last breakpoint, so with a cacheable prompt nothing is left uncached.
  Hits refresh the TTL (5 minutes or 1 hour) at no charge.
* Automatic caches (OpenAI, Gemini implicit, DeepSeek, xAI): every prompt of at least the
  minimum length is cached in whole increments and kept while used (retention counts from
  the last use: "cleared after 5-10 minutes of inactivity"). A hit reads the common prefix
  with the previous request of the stream, or the static prefix, rounded down to the
  increment; best-effort caches hit with probability ``hit_rate`` (seeded). Writes are
  free, except for GPT-5.6+ paid retention, where the newly cached tokens are billed as
  writes.
* Explicit storage (Gemini ``cachedContents``): one cache of the static prefix per group,
  created at the input price, its TTL extended by each use; storage is billed in token-hours
  for the time it is alive (until the next use, at most the TTL).
* Keep-alive (5-minute explicit cache): after a request, the client pings the stream's
  entry every TTL while the next request has not come, at most as many times as the pings
  cost less than the rewrite they save (``L x (write - read)`` against ``L x read`` plus one
  token in and out per ping). The client cannot know the gap in advance: in a gap longer
  than that budget the pings are sent and wasted. No pings follow a stream's last request.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final

import numpy as np

from apps.rating.engine import PriceSheet

from .policy import (
    DEFAULT_AUTOMATIC_RETENTION,
    MAX_PINGS_PER_GAP,
    PING_INPUT,
    PING_OUTPUT,
    RETENTION_SECONDS,
    CachePolicyView,
    automatic_ttl,
)
from .timeline import Timeline

MODES: Final = ("none", "explicit", "automatic", "storage")
# Anthropic allows up to 4 cache breakpoints a request; the replay places 2: the static prefix and the end of the prompt. The previous turn's end needs no
# breakpoint of its own: it is the previous request's last one, already an entry.
BREAKPOINTS_USED = 2


@dataclass(frozen=True, slots=True)
class ReplayParams:
    """Everything the replay needs from a policy and a strategy (hashable: a grouping key)."""

    mode: str = "none"  # none | explicit | automatic | storage
    ttl_seconds: float = 0.0
    min_tokens: int = 0
    increment: int = 1
    hit_rate: float = 1.0
    refresh: bool = True  # explicit: a hit refreshes the TTL
    write_meter: str = ""  # meter of written tokens; "" = writes are free (automatic)
    keepalive: bool = False


@dataclass(frozen=True, slots=True)
class KeepAlivePrices:
    """USD per MTok (standard tier): what a ping costs and what the rewrite it saves costs."""

    read: Decimal
    write: Decimal
    input: Decimal
    output: Decimal

    @classmethod
    def from_sheet(
        cls, sheet: PriceSheet, write_meter: str = "cache_write_5m"
    ) -> KeepAlivePrices | None:
        """The sheet's prices, or None when it lacks one of them (no keep-alive then)."""
        read, write = sheet.rates.get("cache_read"), sheet.rates.get(write_meter)
        inp, out = sheet.rates.get("input"), sheet.rates.get("output")
        if read is None or write is None or inp is None or out is None:
            return None
        return cls(read, write, inp, out)

    def scaled(self) -> tuple[int, int, int, int]:
        """The four prices as integers on a common scale, for exact integer decisions."""
        scale = Decimal(10) ** max(_places(p) for p in self.prices)
        read, write, inp, out = (int(p * scale) for p in self.prices)
        return read, write, inp, out

    @property
    def prices(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return (self.read, self.write, self.input, self.output)


def _places(price: Decimal) -> int:
    """Decimal places of a finite price (0 for a whole number)."""
    exponent = price.as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


@dataclass(slots=True)
class Buckets:
    """Per request of the timeline: disjoint token buckets, pings and storage."""

    uncached: np.ndarray  # int64
    read: np.ndarray  # int64
    write: np.ndarray  # int64, all at ``write_meter``
    output: np.ndarray  # int64
    pings: np.ndarray  # int64, keep-alive pings sent in the gap before the request
    ping_read: np.ndarray  # int64, tokens each of those pings reads
    storage_token_seconds: np.ndarray  # float64, explicit-cache storage the request keeps
    write_meter: str = ""
    ttl_seconds: float = 0.0

    @property
    def hits(self) -> int:
        return int((self.read > 0).sum())

    @property
    def prompt_tokens(self) -> int:
        return int(self.uncached.sum() + self.read.sum() + self.write.sum())

    def storage_token_hours(self) -> Decimal:
        """Whole token-hours, as ``quick`` rounds them."""
        seconds = float(self.storage_token_seconds.sum())
        if not seconds:
            return Decimal(0)
        return (Decimal(repr(seconds)) / Decimal(3600)).quantize(Decimal(1))


# --------------------------------------------------------------------------- parameters


def params_for(
    policy: CachePolicyView,
    strategy: str,
    *,
    hit_rate: Decimal | float | None = None,
    retention_seconds: int | None = None,
) -> ReplayParams:
    """The replay parameters of one of ``policy.strategies``' names, as ``quick`` reads them."""
    min_tokens = policy.min_cacheable_tokens or 0
    if strategy == "none":
        return ReplayParams()
    if strategy == "cache_5m_keepalive":
        return ReplayParams("explicit", RETENTION_SECONDS["5m"], min_tokens,
                            refresh=policy.hit_refreshes_ttl, write_meter="cache_write_5m",
                            keepalive=True)  # fmt: skip
    if strategy.startswith("cache_"):
        ttl = strategy.removeprefix("cache_")
        if ttl not in RETENTION_SECONDS:
            raise ValueError(f"unknown strategy {strategy}")
        return ReplayParams(
            "explicit",
            RETENTION_SECONDS[ttl],
            min_tokens,
            refresh=policy.hit_refreshes_ttl,
            write_meter=f"cache_write_{ttl}",
        )
    if strategy == "explicit_storage":
        storage_ttl = RETENTION_SECONDS.get(policy.default_ttl or "1h", 3600)
        return ReplayParams("storage", storage_ttl, min_tokens)
    if strategy.startswith("automatic"):
        ttl = (
            strategy.removeprefix("automatic_")
            if strategy != "automatic"
            else automatic_ttl(policy)
        )
        if strategy != "automatic" and ttl not in RETENTION_SECONDS:
            raise ValueError(f"unknown strategy {strategy}")
        retention = RETENTION_SECONDS.get(ttl or "") or DEFAULT_AUTOMATIC_RETENTION
        if strategy == "automatic" and retention_seconds:
            retention = retention_seconds  # the user's override, as in quick
        if hit_rate is None:
            hit_rate = policy.automatic_hit_rate
        rate = 1.0 if hit_rate is None else float(hit_rate)
        meter = f"cache_write_{ttl}" if policy.write_fee and ttl else ""
        return ReplayParams("automatic", retention, min_tokens, max(policy.increment_tokens, 1),
                            rate, write_meter=meter)  # fmt: skip
    raise ValueError(f"unknown strategy {strategy}")


def replay(
    timeline: Timeline,
    policy: CachePolicyView,
    strategy: str,
    *,
    ttl_seconds: float | None = None,
    min_tokens: int | None = None,
    increment: int | None = None,
    hit_rate: float | None = None,
    seed: int = 0,
    keepalive_prices: KeepAlivePrices | None = None,
    retention_seconds: int | None = None,
) -> Buckets:
    """Replay one strategy of one policy; keyword arguments override the policy's values."""
    params = params_for(policy, strategy, hit_rate=hit_rate, retention_seconds=retention_seconds)
    if ttl_seconds is not None:
        params = replace(params, ttl_seconds=ttl_seconds)
    if min_tokens is not None:
        params = replace(params, min_tokens=min_tokens)
    if increment is not None:
        params = replace(params, increment=increment)
    return replay_params(timeline, params, seed=seed, keepalive_prices=keepalive_prices)


def replay_params(
    timeline: Timeline,
    params: ReplayParams,
    *,
    seed: int = 0,
    keepalive_prices: KeepAlivePrices | None = None,
) -> Buckets:
    """Vectorized replay; an explicit cache whose hits do not refresh uses the loop."""
    if params.mode not in MODES:
        raise ValueError(f"unknown replay mode {params.mode}")
    if params.keepalive and keepalive_prices is None:
        params = replace(params, keepalive=False)
    if params.mode == "explicit" and not params.refresh:
        return replay_loop(timeline, params, seed=seed, keepalive_prices=keepalive_prices)
    return _VECTOR[params.mode](timeline, params, seed, keepalive_prices)


def _empty(tl: Timeline, write_meter: str = "") -> Buckets:
    zeros = np.zeros(tl.n, dtype=np.int64)
    return Buckets(tl.input_tokens.copy(), zeros, zeros.copy(), tl.output.copy(), zeros.copy(),
                   zeros.copy(), np.zeros(tl.n), write_meter)  # fmt: skip


def _none(tl: Timeline, p: ReplayParams, seed: int, prices: KeepAlivePrices | None) -> Buckets:
    return _empty(tl)


def _explicit(tl: Timeline, p: ReplayParams, seed: int, prices: KeepAlivePrices | None) -> Buckets:
    prompt, shared, static = tl.input_tokens, tl.shared, tl.static
    has_prev, gap, prev = tl.stream_prev()
    group_gap, _ = tl.group_gaps()
    m, ttl = max(p.min_tokens, 1), p.ttl_seconds
    entry = has_prev & (prev >= m)  # the previous request's last breakpoint
    alive = gap <= ttl
    pings = np.zeros(tl.n, dtype=np.int64)
    ping_read = np.zeros(tl.n, dtype=np.int64)
    if p.keepalive and prices is not None:
        budget = _ping_budget(prev, prices)
        finite_gap = np.where(has_prev, gap, 0.0)
        needed = np.where(finite_gap > ttl, np.ceil(finite_gap / ttl) - 1, 0).astype(np.int64)
        send = entry & (budget > 0)
        pings = np.where(send, np.minimum(needed, budget), 0)
        ping_read = np.where(pings > 0, prev, 0)
        alive |= send & (needed <= budget)
    from_stream = entry & alive & (prev <= shared)
    static_ok = static >= m
    from_group = static_ok & (group_gap <= ttl)
    read = np.where(from_stream, prev, np.where(from_group, static, 0))
    last = np.where(prompt >= m, prompt, np.where(static_ok, static, 0))
    write = np.maximum(last - read, 0)
    uncached = prompt - read - write
    return Buckets(uncached, read, write, tl.output.copy(), pings, ping_read, np.zeros(tl.n),
                   p.write_meter, ttl)  # fmt: skip


def _ping_budget(entry: np.ndarray, prices: KeepAlivePrices) -> np.ndarray:
    """Pings worth sending through one gap: floor(rewrite saving / ping cost), exactly."""
    read, write, inp, out = prices.scaled()
    saving = entry * max(write - read, 0)
    cost = entry * read + PING_INPUT * inp + PING_OUTPUT * out
    budget = np.where(cost > 0, saving // np.maximum(cost, 1), MAX_PINGS_PER_GAP)
    return np.minimum(budget, MAX_PINGS_PER_GAP).astype(np.int64)


def _cached_length(tokens: np.ndarray, p: ReplayParams) -> np.ndarray:
    step = max(p.increment, 1)
    floor = (tokens // step) * step
    return np.where(floor >= max(p.min_tokens, 1), floor, 0)


def _automatic(tl: Timeline, p: ReplayParams, seed: int, prices: KeepAlivePrices | None) -> Buckets:
    prompt, shared, static = tl.input_tokens, tl.shared, tl.static
    has_prev, gap, prev = tl.stream_prev()
    group_gap, _ = tl.group_gaps()
    ttl = p.ttl_seconds
    from_stream = np.where(has_prev & (gap <= ttl), _cached_length(np.minimum(shared, prev), p), 0)
    from_group = np.where(group_gap <= ttl, _cached_length(static, p), 0)
    read = np.maximum(from_stream, from_group)
    if p.hit_rate < 1.0:
        hit = np.random.default_rng(seed).random(tl.n) < p.hit_rate
        read = np.where(hit, read, 0)
    if p.write_meter:
        write = np.maximum(_cached_length(prompt, p) - read, 0)
    else:
        write = np.zeros(tl.n, dtype=np.int64)
    uncached = prompt - read - write
    zeros = np.zeros(tl.n, dtype=np.int64)
    return Buckets(uncached, read, write, tl.output.copy(), zeros, zeros.copy(), np.zeros(tl.n),
                   p.write_meter, ttl)  # fmt: skip


def _storage(tl: Timeline, p: ReplayParams, seed: int, prices: KeepAlivePrices | None) -> Buckets:
    prompt, static = tl.input_tokens, tl.static
    before, after = tl.group_gaps()
    ttl = p.ttl_seconds
    static_ok = static >= max(p.min_tokens, 1)
    read = np.where(static_ok & (before <= ttl), static, 0)
    # created at the input price (no write meter); alive until the next use, at most the TTL
    storage = np.where(static_ok, static * np.minimum(after, ttl), 0.0)
    zeros = np.zeros(tl.n, dtype=np.int64)
    return Buckets(prompt - read, read, zeros, tl.output.copy(), zeros.copy(), zeros.copy(),
                   storage, "", ttl)  # fmt: skip


_Replay = Callable[[Timeline, ReplayParams, int, KeepAlivePrices | None], Buckets]
_VECTOR: Final[dict[str, _Replay]] = {
    "none": _none,
    "explicit": _explicit,
    "automatic": _automatic,
    "storage": _storage,
}


# --------------------------------------------------------------------------- the reference


def replay_loop(
    timeline: Timeline,
    params: ReplayParams,
    *,
    seed: int = 0,
    keepalive_prices: KeepAlivePrices | None = None,
) -> Buckets:
    """The same model, one request at a time in time order: the readable specification.

    The vectorized replay must agree with it exactly (tests check both on random
    timelines). It also serves explicit caches whose hits do not refresh the TTL.
    """
    tl, p = timeline, params
    n = tl.n
    out = _empty(tl, p.write_meter)
    if p.mode == "none":
        return out
    prompt, shared, static = tl.input_tokens.tolist(), tl.shared.tolist(), tl.static.tolist()
    t, stream = tl.t.tolist(), tl.stream.tolist()
    m, ttl, step = max(p.min_tokens, 1), p.ttl_seconds, max(p.increment, 1)
    hit = [True] * n
    if p.mode == "automatic" and p.hit_rate < 1.0:
        hit = (np.random.default_rng(seed).random(n) < p.hit_rate).tolist()
    budget_of: Callable[[int], int] | None = None
    if p.mode == "explicit" and p.keepalive and keepalive_prices is not None:
        budget_of = _loop_budget(keepalive_prices.scaled())

    def cached(tokens: int) -> int:
        floor = tokens // step * step
        return floor if floor >= m else 0

    # Times are compared as gaps (now - then <= ttl), exactly as the vectorized code does.
    entries: dict[int, tuple[int, float]] = {}  # stream -> (length, written or last refreshed)
    last_seen: dict[int, tuple[float, int]] = {}  # stream -> (t, prompt) of its last request
    group: dict[int, float] = {}  # static length -> time of its last write or use
    group_last: dict[int, int] = {}  # static length -> index of its last use (storage)
    uncached, read_out, write_out = [0] * n, [0] * n, [0] * n
    pings, ping_read, storage = [0] * n, [0] * n, [0.0] * n
    for i in np.argsort(tl.t, kind="stable").tolist():
        s, now, size, common, st = stream[i], t[i], prompt[i], shared[i], static[i]
        read = write = 0
        if p.mode == "explicit":
            entry = entries.get(s)
            alive = entry is not None and now - entry[1] <= ttl
            if entry is not None and not alive and budget_of is not None:
                needed = math.ceil((now - entry[1]) / ttl) - 1
                budget = budget_of(entry[0])
                pings[i] = min(needed, budget)
                ping_read[i] = entry[0] if pings[i] else 0
                alive = needed <= budget
            if alive and entry is not None and entry[0] <= common:
                read = entry[0]
            if st >= m and st in group and now - group[st] <= ttl:
                read = max(read, st)
            last = size if size >= m else (st if st >= m else 0)
            write = max(last - read, 0)
            if entry is not None and entry[0] > common:
                del entries[s]  # the prompt changed before the entry's end: never again
                entry = None
            if size >= m and (p.refresh or not alive or entry is None or entry[0] != size):
                entries[s] = (size, now)
            if st >= m and (p.refresh or st not in group or now - group[st] > ttl):
                group[st] = now
        elif p.mode == "automatic":
            prev = last_seen.get(s)
            if prev is not None and now - prev[0] <= ttl:
                read = cached(min(common, prev[1]))
            if st in group and now - group[st] <= ttl:
                read = max(read, cached(st))
            read = read if hit[i] else 0
            write = max(cached(size) - read, 0) if p.write_meter else 0
            last_seen[s] = (now, size)
            group[st] = now
        elif p.mode == "storage" and st >= m:
            if st in group:
                gap = now - group[st]
                storage[group_last[st]] = st * min(gap, ttl)
                read = st if gap <= ttl else 0
            group[st], group_last[st] = now, i
        uncached[i], read_out[i], write_out[i] = size - read - write, read, write
    if p.mode == "storage":
        for st, i in group_last.items():
            storage[i] = st * ttl  # the last use keeps the cache until it expires
    return Buckets(_ints(uncached), _ints(read_out), _ints(write_out), tl.output.copy(),
                   _ints(pings), _ints(ping_read), np.asarray(storage, dtype=np.float64),
                   p.write_meter, ttl)  # fmt: skip


def _loop_budget(scaled: tuple[int, int, int, int]) -> Callable[[int], int]:
    """Pings worth sending through one gap for an entry of ``length`` tokens (the loop's)."""
    read, write, inp, outp = scaled

    def budget_of(length: int) -> int:
        cost = length * read + PING_INPUT * inp + PING_OUTPUT * outp
        if cost <= 0:
            return MAX_PINGS_PER_GAP
        return min(length * max(write - read, 0) // cost, MAX_PINGS_PER_GAP)

    return budget_of


def _ints(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)
