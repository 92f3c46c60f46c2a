"""What a plan version says, as plain values: prices, coverage, overage and its windows.

Pure (no Django). The ORM side (``apps.plans.selectors``) builds these from published plan
versions; the window, verdict and resume modules only ever see these.

A window's capacity is three estimates (low, mid, high), each with its own source. An
estimate is in US dollars of API-equivalent usage, or in the unit its source uses
(prompts, messages, credits, requests). A non-dollar estimate has a dollar value only when
a source gives the unit's dollar value (GitHub's AI Credit is about $0.01); otherwise the
dollar capacity is unknown, and nothing here invents one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final

LEVELS: Final = ("low", "mid", "high")

# kind -> label. A rolling 5-hour session and a weekly cap are what Claude, Codex and the
# Gemini app enforce; a monthly pool is included credit that usage draws down (Cursor's
# API-priced usage, Copilot's AI Credits, Claude's Agent SDK credit); "monthly" is an
# estimate of a whole month's capacity (a third party's planning figure).
WINDOW_KINDS: Final[Mapping[str, str]] = {
    "session_5h": "5-hour session",
    "weekly": "weekly",
    "monthly_pool": "monthly credit pool",
    "monthly": "monthly estimate",
}
UNITS: Final[Mapping[str, str]] = {
    "usd": "US dollars (API-equivalent)",
    "prompts": "prompts",
    "messages": "messages",
    "credits": "credits",
    "requests": "premium requests",
    "tokens": "tokens",
}
# What happens past a window's capacity.
OVERAGE_KINDS: Final[Mapping[str, str]] = {
    "none": "usage stops until the window resets",
    "api_rates": "usage past the pool is billed at API list prices",
    "per_unit": "usage past the pool is billed per unit",
    "unknown": "the sources do not say",
}
# The model families a plan can cover, by the catalog's provider slug.
FAMILY_BY_PROVIDER: Final[Mapping[str, str]] = {
    "anthropic": "claude",
    "openai": "gpt",
    "google": "gemini",
    "xai": "grok",
    "deepseek": "deepseek",
    "mistral": "mistral",
}
FAMILY_LABELS: Final[Mapping[str, str]] = {
    "claude": "Claude",
    "gpt": "GPT",
    "gemini": "Gemini",
    "grok": "Grok",
    "deepseek": "DeepSeek",
    "mistral": "Mistral",
}


@dataclass(frozen=True, slots=True)
class Estimate:
    """One capacity estimate in the window's unit, with where it comes from."""

    amount: Decimal
    source_url: str = ""
    as_of: date | None = None


@dataclass(frozen=True, slots=True)
class WindowTerms:
    kind: str
    unit: str
    label: str = ""
    harness: str = ""  # "" = every harness of the plan; else only usage through this one
    low: Estimate | None = None
    mid: Estimate | None = None
    high: Estimate | None = None
    usd_per_unit: Decimal | None = None
    notes: str = ""

    def estimate(self, level: str) -> Estimate | None:
        found: Estimate | None = getattr(self, level)
        return found

    def amount(self, level: str) -> Decimal | None:
        found = self.estimate(level)
        return None if found is None else found.amount

    def usd(self, level: str) -> Decimal | None:
        """The capacity at ``level`` in API-equivalent dollars, or None when unknown."""
        amount = self.amount(level)
        if amount is None:
            return None
        if self.unit == "usd":
            return amount
        if self.usd_per_unit is None:
            return None
        return amount * self.usd_per_unit

    @property
    def dollars_known(self) -> bool:
        return any(self.usd(level) is not None for level in LEVELS)

    def applies_to(self, harness: str) -> bool:
        return not self.harness or self.harness == harness


@dataclass(frozen=True, slots=True)
class PlanTerms:
    """One plan version: everything a verdict needs, in effect from ``effective_from``."""

    plan: str
    name: str
    vendor: str
    effective_from: datetime
    monthly_price: Decimal
    annual_price: Decimal | None = None  # per year (per seat when per_seat)
    min_seats: int | None = 1  # None: the sources do not say
    per_seat: bool = False
    harnesses: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    overage_kind: str = "none"
    overage_unit_price: Decimal | None = None
    windows: tuple[WindowTerms, ...] = ()
    version_id: str = ""

    @property
    def seats(self) -> int:
        """Seats one buyer must pay for: the minimum, or one when the sources give none."""
        return self.min_seats or 1

    @property
    def monthly_bill(self) -> Decimal:
        """What a month costs on monthly billing, at the minimum number of seats."""
        return self.monthly_price * self.seats

    def covers(self, families: Iterable[str]) -> bool:
        return all(f in self.families for f in families)

    def windows_of(self, kind: str, harness: str) -> list[WindowTerms]:
        return [w for w in self.windows if w.kind == kind and w.applies_to(harness)]


@dataclass(slots=True)
class PlanHistory:
    """The published versions of one plan, oldest first; the one in effect at an instant."""

    plan: str
    name: str
    vendor: str
    versions: list[PlanTerms] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.versions.sort(key=lambda v: v.effective_from)

    def at(self, when: datetime) -> PlanTerms | None:
        """The latest version starting at or before ``when`` (None before the first)."""
        starts = [v.effective_from for v in self.versions]
        index = bisect.bisect_right(starts, when) - 1
        return self.versions[index] if index >= 0 else None
