"""The shared date parser: out-of-range dates, offsets and epochs are field errors, never crashes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.common.dates import DateError, parse_instant, parse_usage_time


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-23:59",  # issue 9: overflowed astimezone
        "0001-01-01T00:00:00+14:00",
        "9999-12-31",
        "0001-01-01",
        99999999999999,  # issue 9: epoch seconds far past year 9999
        -99999999999999,
        1e308,
        float("nan"),
        float("inf"),
        "2026-13-01",
        "soon",
        "２０２６-01-01",  # full-width digits
        "",
        None,
        True,
    ],
)
def test_bad_instants_are_date_errors(value):
    with pytest.raises(DateError) as info:
        parse_instant(value, "at")
    assert info.value.field == "at"


def test_zone_less_times_are_utc_and_offsets_are_applied():
    assert parse_instant("2026-03-01T12:00:00") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_instant("2026-03-01T12:00:00+02:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_instant("2026-03-01T12:00:00Z") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_instant(1_772_366_400) == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_usage_times_are_between_2000_and_2100():
    assert parse_usage_time("2026-01-01T00:00:00Z").year == 2026
    for value in ("1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z"):
        with pytest.raises(DateError, match="between 2000-01-01 and 2100-01-01"):
            parse_usage_time(value)
    with pytest.raises(DateError, match="out of range"):
        parse_usage_time("9999-12-31T23:59:59-23:59")


@given(st.datetimes(timezones=st.timezones()))
def test_any_aware_datetime_is_utc_or_out_of_range(value):
    try:
        result = parse_instant(value.isoformat())
    except DateError:
        return
    assert result.tzinfo is UTC and datetime(1970, 1, 1, tzinfo=UTC) <= result


@given(st.one_of(st.integers(), st.floats(), st.text(max_size=80)))
def test_anything_is_an_instant_or_a_date_error(value):
    try:
        result = parse_instant(value, "timestamp")
    except DateError as exc:
        assert exc.field == "timestamp"
    else:
        assert result.tzinfo is UTC
