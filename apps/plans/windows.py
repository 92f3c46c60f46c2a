"""Requests grouped into the windows that subscription limits count: pure, exact, one pass.

The rules, with their sources in docs/plans.md ("Windows from real logs"):

* **5-hour sessions.** A session opens with the first request after the previous one
  closed and lasts five hours from that request (Anthropic: the session limit "resets
  every five hours" from the first message; Codex: limits "reset every 5h and every
  week"). A request exactly five hours after the opening one already opens the next
  session: a window is ``[start, start + 5 h)``. The start is the request's own instant,
  not rounded to the hour.
* **Calendar weeks.** Weekly caps reset at an instant fixed per account, which logs do
  not show, so weeks here are ISO weeks: Monday 00:00 UTC to the next Monday.
* **Calendar months** (UTC) for the monthly summary and the monthly pools.

Each window sums the requests, the token buckets and the API-equivalent cost (each
request priced at the version in effect at its own time, by the caller); requests the
catalog cannot price are counted apart, never as $0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final

from apps.rating.engine import MONEY_CONTEXT, ZERO

FIVE_HOURS: Final = timedelta(hours=5)
WEEK: Final = timedelta(days=7)
# Below this much elapsed time a rate per hour says nothing (one request, or a burst).
MIN_ELAPSED_FOR_RATE: Final = timedelta(minutes=1)
_MICROSECONDS_PER_HOUR: Final = Decimal(3_600_000_000)
_MICROSECONDS_PER_MINUTE: Final = Decimal(60_000_000)


@dataclass(frozen=True, slots=True)
class Usage:
    """One request (or a few identical ones) as the windows see it."""

    timestamp: datetime
    model: str
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0  # every retention together
    output_tokens: int = 0
    cost: Decimal | None = None  # API-equivalent at the prices of its time; None: unpriced
    requests: int = 1

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.output_tokens
        )


@dataclass(slots=True)
class Window:
    """A stretch of time and what the requests in it used."""

    start: datetime
    end: datetime
    requests: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = ZERO
    unpriced_requests: int = 0
    models: dict[str, int] = field(default_factory=dict)  # model -> requests
    first: datetime | None = None
    last: datetime | None = None

    def add(self, usage: Usage) -> None:
        self.requests += usage.requests
        self.input_tokens += usage.input_tokens
        self.cache_read_tokens += usage.cache_read_tokens
        self.cache_write_tokens += usage.cache_write_tokens
        self.output_tokens += usage.output_tokens
        if usage.cost is None:
            self.unpriced_requests += usage.requests
        else:
            self.cost = MONEY_CONTEXT.add(self.cost, usage.cost)
        self.models[usage.model] = self.models.get(usage.model, 0) + usage.requests
        if self.first is None:
            self.first = usage.timestamp
        self.last = usage.timestamp

    @property
    def tokens(self) -> int:
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.output_tokens
        )

    @property
    def model_names(self) -> list[str]:
        """Models by requests, most used first."""
        return [m for m, _ in sorted(self.models.items(), key=lambda kv: (-kv[1], kv[0]))]


class OutOfOrderError(ValueError):
    """Requests must arrive in time order: a window only ever looks forward."""


class SessionGrouper:
    """5-hour sessions: a request at or after the open window's end opens the next one."""

    def __init__(self, length: timedelta = FIVE_HOURS) -> None:
        self.length = length
        self.windows: list[Window] = []
        self._latest: datetime | None = None

    def add(self, usage: Usage) -> None:
        when = usage.timestamp
        if self._latest is not None and when < self._latest:
            raise OutOfOrderError(f"request at {when.isoformat()} after {self._latest.isoformat()}")
        self._latest = when
        if not self.windows or when >= self.windows[-1].end:
            self.windows.append(Window(start=when, end=when + self.length))
        self.windows[-1].add(usage)


