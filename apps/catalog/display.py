"""Catalog values in words for people: meter names, token counts, multipliers, times.

Values stay ``Decimal`` until here and are written as text here (never with floats in
templates), so "0.30" never shows up as "0.3" or "0.299999". Money and plain decimals come
from ``apps.common.display``.
"""

from __future__ import annotations

from decimal import Decimal

from apps.common.display import DASH, plain_decimal

# The token meters in the order the pages show them.
METER_ORDER = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_30m",
    "cache_write_1h",
    "cache_write_12h",
    "cache_write_24h",
    "output",
)
METER_LABELS = {
    "input": "Input",
    "cache_read": "Cache read",
    "cache_write_5m": "Cache write 5m",
    "cache_write_30m": "Cache write 30m",
    "cache_write_1h": "Cache write 1h",
    "cache_write_12h": "Cache write 12h",
    "cache_write_24h": "Cache write 24h",
    "output": "Output",
}
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def multiplier_display(value: Decimal | None) -> str:
    return DASH if value is None else f"×{plain_decimal(value)}"


def tokens_display(value: int | None) -> str:
    """Exact but short: 200K, 1M, and 1,048,576 where rounding would lie."""
    if value is None:
        return DASH
    if value and value % 1_000_000 == 0:
        return f"{value // 1_000_000}M"
    if value and value % 1_000 == 0:
        return f"{value // 1_000}K"
    return f"{value:,}"


def minute_display(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def percent_display(share: Decimal | None) -> str:
    """A share (0..1) as a percentage with every significant digit: 0.5 -> "50%"."""
    return DASH if share is None else f"{plain_decimal(share * 100)}%"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def safe_link(url: str) -> str | None:
    """Only http(s) sources become links; anything else (a note, javascript:) stays text."""
    return url if url.startswith(("https://", "http://")) else None
