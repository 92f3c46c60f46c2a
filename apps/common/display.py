"""Numbers for people and for JSON: the one place money, decimals and token counts are written.

Pure (no Django). Money is ``Decimal`` all the way: nothing here goes through ``float``.
"""

from __future__ import annotations

from decimal import Context, Decimal

DASH = "—"


def plain_decimal(value: Decimal) -> str:
    """A plain decimal string (never exponent notation), trailing zeros trimmed: "0.075"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def usd(value: Decimal | None) -> str:
    """Dollars for people: cents from ten cents up, else three significant digits.

    A minus sign, not a hyphen; thousands separators; absurd amounts still render.
    """
    if value is None:
        return DASH
    sign = "−" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "$0.00"
    context = Context(prec=max(28, value.adjusted() + 8))
    if value >= Decimal("0.0995"):
        return f"{sign}${value.quantize(Decimal('0.01'), context=context):,}"
    places = max(2, 2 - value.adjusted())
    return f"{sign}${value.quantize(Decimal(1).scaleb(-places), context=context):f}"


def unit_price(value: Decimal | None) -> str:
    """A price per unit with at least two decimals and every significant digit: $0.075."""
    if value is None:
        return DASH
    whole, _, frac = plain_decimal(value).partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def percent(value: Decimal | None) -> str:
    """A share (0..1) as a percentage with one decimal: 0.4567 -> "45.7%"."""
    if value is None:
        return DASH
    return f"{(value * 100).quantize(Decimal('0.1'))}%"
