"""Resumes in imported logs: what re-writing caches after idle gaps cost, above a warm read.

Pure, one pass over the requests in time order. The rules (docs/plans.md, "Resume cost"):

* A conversation is one session id and one model (a cache belongs to a model). Requests
  without a session id are skipped: unrelated API calls are not a conversation.
* Its TTL is 1 hour when it wrote more 1-hour than 5-minute cache tokens so far, else
  5 minutes (Anthropic's default).
* A request at least one TTL after the previous one of its conversation that writes cache
  tokens is a resume. What it re-writes is its cache writes, up to the previous request's
  whole prompt (what the cache held); the new turn would have been written anyway.
* The premium is the request's cost minus the same request with those tokens read from
  the cache instead: the engine prices both, at the version in effect at the request.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

from apps.rating.engine import (
    MONEY_CONTEXT,
    ZERO,
    PriceSheet,
    RatedRecord,
    UsageRecord,
    rate_record,
)

TTL: Final = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1)}
TOP: Final = 10


@dataclass(frozen=True, slots=True)
class Resume:
    timestamp: datetime
    session_id: str
    model: str
    idle: timedelta
    ttl: str
    context_tokens: int  # the resumed request's whole prompt
    rewritten_tokens: int
    premium: Decimal  # what the re-write cost above reading the same tokens warm
    cost: Decimal  # the resumed request's whole cost


@dataclass(slots=True)
class _Conversation:
    last: datetime
    prompt: int
    written_5m: int = 0
    written_1h: int = 0

    @property
    def ttl(self) -> str:
        return "1h" if self.written_1h > self.written_5m else "5m"


def _moved(record: UsageRecord, ttl: str, tokens: int) -> UsageRecord:
    """The same request with ``tokens`` of its cache writes read from the cache instead.

    The conversation's own TTL bucket gives them up first.
    """
    w5, w1 = record.cache_write_5m_tokens, record.cache_write_1h_tokens
    if ttl == "1h":
        from_1h = min(tokens, w1)
        from_5m = min(tokens - from_1h, w5)
    else:
        from_5m = min(tokens, w5)
        from_1h = min(tokens - from_5m, w1)
    return replace(
        record,
        cache_write_5m_tokens=w5 - from_5m,
        cache_write_1h_tokens=w1 - from_1h,
        cache_read_tokens=record.cache_read_tokens + from_5m + from_1h,
    )


@dataclass(slots=True)
class ResumeScanner:
    by_month: dict[date, Decimal] = field(default_factory=dict)
    count_by_month: dict[date, int] = field(default_factory=dict)
    _conversations: dict[tuple[str, str], _Conversation] = field(default_factory=dict)
    _top: list[tuple[Decimal, int, Resume]] = field(default_factory=list)
    _seen: int = 0

    def add(self, record: UsageRecord, sheet: PriceSheet | None) -> Resume | None:
        if not record.session_id:
            return None
        key = (record.session_id, sheet.model if sheet else record.model)
        writes = record.cache_write_5m_tokens + record.cache_write_1h_tokens
        state = self._conversations.get(key)
        found = None
        if state is not None and writes and sheet is not None:
            idle = record.timestamp - state.last
            if idle >= TTL[state.ttl]:
                found = self._resume(record, sheet, state, idle, min(writes, state.prompt))
        if state is None:
            state = self._conversations[key] = _Conversation(record.timestamp, 0)
        state.last = record.timestamp
        state.prompt = record.prompt_tokens
        state.written_5m += record.cache_write_5m_tokens
        state.written_1h += record.cache_write_1h_tokens
        return found

    def _resume(
        self, record: UsageRecord, sheet: PriceSheet, state: _Conversation, idle: timedelta,
        rewritten: int,
    ) -> Resume | None:  # fmt: skip
        actual = rate_record(record, sheet)
        warm = rate_record(_moved(record, state.ttl, rewritten), sheet)
        if not isinstance(actual, RatedRecord) or not isinstance(warm, RatedRecord):
            return None
        premium = MONEY_CONTEXT.subtract(actual.total, warm.total)
        found = Resume(
            timestamp=record.timestamp, session_id=record.session_id, model=sheet.model,
            idle=idle, ttl=state.ttl, context_tokens=record.prompt_tokens,
            rewritten_tokens=rewritten, premium=premium, cost=actual.total,
        )  # fmt: skip
        month = date(record.timestamp.year, record.timestamp.month, 1)
        self.by_month[month] = MONEY_CONTEXT.add(self.by_month.get(month, ZERO), premium)
        self.count_by_month[month] = self.count_by_month.get(month, 0) + 1
        self._seen += 1
        item = (premium, -self._seen, found)
        if len(self._top) < TOP:
            heapq.heappush(self._top, item)
        else:
            heapq.heappushpop(self._top, item)
        return found

    @property
    def top(self) -> list[Resume]:
        """The most expensive resumes, dearest first (earlier first on a tie)."""
        return [r for _, _, r in sorted(self._top, key=lambda t: (-t[0], -t[1]))]

    @property
    def total(self) -> Decimal:
        total = ZERO
        for amount in self.by_month.values():
            total = MONEY_CONTEXT.add(total, amount)
        return total