def week_start(when: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week holding ``when``."""
    day = when.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def month_start(when: datetime) -> datetime:
    day = when.astimezone(UTC)
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    if start.month == 12:
        return datetime(start.year + 1, 1, 1, tzinfo=UTC)
    return datetime(start.year, start.month + 1, 1, tzinfo=UTC)


def week_end(start: datetime) -> datetime:
    return start + WEEK


# period -> (start of the period holding an instant, end of a period from its start)
PERIODS: Final[dict[str, tuple[Callable[[datetime], datetime], Callable[[datetime], datetime]]]] = {
    "week": (week_start, week_end),
    "month": (month_start, next_month),
}


class CalendarGrouper:
    """Fixed calendar periods ("week" or "month") that hold at least one request."""

    def __init__(self, period: str) -> None:
        self.period = period  # a name, not functions, so that results pickle into the cache
        self.windows: list[Window] = []

    def add(self, usage: Usage) -> None:
        if self.windows and usage.timestamp < self.windows[-1].start:
            raise OutOfOrderError(f"request at {usage.timestamp.isoformat()} out of order")
        if not self.windows or usage.timestamp >= self.windows[-1].end:
            start_of, end_of = PERIODS[self.period]
            start = start_of(usage.timestamp)
            self.windows.append(Window(start=start, end=end_of(start)))
        self.windows[-1].add(usage)


def weeks_grouper() -> CalendarGrouper:
    return CalendarGrouper("week")


def months_grouper() -> CalendarGrouper:
    return CalendarGrouper("month")


@dataclass(slots=True)
class Groups:
    """Sessions, weeks and months of one history, filled in one pass."""

    sessions: SessionGrouper = field(default_factory=SessionGrouper)
    weeks: CalendarGrouper = field(default_factory=weeks_grouper)
    months: CalendarGrouper = field(default_factory=months_grouper)

    def add(self, usage: Usage) -> None:
        self.sessions.add(usage)
        self.weeks.add(usage)
        self.months.add(usage)


def group(usages: Iterable[Usage]) -> Groups:
    groups = Groups()
    for usage in usages:
        groups.add(usage)
    return groups


def session_windows(usages: Iterable[Usage], length: timedelta = FIVE_HOURS) -> list[Window]:
    grouper = SessionGrouper(length)
    for usage in usages:
        grouper.add(usage)
    return grouper.windows


def month_of(window: Window) -> date:
    start = window.start.astimezone(UTC)
    return date(start.year, start.month, 1)


# --------------------------------------------------------------------------- burn rate


@dataclass(frozen=True, slots=True)
class Burn:
    """How fast a window is being used, measured from its start to its last request.

    ``projected_cost`` keeps that pace to the window's end: cost x length / elapsed.
    Rates are None when less than a minute has passed (one request says nothing of pace).
    """

    elapsed: timedelta
    remaining: timedelta
    usd_per_hour: Decimal | None
    tokens_per_minute: Decimal | None
    projected_cost: Decimal | None
    projected_tokens: Decimal | None


def burn(window: Window) -> Burn:
    last = window.last or window.start
    elapsed = last - window.start
    remaining = window.end - last
    if elapsed < MIN_ELAPSED_FOR_RATE:
        return Burn(elapsed, remaining, None, None, None, None)
    ctx = MONEY_CONTEXT
    elapsed_us = Decimal(elapsed // timedelta(microseconds=1))
    length_us = Decimal((window.end - window.start) // timedelta(microseconds=1))
    per_hour = ctx.divide(ctx.multiply(window.cost, _MICROSECONDS_PER_HOUR), elapsed_us)
    per_minute = ctx.divide(
        ctx.multiply(Decimal(window.tokens), _MICROSECONDS_PER_MINUTE), elapsed_us
    )
    scale = ctx.divide(length_us, elapsed_us)
    return Burn(
        elapsed=elapsed,
        remaining=remaining,
        usd_per_hour=per_hour,
        tokens_per_minute=per_minute,
        projected_cost=ctx.multiply(window.cost, scale),
        projected_tokens=ctx.multiply(Decimal(window.tokens), scale),
    )
