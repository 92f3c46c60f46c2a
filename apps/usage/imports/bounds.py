"""What a stored usage row may hold, checked once for every importer.

Every parser reads its numbers and times through the shared bounded parsers
(``apps.common.numbers``/``dates`` via ``apps.rating.records``), so a record out of these
bounds is a parser bug. The import still checks each record before it reaches the writer
(``record_problem``) and turns a bad one into a line error with its file and line, so that
no parser can make a batch fail in the database (a bigint or numeric overflow, a year
10000) and stop the whole import. The check costs well under a microsecond a record.

Aggregate rows of one bucket are added up in the writer, after the per-line checks; their
sums are checked against the columns (``check_summed``) and a bucket too large to store
stops the import with a message naming it (``SumTooLarge``).
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from operator import attrgetter
from typing import Any

from apps.common.dates import USAGE_EARLIEST, USAGE_LATEST
from apps.common.numbers import MAX_COUNT, MAX_USD
from apps.rating.engine import UsageRecord
from apps.usage.models import COUNT_FIELDS

# Explicit-cache storage in token-hours on one record: 10**12 tokens kept for 10**6 hours.
MAX_TOKEN_HOURS = Decimal(10) ** 18
# What the columns hold (models.UsageRow): bigint counts, numeric(24, 12) dollars and
# numeric(30, 9) token-hours.
BIGINT_MAX = 2**63 - 1
COLUMN_USD = Decimal(10) ** 12
COLUMN_TOKEN_HOURS = Decimal(10) ** 21

_counts = attrgetter(*COUNT_FIELDS)


class SumTooLarge(ValueError):
    """Aggregate rows of one bucket add up to more than a column holds."""


def record_problem(record: UsageRecord) -> str | None:
    """Why ``record`` cannot be stored as it is (a line error's reason), or None.

    The common case is decided in one expression (about 1 us): the bitwise OR of the
    counts is in [0, 2**39) only if every one is an int in that range (a float or None
    raises TypeError, a negative makes it negative); anything else takes the slow path,
    which finds the field and says why.
    """
    r = record
    try:
        bits = (
            r.input_tokens | r.cache_read_tokens | r.cache_write_5m_tokens
            | r.cache_write_30m_tokens | r.cache_write_1h_tokens | r.cache_write_12h_tokens
            | r.cache_write_24h_tokens | r.output_tokens | r.reasoning_tokens
            | r.web_search_calls | r.requests
        )  # fmt: skip
        cost = r.billed_cost_usd
        if (
            0 <= bits < _FAST_COUNT
            and USAGE_EARLIEST <= r.timestamp < USAGE_LATEST  # naive: TypeError
            and (cost is None or (type(cost) is Decimal and _dollars_ok(cost)))
            and not r.cache_storage_token_hours
        ):
            return None
    except TypeError:
        pass
    return _problem(record)


_FAST_COUNT = 2**39  # below MAX_COUNT: a count in [2**39, 10**12] takes the slow path


def _dollars_ok(cost: Decimal) -> bool:
    # |cost| < 10**11 without a Decimal comparison: its leading digit's exponent is < 11
    return cost.is_finite() and cost.adjusted() < 11


def _problem(record: UsageRecord) -> str | None:
    counts = _counts(record)
    for name, value in zip(COUNT_FIELDS, counts, strict=True):
        if type(value) is not int or not 0 <= value <= MAX_COUNT:
            return f"{name}: must be a whole number from 0 to {MAX_COUNT:,}, got {value!r:.40}"
    when = record.timestamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if not USAGE_EARLIEST <= when < USAGE_LATEST:
        return (
            f"timestamp: must be between {USAGE_EARLIEST:%Y-%m-%d} and "
            f"{USAGE_LATEST:%Y-%m-%d} (UTC), got {when:%Y-%m-%d}"
        )
    cost = record.billed_cost_usd
    if cost is not None and (
        type(cost) is not Decimal or not cost.is_finite() or not -MAX_USD < cost < MAX_USD
    ):
        return f"billed_cost_usd: must be less than ${MAX_USD:,} in absolute value"
    hours = record.cache_storage_token_hours
    if hours and (
        type(hours) is not Decimal or not hours.is_finite() or not 0 <= hours < MAX_TOKEN_HOURS
    ):
        return f"cache_storage_token_hours: must be between 0 and {MAX_TOKEN_HOURS:,}"
    return None


def check_summed(values: dict[str, Any], summed: tuple[str, ...]) -> None:
    """Raise ``SumTooLarge`` if an aggregate row's sums no longer fit their columns."""
    for name in summed:
        if values[name] > BIGINT_MAX:
            raise SumTooLarge(_too_large(values, f"more than {BIGINT_MAX:,} {name}"))
    cost = values["billed_cost_usd"]
    if cost is not None and not -COLUMN_USD < cost < COLUMN_USD:
        raise SumTooLarge(_too_large(values, f"${COLUMN_USD:,} or more of billed_cost_usd"))
    if (values["cache_storage_token_hours"] or 0) >= COLUMN_TOKEN_HOURS:
        raise SumTooLarge(
            _too_large(values, f"{COLUMN_TOKEN_HOURS:,} or more cache_storage_token_hours")
        )


def _too_large(values: dict[str, Any], what: str) -> str:
    return (
        f"the aggregate rows for {values['model'][:80]!r} at {values['timestamp']:%Y-%m-%d %H:%M} "
        f"add up to {what}, more than can be stored; check the counts in the file (an "
        "aggregate export is added up bucket by bucket)"
    )
