"""Sorting a table by one column, the same way on every page (pure).

``?sort=col`` ascending, ``?sort=-col`` descending; an unknown column is the default order.
Rows without a value in the column come last in both directions; ties keep the order the
rows arrived in (so callers sort by their tie-break first).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any


def parse_sort(raw: str | None, allowed: Collection[str], default: str) -> tuple[str, bool]:
    """(column, descending) from "col" or "-col"; anything unknown is ``(default, False)``."""
    raw = (raw or "").strip()
    key = raw.removeprefix("-")
    if key not in allowed:
        return default, False
    return key, raw.startswith("-")


def sort_missing_last[T](
    rows: Iterable[T], value: Callable[[T], Any], *, descending: bool = False
) -> list[T]:
    """Rows by ``value(row)``; rows whose value is None last either way; stable."""
    rows = list(rows)
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=value, reverse=descending)
    return present + missing
