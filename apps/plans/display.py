"""Plan terms and verdicts as text for the pages (pure): dollars with separators, ranges.

Money goes through ``apps.common.display.usd``; capacity in another unit keeps its unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.common.display import DASH, percent, usd

from .terms import (
    FAMILY_LABELS,
    LEVELS,
    OVERAGE_KINDS,
    UNITS,
    WINDOW_KINDS,
    PlanTerms,
    WindowTerms,
)

UNKNOWN = "unknown"


def amount_text(amount: Decimal, unit: str) -> str:
    if unit == "usd":
        return usd(amount)
    whole = amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount
    return f"{whole:,} {UNITS.get(unit, unit)}"


def range_text(window: WindowTerms) -> str:
    """ "$66.00 – $363.00 (mid $200.00)", "10 – 40 prompts", or "unknown"."""
    amounts = {level: window.amount(level) for level in LEVELS}
    known = [a for a in amounts.values() if a is not None]
    if not known:
        return UNKNOWN
    low, high, mid, unit = min(known), max(known), amounts["mid"], window.unit
    if unit == "usd":
        text = usd(low) if low == high else f"{usd(low)} – {usd(high)}"
        return text + (f" (mid {usd(mid)})" if mid is not None and low != high else "")
    number = amount_text(low, unit).split(" ", 1)[0] if low != high else ""
    text = f"{number} – {amount_text(high, unit)}" if number else amount_text(high, unit)
    if mid is not None and low != high:
        text += f" (mid {amount_text(mid, unit).split(' ', 1)[0]})"
    return text


def dollars_text(window: WindowTerms) -> str:
    """The dollar range of a window in another unit: "≈ $15.00", or "dollar range unknown"."""
    if window.unit == "usd":
        return ""
    values = [v for v in (window.usd(level) for level in LEVELS) if v is not None]
    if not values:
        return "dollar range unknown" if any(window.amount(lv) for lv in LEVELS) else ""
    low, high = min(values), max(values)
    return f"≈ {usd(low)}" if low == high else f"≈ {usd(low)} – {usd(high)}"


def window_name(window: WindowTerms) -> str:
    return window.label or WINDOW_KINDS.get(window.kind, window.kind).capitalize()


def share_text(value: Decimal | None) -> str:
    return DASH if value is None else percent(value)


def families_text(families: tuple[str, ...] | list[str]) -> str:
    return ", ".join(FAMILY_LABELS.get(f, f) for f in families) or DASH


def overage_text(kind: str, unit_price: Decimal | None, notes: str) -> str:
    """The notes when there are any (they say more), else what the kind means."""
    if notes:
        return notes
    if kind == "per_unit" and unit_price is not None:
        return f"{usd(unit_price)} per unit past the pool."
    return OVERAGE_KINDS.get(kind, kind).capitalize() + "."


@dataclass(frozen=True)
class SourceLine:
    level: str
    amount: str
    url: str
    link: str | None
    as_of: str

    @property
    def label(self) -> str:
        """The site's host for a link ("rhombus.so"); a described source as written."""
        if self.link:
            host = self.link.split("://", 1)[1].split("/", 1)[0]
            return host.removeprefix("www.")
        return self.url


def safe_link(url: str) -> str | None:
    """A clickable link only for http(s) URLs (some sources are described, not linked)."""
    return url if url.startswith(("https://", "http://")) else None


def window_sources(window: WindowTerms) -> list[SourceLine]:
    lines = []
    for level in LEVELS:
        estimate = window.estimate(level)
        if estimate is None:
            continue
        lines.append(
            SourceLine(
                level=level,
                amount=amount_text(estimate.amount, window.unit),
                url=estimate.source_url,
                link=safe_link(estimate.source_url),
                as_of=estimate.as_of.isoformat() if estimate.as_of else "",
            )
        )
    return lines


@dataclass(frozen=True)
class WindowLine:
    """One window of a plan version as the pages show it."""

    name: str
    kind: str
    capacity: str
    dollars: str
    harness: str
    notes: str
    sources: list[SourceLine]
    known: bool


def window_line(window: WindowTerms) -> WindowLine:
    return WindowLine(
        name=window_name(window),
        kind=WINDOW_KINDS.get(window.kind, window.kind),
        capacity=range_text(window),
        dollars=dollars_text(window),
        harness=window.harness,
        notes=window.notes,
        sources=window_sources(window),
        known=window.dollars_known,
    )


def annual_per_month_text(annual: Decimal | None) -> str:
    if annual is None:
        return DASH
    return usd((annual / 12).quantize(Decimal("0.01")))


def _window_key(window: WindowTerms) -> tuple[str, str, str]:
    return (window.kind, window.label, window.harness)


def term_changes(before: PlanTerms, after: PlanTerms) -> list[str]:
    """What changed between two versions, in words: prices, coverage, each window's range."""
    out = []
    if before.monthly_price != after.monthly_price:
        out.append(f"Monthly price {usd(before.monthly_price)} → {usd(after.monthly_price)}")
    if before.annual_price != after.annual_price:
        out.append(
            f"Annual, per month {annual_per_month_text(before.annual_price)} → "
            f"{annual_per_month_text(after.annual_price)}"
        )
    if before.min_seats != after.min_seats:
        out.append(f"Minimum seats {before.min_seats or DASH} → {after.min_seats or DASH}")
    added = [h for h in after.harnesses if h not in before.harnesses]
    removed = [h for h in before.harnesses if h not in after.harnesses]
    if added or removed:
        out.append("Apps: " + ", ".join([*(f"+ {h}" for h in added), *(f"− {h}" for h in removed)]))
    if before.families != after.families:
        out.append(f"Models {families_text(before.families)} → {families_text(after.families)}")
    if before.overage_kind != after.overage_kind:
        out.append(
            f"Past the limit: {OVERAGE_KINDS[before.overage_kind]} → {OVERAGE_KINDS[after.overage_kind]}"
        )
    old = {_window_key(w): w for w in before.windows}
    new = {_window_key(w): w for w in after.windows}
    for key, window in new.items():
        name = window_name(window)
        if key not in old:
            out.append(f"New: {name} {range_text(window)}")
        elif range_text(old[key]) != range_text(window):
            out.append(f"{name} {range_text(old[key])} → {range_text(window)}")
    for key, window in old.items():
        if key not in new:
            out.append(f"Removed: {window_name(window)}")
    return out
