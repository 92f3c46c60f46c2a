"""Comparing two price versions: field by field (the admin) and in words (the history).

No queries: versions are compared through the rows they were fetched with.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.common.display import DASH, unit_price

from .display import METER_LABELS, WEEKDAY_NAMES, minute_display, multiplier_display
from .models import PriceVersion
from .version_data import data_to_json, version_to_data


@dataclass(frozen=True)
class DiffRow:
    field: str
    left: str
    right: str

    @property
    def changed(self) -> bool:
        return self.left != self.right


def version_diff(left: PriceVersion, right: PriceVersion) -> list[DiffRow]:
    """Field-by-field comparison of two versions, flattened to readable rows."""
    a, b = (
        _flatten(data_to_json(version_to_data(left))),
        _flatten(data_to_json(version_to_data(right))),
    )
    a["status"], b["status"] = left.status, right.status
    keys = sorted(set(a) | set(b), key=_diff_order)
    return [DiffRow(k, a.get(k, DASH), b.get(k, DASH)) for k in keys]


_ORDER = (
    "effective_from",
    "status",
    "rates.",
    "long_context.",
    "tiers.",
    "tier_rates.",
    "regions.",
    "time_bands",
    "fees.",
    "storage",
    "tier_multipliers",
    "source",
    "checked_on",
    "notes",
)


def _diff_order(key: str) -> tuple[int, str]:
    for i, prefix in enumerate(_ORDER):
        if key.startswith(prefix):
            return (i, key)
    return (len(_ORDER), key)


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(data, list):
        if data and isinstance(data[0], dict):
            for i, item in enumerate(data):
                out.update(_flatten(item, f"{prefix}{i}."))
        else:
            out[prefix.rstrip(".")] = ", ".join(str(x) for x in data)
    else:
        out[prefix.rstrip(".")] = DASH if data is None else str(data)
    return out


# --------------------------------------------------------------------------- in words

# Fields of a version diff that are bookkeeping, not prices.
_NOT_A_PRICE_CHANGE = (
    "effective_from",
    "status",
    "source_url",
    "source_kind",
    "checked_on",
    "notes",
)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _money_or_text(text: str) -> str:
    try:
        return unit_price(Decimal(text))
    except ArithmeticError:  # "—" for a price that did not exist on one side
        return text


def change_display(row: DiffRow) -> Change:
    """A diff row as people read it: "Input $3.00 → $2.50", "Long context rates cache read …"."""
    path = row.field.split(".")
    if path[-1] in METER_LABELS and ("rates" in path or "tier_rates" in path):
        prefix = " ".join(p.replace("_", " ") for p in path[:-1] if p != "rates")
        label = f"{prefix} {METER_LABELS[path[-1]].lower()}".strip().capitalize()
        return Change(label, _money_or_text(row.left), _money_or_text(row.right))
    return Change(row.field.replace(".", " ").replace("_", " ").capitalize(), row.left, row.right)


def bands_summary(version: PriceVersion) -> str:
    """A version's time-of-day schedule in one line: "00:00–08:00 UTC ×0.5 (Sat,Sun)"."""
    bands = sorted(version.time_bands.all(), key=lambda b: b.start_minute)
    if not bands:
        return "none"
    parts = []
    for b in bands:
        text = f"{minute_display(b.start_minute)}–{minute_display(b.end_minute)} UTC"
        text += f" {multiplier_display(b.multiplier)}"
        if b.weekdays:
            text += " (" + ",".join(WEEKDAY_NAMES[int(d)] for d in b.weekdays.split(",")) + ")"
        parts.append(text)
    return ", ".join(parts)


def price_changes(previous: PriceVersion, version: PriceVersion) -> list[Change]:
    """What changed in prices from ``previous`` to ``version`` (bookkeeping fields left out)."""
    changes = [
        change_display(row)
        for row in version_diff(previous, version)
        if row.changed and not row.field.startswith((*_NOT_A_PRICE_CHANGE, "time_bands"))
    ]
    # Band-by-band field diffs ("time bands 0 end") read badly: compare whole schedules.
    before, after = bands_summary(previous), bands_summary(version)
    if before != after:
        changes.append(Change("Time of day", before, after))
    return changes
