"""The shared number parser: every class of hostile number is refused fast, by size, not time."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.common.numbers import (
    MAX_COUNT,
    NumberError,
    parse_count,
    parse_decimal,
    parse_int,
    parse_usd,
    to_decimal,
)

HUGE = [
    "1e999999999",  # issue 9: int(Decimal(...)) of this pinned a core for minutes
    "1e400000",
    "1E200000",
    "-1e999999999",
    "9" * 4400,  # past Python's integer-string limit
    "1e" + "9" * 60,  # past even Decimal's exponent limit
    10**400,
    2**200,
    1e308,
]


@pytest.mark.parametrize("value", HUGE)
def test_huge_numbers_are_refused_before_any_conversion(value):
    with pytest.raises(NumberError) as info:
        parse_int(value, "requests_per_month", maximum=10**10)
    assert info.value.field == "requests_per_month"


@pytest.mark.parametrize(
    "value",
    ["²", "٣", "１２", "1_000", "NaN", "nan", "Infinity", "-inf", "sNaN", "0x10", "", "1 2",
     "1e", "e5", ".", "+", float("nan"), float("inf"), True, None, [1], {"a": 1}],
)  # fmt: skip
def test_what_is_not_a_plain_ascii_finite_number_is_refused(value):
    with pytest.raises(NumberError):
        to_decimal(value, "f")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3000", 3000), (3000, 3000), (3000.0, 3000), ("3e3", 3000), (" 12 ", 12), ("5.", 5),
     ("0", 0), ("-0", 0), (Decimal("7"), 7)],
)  # fmt: skip
def test_plain_whole_numbers_parse(value, expected):
    assert parse_int(value, "f") == expected


def test_bounds_are_named_in_the_message():
    with pytest.raises(NumberError, match="at most 1,000,000,000,000"):
        parse_int("9223372036854775807", "input_tokens")  # issue 9: int64 overflow on insert
    with pytest.raises(NumberError, match="at most 1,000,000,000,000"):
        parse_int("1e23", "input_tokens")
    with pytest.raises(NumberError, match="0 or more"):
        parse_int("-100000", "automatic_retention_seconds")
    with pytest.raises(NumberError, match="whole number"):
        parse_int("1.5", "f")


def test_a_missing_count_is_zero_and_a_negative_one_is_named():
    assert parse_count(None, "f") == 0 and parse_count("", "f") == 0
    with pytest.raises(NumberError, match="must not be negative"):
        parse_count("-3", "input_tokens")


def test_dollars_are_bounded_and_exact():
    assert parse_usd("0.0123456789012345", "cost") == Decimal("0.0123456789012345")
    assert parse_usd(0.1, "cost") == Decimal(
        "0.1"
    )  # the float's shortest repr, not 0.1000000000000000055
    assert parse_usd(None, "cost") is None
    with pytest.raises(NumberError):
        parse_usd("1e999999999", "billed_cost_usd")
    with pytest.raises(NumberError, match="less than"):
        parse_usd("1e11", "billed_cost_usd")
    assert parse_usd("-2.5", "cost", allow_negative=True) == Decimal("-2.5")


@given(st.integers(min_value=0, max_value=MAX_COUNT))
def test_every_count_in_range_round_trips(n):
    assert parse_int(str(n), "f") == n
    assert parse_int(n, "f") == n


@given(st.integers(min_value=MAX_COUNT + 1))
def test_every_count_above_the_bound_is_refused(n):
    with pytest.raises(NumberError):
        parse_int(str(n) if n < 10**4000 else n, "f")


@given(st.integers(min_value=31, max_value=10**18), st.sampled_from(["e", "E", "e+"]))
def test_every_huge_exponent_is_refused(exponent, mark):
    with pytest.raises(NumberError):
        parse_decimal(f"1{mark}{exponent}", "f")


@given(st.text(max_size=80))
def test_any_text_parses_or_is_a_number_error(text):
    try:
        number = to_decimal(text, "f")
    except NumberError as exc:
        assert exc.field == "f"
    else:
        assert number.is_finite() and (not number or number.adjusted() < 30)
        assert text.strip().isascii()


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_parses_finite_or_is_refused(value):
    try:
        number = to_decimal(value, "f")
    except NumberError:
        return
    assert number.is_finite()


@given(st.characters(categories=["Nd", "No"]).filter(lambda c: not c.isascii()))
def test_unicode_digits_are_never_numbers(digit):
    with pytest.raises(NumberError):
        parse_int(digit, "min_context")
    with pytest.raises(NumberError):
        parse_int("1" + digit, "min_context")
