"""Words and numbers the comparison pages show: strategies, gaps, a month, the logs' cost.

Pure (no database). Dollars and shares are written by ``apps.common.display``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.common.display import percent, usd

from .estimate.timeline import ConversationWorkload

# The conversation form's context strategies, as the page names them.
CONTEXT_LABELS = {
    "none": "None (refuse at the limit)",
    "sliding": "Sliding window",
    "hysteresis": "Hysteresis",
    "compaction": "Compaction",
}


def strategy_short_label(name: str) -> str:
    """A legend-sized label for a strategy name of ``policy.strategies``."""
    fixed = {
        "none": "No caching",
        "cache_5m_keepalive": "5m TTL + keep-alive",
        "explicit_storage": "Explicit + storage",
        "automatic": "Automatic",
    }
    if name in fixed:
        return fixed[name]
    if name.startswith("cache_"):
        return f"{name.removeprefix('cache_')} TTL"
    if name.startswith("automatic_"):
        return f"Automatic + {name.removeprefix('automatic_')} retention"
    return name


def human_gap(seconds: float) -> str:
    """A gap as people say it: "10 s", "1 min", "4.2 min", "1.5 h"."""

    def short(value: float) -> str:
        text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
        return text.removesuffix(".0")

    if seconds < 60:
        return f"{short(seconds)} s"
    if seconds < 3600:
        return f"{short(seconds / 60)} min"
    return f"{short(seconds / 3600)} h"


def month_shape(params: ConversationWorkload) -> str:
    """The month's shape in words, e.g. "1,000 conversations of up to 30 turns"."""
    c, t = params.conversations_per_month, params.turns_per_conversation
    return f"{c:,} conversation{'' if c == 1 else 's'} of up to {t:,} turn{'' if t == 1 else 's'}"


# --------------------------------------------------------------------------- imported logs


@dataclass(frozen=True)
class LoggedModel:
    provider: str
    model: str
    requests: int
    cost: Decimal

    @property
    def cost_display(self) -> str:
        return usd(self.cost)

    @property
    def requests_display(self) -> str:
        return f"{self.requests:,}"


@dataclass(frozen=True)
class LogsCost:
    """What an import's summary says the logs cost, at the prices in effect at each request."""

    total: Decimal
    models: tuple[LoggedModel, ...]
    unpriced_records: int = 0

    @property
    def total_display(self) -> str:
        return usd(self.total)

    @property
    def slugs(self) -> frozenset[str]:
        return frozenset(m.model for m in self.models)


def logs_cost(summary: Mapping[str, Any] | None) -> LogsCost:
    summary = summary or {}
    models = tuple(
        LoggedModel(
            str(m.get("provider", "")),
            str(m.get("model", "")),
            int(m.get("requests") or 0),
            Decimal(str(m.get("cost_usd") or 0)),
        )
        for m in summary.get("by_model") or ()
    )
    unpriced = int((summary.get("unpriced") or {}).get("records") or 0)
    return LogsCost(Decimal(str(summary.get("total_cost_usd") or 0)), models, unpriced)


@dataclass(frozen=True)
class Versus:
    """An alternative's cost against what the logs cost."""

    amount: str  # the difference, unsigned
    percent: str  # of the logs' cost; "" when the logs cost nothing
    cheaper: bool
    same: bool


def versus(logged: Decimal, other: Decimal) -> Versus:
    difference = logged - other
    share = percent(abs(difference) / logged) if logged > 0 else ""
    return Versus(usd(abs(difference)), share, difference > 0, difference == 0)
