"""Grouping requests into 5-hour sessions, calendar weeks and months; burn rate. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from apps.plans.windows import OutOfOrderError, Usage, burn, group, session_windows


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def use(when: str, cost: str | None = "1", **tokens: int) -> Usage:
    return Usage(timestamp=at(when), model=tokens.pop("model", "m"),
                 cost=None if cost is None else D(cost), **tokens)  # fmt: skip


def test_a_session_lasts_five_hours_from_its_first_request_then_the_next_opens():
    # 09:00 opens [09:00, 14:00): 10:30 and 13:59 are in it; 14:01 opens [14:01, 19:01);
    # 21:01 comes seven hours after 14:01, past 19:01, so it opens a third.
    log = [use("2026-03-02T09:00"), use("2026-03-02T10:30"), use("2026-03-02T13:59"),
           use("2026-03-02T14:01"), use("2026-03-02T21:01")]  # fmt: skip
    windows = session_windows(log)
    assert [(w.start, w.end, w.requests) for w in windows] == [
        (at("2026-03-02T09:00"), at("2026-03-02T14:00"), 3),
        (at("2026-03-02T14:01"), at("2026-03-02T19:01"), 1),
        (at("2026-03-02T21:01"), at("2026-03-03T02:01"), 1),
    ]


def test_a_request_exactly_five_hours_after_the_opening_one_opens_the_next():
    windows = session_windows([use("2026-03-02T09:00"), use("2026-03-02T14:00")])
    assert [w.start for w in windows] == [at("2026-03-02T09:00"), at("2026-03-02T14:00")]


def test_a_session_sums_buckets_cost_and_models_and_keeps_unpriced_apart():
    # 0.25 + 1.5 = 1.75 dollars; the unpriced request counts as a request, never as $0
    windows = session_windows([
        use("2026-03-02T09:00", "0.25", input_tokens=10, cache_read_tokens=100, model="a"),
        use("2026-03-02T09:30", "1.5", cache_write_tokens=40, output_tokens=7, model="b"),
        use("2026-03-02T10:00", None, input_tokens=5, model="b"),
    ])  # fmt: skip
    [w] = windows
    assert (w.requests, w.cost, w.unpriced_requests) == (3, D("1.75"), 1)
    assert (w.input_tokens, w.cache_read_tokens, w.cache_write_tokens, w.output_tokens) == (
        15,
        100,
        40,
        7,
    )
    assert w.model_names == ["b", "a"]  # most requests first


def test_weeks_are_iso_weeks_in_utc_and_months_calendar_months():
    # 2026-03-01 is a Sunday: its week started Monday 2026-02-23; 03-02 opens the next week
    groups = group([use("2026-02-28T23:00"), use("2026-03-01T23:59"), use("2026-03-02T00:00")])
    assert [(w.start, w.requests) for w in groups.weeks.windows] == [
        (at("2026-02-23T00:00"), 2), (at("2026-03-02T00:00"), 1)]  # fmt: skip
    assert [(w.start, w.requests) for w in groups.months.windows] == [
        (at("2026-02-01T00:00"), 1), (at("2026-03-01T00:00"), 2)]  # fmt: skip


def test_requests_out_of_time_order_are_refused():
    with pytest.raises(OutOfOrderError):
        session_windows([use("2026-03-02T10:00"), use("2026-03-02T09:00")])


def test_burn_rate_and_projection_to_the_end_of_the_window():
    # $3 in the first 30 minutes: $6 an hour; 3,000 tokens in 30 min: 100 a minute.
    # Kept up for the whole five hours: 3 x 300 / 30 = $30 and 30,000 tokens.
    [w] = session_windows([use("2026-03-02T09:00", "1", input_tokens=1000),
                           use("2026-03-02T09:30", "2", output_tokens=2000)])  # fmt: skip
    pace = burn(w)
    assert pace.elapsed == timedelta(minutes=30) and pace.remaining == timedelta(
        hours=4, minutes=30
    )
    assert (pace.usd_per_hour, pace.tokens_per_minute) == (D(6), D(100))
    assert (pace.projected_cost, pace.projected_tokens) == (D(30), D(30000))


def test_one_request_has_no_pace():
    pace = burn(session_windows([use("2026-03-02T09:00")])[0])
    assert pace.usd_per_hour is None and pace.projected_cost is None
