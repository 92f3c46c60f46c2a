"""One bounded parser for every instant that comes from outside (logs, API ``at=``, forms).

``datetime.fromisoformat("9999-12-31T23:59:59-23:59").astimezone(UTC)`` overflows,
``datetime.fromtimestamp(99999999999999)`` raises ``ValueError`` or ``OverflowError`` (by
platform), and a year-1 date with a +14:00 offset cannot be moved to UTC. Every such case is
a ``DateError`` naming the field here, never an exception from deep inside.

Zone-less times are UTC (what every log format we read means). The result is always an
aware UTC ``datetime`` within ``[earliest, latest)``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Final

from .numbers import NumberError, to_decimal

# Any instant the site computes with: far from datetime's limits so that adding a month or
# a zone offset never overflows.
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)
# A usage record's time: LLM APIs did not exist before 2000, and a log dated after 2100 is
# a broken clock. Keeping records in this range also bounds every timeline built from them.
USAGE_EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
USAGE_LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
_MAX_TEXT: Final = 64


class DateError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _from_epoch(value: Any, field: str) -> datetime:
    try:
        seconds = float(to_decimal(value, field))
    except NumberError as exc:
        raise DateError(field, exc.message) from exc
    # Epoch seconds only; bound before converting (the platform's limits differ).
    lo, hi = EARLIEST.timestamp(), LATEST.timestamp()
    if not (math.isfinite(seconds) and lo <= seconds < hi):
        raise DateError(field, "is not a Unix time between 1970 and 9000")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _from_text(original: str, field: str) -> datetime:
    text = original.strip()
    if len(text) > _MAX_TEXT:
        raise DateError(field, "is too long for a date-time")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if not text.isascii():
        raise DateError(field, f"{original.strip()[:40]!r} is not an ISO 8601 date-time")
    try:
        ts = datetime.fromisoformat(text)
    except ValueError as exc:
        raise DateError(field, f"{original.strip()[:40]!r} is not an ISO 8601 date-time") from exc
    return ts


def parse_instant(
    value: Any,
    field: str = "timestamp",
    *,
    earliest: datetime = EARLIEST,
    latest: datetime = LATEST,
) -> datetime:
    """An aware UTC ``datetime`` from ISO 8601 text, epoch seconds or a ``datetime``."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ts = _from_epoch(value, field)
    elif isinstance(value, str) and value.strip():
        ts = _from_text(value, field)
    else:
        raise DateError(field, "is required (ISO 8601 date-time)")
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    try:
        ts = ts.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise DateError(field, "is out of range") from exc
    if not earliest <= ts < latest:
        raise DateError(field, f"must be between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d} (UTC)")
    return ts


def parse_usage_time(value: Any, field: str = "timestamp") -> datetime:
    """A usage record's time: 2000-01-01 to 2100-01-01 UTC."""
    return parse_instant(value, field, earliest=USAGE_EARLIEST, latest=USAGE_LATEST)
