"""One bounded parser for every number that comes from outside: forms, the API, importers.

Why bounded *before* converting: ``int(Decimal("1e999999999"))`` builds a billion-digit
integer (time grows with the square of the exponent), ``Decimal`` arithmetic on such a value
is just as slow, and Python refuses ``int()`` of strings over 4,300 digits. So the text is
capped in length first, the parsed ``Decimal`` is checked with ``adjusted()`` (its decimal
exponent, computed without expanding the number) and only then converted. Every caller
passes the field's name, so errors read "requests_per_month: must be at most ...".

Accepted: ``int`` (not ``bool``), finite ``float``, ``Decimal`` and strings of ASCII
digits with an optional sign, decimal point and exponent. Unicode digits ("²", Arabic-Indic
digits), ``NaN``, ``Infinity``, underscores and whitespace inside the number are refused.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

# Longest text accepted for one number: enough for any real count or price with 28
# significant digits and an exponent; far too short to cost anything to parse.
MAX_TEXT: Final = 64
# Hard ceiling on magnitude for every number (|x| < 10**30) and the finest fraction kept.
HARD_MAX_EXPONENT: Final = 30
# A token, request or call count on one record or in one form field. 10**12 tokens in a
# single row is over a million dollars at any list price; it also keeps sums of millions
# of rows far inside a 64-bit integer (SQLite's SUM and PostgreSQL's bigint overflow).
MAX_COUNT: Final = 10**12
# Money in US dollars on one record (the database column holds 12 integer digits).
MAX_USD: Final = Decimal(10) ** 11

_NON_FINITE = frozenset({"nan", "snan", "inf", "infinity"})
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


class NumberError(ValueError):
    """A number from outside that is not acceptable; ``field`` names where it came from."""

    def __init__(self, field: str, message: str, *, kind: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind  # "invalid", "not_finite" or "too_large"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def to_decimal(value: Any, field: str) -> Decimal:
    """Any accepted number as a finite ``Decimal`` with ``|x| < 10**30``; nothing is rounded.

    Floats become the shortest decimal that round-trips (``repr``), as JSON writers meant.
    """
    if isinstance(value, bool):
        raise NumberError(field, f"must be a number, got {_describe(value)}")
    if isinstance(value, int):
        if value.bit_length() > 100:  # 2**100 > 10**30: refuse without printing the digits
            raise NumberError(field, "is far too large", kind="too_large")
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise NumberError(field, "must be a finite number", kind="not_finite")
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_TEXT:
            raise NumberError(field, f"is too long for a number ({len(text):,} characters)")
        if not _NUMBER.fullmatch(text):
            if text.lower().lstrip("+-") in _NON_FINITE:
                raise NumberError(field, "must be a finite number", kind="not_finite")
            raise NumberError(field, f"must be a number, got {_describe(value)}")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:  # an exponent beyond what Decimal can even hold
            raise NumberError(field, "is far too large", kind="too_large") from exc
    else:
        raise NumberError(field, f"must be a number, got {type(value).__name__}")
    if not number.is_finite():
        raise NumberError(field, "must be a finite number", kind="not_finite")
    if number and number.adjusted() >= HARD_MAX_EXPONENT:
        raise NumberError(field, "is far too large", kind="too_large")
    return number


def parse_decimal(
    value: Any,
    field: str,
    *,
    minimum: Decimal | int | None = None,
    maximum: Decimal | int | None = None,
    allow_negative: bool = False,
) -> Decimal:
    """A bounded ``Decimal``: negative only when allowed, within ``minimum``/``maximum``."""
    number = to_decimal(value, field)
    if number < 0 and not allow_negative and (minimum is None or minimum >= 0):
        raise NumberError(field, f"must not be negative, got {_describe(value)}")
    if minimum is not None and number < minimum:
        raise NumberError(field, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise NumberError(field, f"must be at most {maximum:,}")
    return number


def parse_int(
    value: Any,
    field: str,
    *,
    minimum: int = 0,
    maximum: int = MAX_COUNT,
    negative: str = "must be 0 or more",
) -> int:
    """A whole number within ``[minimum, maximum]`` (defaults: a count, 0 to 10**12).

    ``"3000"``, ``3000``, ``3000.0`` and ``"3e3"`` are all 3000; ``3000.5`` is refused.
    The bounds are checked on the ``Decimal`` before the integer is built.
    """
    try:
        number = to_decimal(value, field)
    except NumberError as exc:
        if exc.kind == "too_large":
            raise NumberError(field, f"must be at most {maximum:,}", kind="too_large") from exc
        raise NumberError(field, f"must be a whole number, got {_describe(value)}") from exc
    if number and number.adjusted() < -HARD_MAX_EXPONENT:
        raise NumberError(field, f"must be a whole number, got {_describe(value)}")
    if number != number.to_integral_value():
        raise NumberError(field, f"must be a whole number, got {_describe(value)}")
    if number < minimum:
        if minimum == 0:
            raise NumberError(field, negative.format(value=_describe(value)))
        raise NumberError(field, f"must be at least {minimum:,}")
    if number > maximum:
        raise NumberError(field, f"must be at most {maximum:,}")
    return int(number)


def parse_count(value: Any, field: str, *, maximum: int = MAX_COUNT) -> int:
    """A count that may be missing: ``None`` or ``""`` is 0 (as in every log format)."""
    if value is None or value == "":
        return 0
    return parse_int(value, field, maximum=maximum, negative="must not be negative, got {value}")


def parse_usd(value: Any, field: str, *, allow_negative: bool = False) -> Decimal | None:
    """A dollar amount that may be missing (``None``); ``|x| < 10**11``."""
    if value is None or value == "":
        return None
    number = parse_decimal(value, field, allow_negative=allow_negative)
    if abs(number) >= MAX_USD:
        raise NumberError(field, f"must be less than ${MAX_USD:,} in absolute value")
    return number


def parse_float(
    value: Any, field: str, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A finite float within bounds (for rates, shares and seconds used in float maths)."""
    number = float(to_decimal(value, field))
    if minimum is not None and number < minimum:
        raise NumberError(field, f"must be at least {minimum:g}")
    if maximum is not None and number > maximum:
        raise NumberError(field, f"must be at most {maximum:g}")
    return number
