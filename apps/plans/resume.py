"""What the next message of an idle conversation costs: warm cache, expired, or kept alive.

Pure; every amount comes from the rating engine on a synthetic request, so long-context
tiers, time-of-day bands and the model's own cache prices apply as they would to a log.
The rules, each with its source (docs/plans.md, "Resume cost"):

* The conversation so far (``context_tokens``) sits in the provider's prompt cache with
  the chosen TTL. A request within the TTL reads it at the cache-read price; the TTL is
  refreshed "at no additional charge" on each read (Anthropic prompt caching docs).
  A request at or after the TTL finds it gone: the whole context is written again at the
  cache-write price of that TTL (5m: 1.25x input, 1h: 2x input on Anthropic's sheets).
* The new message (``new_input_tokens``) is written to the cache in either case, as a
  conversation that caches each turn does (Claude Code does).
* Keep-alive: pings during the idle time, each within the TTL of the last, keep the cache
  warm: ``floor(idle / ttl)`` pings, each reading the context plus one input and one
  output token; then the message itself is warm.
* Dropping tokens (old thinking, old tool output) changes the prefix, so what is left is
  written again even if the cache was warm; every later message then reads fewer tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from apps.rating.engine import MONEY_CONTEXT, PriceSheet, RatedRecord, UsageRecord, rate_record

TTL_SECONDS: Final = {"5m": 300, "1h": 3600}
PING_INPUT_TOKENS: Final = 1
PING_OUTPUT_TOKENS: Final = 1


class ResumeError(ValueError):
    """A question this model cannot answer; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class ResumeQuestion:
    context_tokens: int
    output_tokens: int
    idle_seconds: int
    ttl: str  # "5m" or "1h"
    new_input_tokens: int = 0
    drop_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ResumeAnswer:
    cache: str  # "warm" or "expired"
    cost: Decimal  # the next message after this idle time, doing nothing about it
    warm_cost: Decimal
    expired_cost: Decimal
    keepalive_cost: Decimal  # the pings plus a warm message
    pings: int
    ping_cost: Decimal  # one ping
    drop_cost: Decimal | None = None  # the next message after dropping ``drop_tokens``
    drop_saving: Decimal | None = None  # cost - drop_cost (negative: dropping costs more now)
    drop_saving_per_later_message: Decimal | None = None


def _price(
    sheet: PriceSheet,
    when: datetime,
    ttl: str,
    *,
    read: int = 0,
    write: int = 0,
    fresh: int = 0,
    output: int = 0,
) -> Decimal:
    """The engine's price of one request: ``write`` tokens go to the ``ttl`` cache bucket."""
    record = UsageRecord(
        provider=sheet.provider,
        model=sheet.model,
        timestamp=when,
        input_tokens=fresh,
        cache_read_tokens=read,
        cache_write_5m_tokens=write if ttl == "5m" else 0,
        cache_write_1h_tokens=write if ttl == "1h" else 0,
        output_tokens=output,
    )
    rated = rate_record(record, sheet)
    if not isinstance(rated, RatedRecord):
        raise ResumeError("model", f"{sheet.model} cannot be priced: {rated.reason}")
    return rated.total


def check_sheet(sheet: PriceSheet, ttl: str) -> None:
    if ttl not in TTL_SECONDS:
        raise ResumeError("ttl", f"must be one of {', '.join(TTL_SECONDS)}, got {ttl!r}")
    if sheet.rates.get("cache_read") is None:
        raise ResumeError("model", f"{sheet.model} has no cache-read price")
    if sheet.rates.get(f"cache_write_{ttl}") is None:
        raise ResumeError("ttl", f"{sheet.model} has no {ttl} cache-write price")


def pings_needed(idle_seconds: int, ttl: str) -> int:
    """Pings that keep every gap below the TTL: none while idle < TTL."""
    return idle_seconds // TTL_SECONDS[ttl]


def resume_cost(question: ResumeQuestion, sheet: PriceSheet, when: datetime) -> ResumeAnswer:
    q = question
    check_sheet(sheet, q.ttl)
    if q.drop_tokens > q.context_tokens:
        raise ResumeError("drop_tokens", "must not be more than context_tokens")
    ttl = q.ttl
    warm = _price(
        sheet, when, ttl, read=q.context_tokens, write=q.new_input_tokens, output=q.output_tokens
    )
    expired = _price(
        sheet, when, ttl, write=q.context_tokens + q.new_input_tokens, output=q.output_tokens
    )
    ping = _price(
        sheet, when, ttl, read=q.context_tokens, fresh=PING_INPUT_TOKENS, output=PING_OUTPUT_TOKENS
    )
    pings = pings_needed(q.idle_seconds, q.ttl)
    keepalive = MONEY_CONTEXT.add(MONEY_CONTEXT.multiply(Decimal(pings), ping), warm)
    is_warm = q.idle_seconds < TTL_SECONDS[q.ttl]
    cost = warm if is_warm else expired
    answer = ResumeAnswer(
        cache="warm" if is_warm else "expired",
        cost=cost,
        warm_cost=warm,
        expired_cost=expired,
        keepalive_cost=keepalive,
        pings=pings,
        ping_cost=ping,
    )
    if not q.drop_tokens:
        return answer
    kept = q.context_tokens - q.drop_tokens
    dropped = _price(sheet, when, ttl, write=kept + q.new_input_tokens, output=q.output_tokens)
    later = MONEY_CONTEXT.subtract(
        _price(sheet, when, ttl, read=q.context_tokens), _price(sheet, when, ttl, read=kept)
    )
    return replace(
        answer,
        drop_cost=dropped,
        drop_saving=MONEY_CONTEXT.subtract(cost, dropped),
        drop_saving_per_later_message=later,
    )
