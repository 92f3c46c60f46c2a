"""Plotly figures for the comparison pages, built from plain values (no database access).

The chart sets (``chartsets``, ``conversation_charts``) price the workload and hand numbers
to these builders; the page ships each figure with ``json_script`` and
``static/js/charts.js`` only draws it. Amounts arrive as Decimal and become floats only
inside the figure data: they are drawn, never added up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .curves import BreakEven
from .display import human_gap, strategy_short_label

# Breakdown parts stacked in the monthly-cost bars: (key, legend label, colour). The keys
# are those of estimate.results.BREAKDOWN; "other" holds per-call fees the breakdown does
# not name.
COST_PARTS = (
    ("uncached_input", "Uncached input", "#2563eb"),
    ("cache_reads", "Cache reads", "#059669"),
    ("cache_writes", "Cache writes", "#d97706"),
    ("output", "Output", "#dc2626"),
    ("storage", "Cache storage", "#7c3aed"),
    ("other", "Other fees", "#6b7280"),
)
STRATEGY_COLOURS = {
    "none": "#6b7280",
    "cache_5m": "#2563eb",
    "cache_1h": "#059669",
    "cache_5m_keepalive": "#d97706",
    "automatic": "#7c3aed",
    "explicit_storage": "#db2777",
}
SERIES_COLOURS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777")
TOP_COST_BARS = 25
TOP_SAVINGS = 15
TOP_VOLUME = 5


@dataclass(frozen=True)
class CostBar:
    """One model's monthly bill split by breakdown part (keys of COST_PARTS)."""

    label: str
    total: Decimal
    parts: Mapping[str, Decimal]
    strategy: str = ""


@dataclass(frozen=True)
class Series:
    """One line or bar group: a name (stable key), a legend label and one value per x."""

    name: str
    label: str
    values: Sequence[Decimal | None]


@dataclass(frozen=True)
class Chart:
    """A figure with what the page says around it.

    The page renders a list of these in order, so a new chart (the conversation form's
    growth chart) is one more ``Chart`` from its selector, with no template change.
    """

    id: str  # DOM id prefix; the json_script element is "<id>-figure"
    title: str
    figure: dict[str, Any]
    alt: str
    caption: str = ""
    wide: bool = False  # takes the full width of the chart grid

    @property
    def figure_id(self) -> str:
        return f"{self.id}-figure"


# --------------------------------------------------------------------------- helpers


def _f(value: Decimal | None) -> float | None:
    # An amount past float range would become Infinity, which JSON.parse rejects: leave a gap.
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _config() -> dict[str, Any]:
    return {"responsive": True, "displaylogo": False, "displayModeBar": False}


def _empty(message: str, height: int = 320) -> dict[str, Any]:
    layout = {
        "height": height,
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "annotations": [
            {
                "text": message,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
            }
        ],
    }
    return {"data": [], "layout": layout, "config": _config()}


def _vline(x: float, colour: str, dash: str) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 1.5, "dash": dash},
    }


def _label(x: float, text: str, colour: str, y: float = 1.0) -> dict[str, Any]:
    # Plotly places annotations on a log axis by log10 of the value (shapes take the value).
    return {
        "text": text,
        "xref": "x",
        "yref": "paper",
        "x": math.log10(x),
        "y": y,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"color": colour, "size": 11},
    }


# --------------------------------------------------------------------------- figures


def monthly_cost_figure(bars: Sequence[CostBar]) -> dict[str, Any]:
    """Horizontal bars of the cheapest models' monthly cost, stacked by breakdown part."""
    bars = sorted(bars, key=lambda b: b.total)[:TOP_COST_BARS]
    if not bars:
        return _empty("No model matches the filters")
    labels = [b.label for b in bars]
    data = []
    for key, label, colour in COST_PARTS:
        values = [b.parts.get(key, Decimal(0)) for b in bars]
        if not any(values):
            continue
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": label,
                "y": labels,
                "x": [_f(v) for v in values],
                "marker": {"color": colour},
                "customdata": [[b.strategy, _f(b.total)] for b in bars],
                "hovertemplate": f"%{{y}}<br>{label}: $%{{x:,.2f}}<br>"
                "total $%{customdata[1]:,.2f} (%{customdata[0]})<extra></extra>",
            }
        )
    layout = {
        "barmode": "stack",
        "height": 120 + 26 * len(bars),
        "margin": {"l": 180, "r": 20, "t": 10, "b": 80},
        # Stacked bars list their legend in reverse unless told; keep the table's order.
        "legend": {
            "orientation": "h",
            "y": -50 / (120 + 26 * len(bars)),
            "yanchor": "top",
            "traceorder": "normal",
        },
        "xaxis": {"title": {"text": "USD per month"}, "tickprefix": "$", "rangemode": "tozero"},
        # Cheapest on top, as in the table.
        "yaxis": {"autorange": "reversed", "automargin": True},
        "hovermode": "closest",
    }
    return {"data": data, "layout": layout, "config": _config()}


def cost_volume_figure(
    volumes: Sequence[int], series: Sequence[Series], *, current: int
) -> dict[str, Any]:
    """Monthly cost of a few models as the request volume varies (log-log), today's marked."""
    if current <= 0:
        return _empty("Enter some requests per month to see how the cost scales")
    if not series or not volumes:
        return _empty("No model matches the filters")
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": s.label,
            "x": list(volumes),
            "y": [_f(v) for v in s.values],
            "line": {"color": SERIES_COLOURS[k % len(SERIES_COLOURS)], "width": 2},
            "hovertemplate": f"{s.label}<br>%{{x:,}} requests: $%{{y:,.2f}}<extra></extra>",
        }
        for k, s in enumerate(series)
    ]
    # Log axes cannot show 0: a free workload (no tokens) would vanish, so keep y linear then.
    positive = all(v is not None and v > 0 for s in series for v in s.values)
    layout = {
        "height": 380,
        "margin": {"l": 70, "r": 20, "t": 30, "b": 60},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.22},
        "xaxis": {"type": "log", "dtick": 1, "title": {"text": "Requests per month"}},
        "yaxis": {
            "type": "log" if positive else "linear",
            "title": {"text": "USD per month"},
            "tickprefix": "$",
        },
        "shapes": [_vline(current, "#6b7280", "dot")],
        "annotations": [_label(current, "your volume", "#6b7280")],
    }
    return {"data": data, "layout": layout, "config": _config()}


def caching_savings_figure(models: Sequence[str], series: Sequence[Series]) -> dict[str, Any]:
    """Grouped bars: per model, the monthly cost with no caching and with each strategy."""
    if not models:
        return _empty("No model matches the filters")
    data = [
        {
            "type": "bar",
            "name": s.label,
            "x": list(models),
            "y": [_f(v) for v in s.values],
            "marker": {"color": STRATEGY_COLOURS.get(s.name, SERIES_COLOURS[k % 7])},
            "hovertemplate": f"%{{x}}<br>{s.label}: $%{{y:,.2f}}<extra></extra>",
        }
        for k, s in enumerate(series)
    ]
    layout = {
        "barmode": "group",
        "height": 420,
        "margin": {"l": 70, "r": 20, "t": 20, "b": 130},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        "xaxis": {"tickangle": -35, "automargin": True},
        "yaxis": {"title": {"text": "USD per month"}, "tickprefix": "$", "rangemode": "tozero"},
    }
    return {"data": data, "layout": layout, "config": _config()}


def ttl_figure(
    gaps: Sequence[float],
    series: Sequence[Series],
    *,
    current_gap: float,
    break_evens: Sequence[BreakEven] = (),
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Monthly cost of each caching strategy of one model as the mean gap varies.

    The current gap is a dashed line; each break-even (where the cheapest strategy changes)
    a dotted one labelled with the strategy that takes over.
    """
    if not series:
        return _empty("No price for this model")
    labels = labels or {s.name: s.label for s in series}
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": s.label,
            "x": list(gaps),
            "y": [_f(v) for v in s.values],
            "line": {"color": STRATEGY_COLOURS.get(s.name, SERIES_COLOURS[k % 7]), "width": 2},
            "hovertemplate": f"{s.label}<br>gap %{{x:.0f}} s: $%{{y:,.2f}}<extra></extra>",
        }
        for k, s in enumerate(series)
    ]
    shapes = [_vline(current_gap, "#111827", "dash")]
    annotations = [_label(current_gap, f"your gap ({human_gap(current_gap)})", "#111827")]
    for k, b in enumerate(break_evens):
        shapes.append(_vline(b.gap_seconds, "#9ca3af", "dot"))
        # Stagger the labels so neighbouring break-evens do not print over each other.
        annotations.append(
            _label(b.gap_seconds, f"→ {labels.get(b.after, b.after)}", "#4b5563", 0.9 - 0.08 * k)
        )
    layout = {
        "height": 420,
        "margin": {"l": 70, "r": 20, "t": 30, "b": 60},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {
            "type": "log",
            "title": {"text": "Mean gap between requests sharing the prefix (s)"},
            "tickvals": [5, 10, 30, 60, 300, 600, 1800, 3600, 14400],
            "ticktext": ["5 s", "10 s", "30 s", "1 min", "5 min", "10 min", "30 min", "1 h", "4 h"],
        },
        "yaxis": {"title": {"text": "USD per month"}, "tickprefix": "$"},
        "shapes": shapes,
        "annotations": annotations,
    }
    return {"data": data, "layout": layout, "config": _config()}


# --------------------------------------------------------------------------- conversations

# A 10,000-turn conversation is drawn from at most this many turns: the curve's shape needs
# no more, and every point is a few dozen bytes of JSON in the page.
GROWTH_POINTS = 400
TOP_ALTERNATIVES = 15
YOURS_COLOUR, CHEAPER_COLOUR, DEARER_COLOUR = "#111827", "#059669", "#dc2626"


def thin(count: int, points: int = GROWTH_POINTS) -> list[int]:
    """At most ``points`` indexes of ``count`` values, evenly spaced and ending on the last.

    Even spacing keeps a convex curve convex when drawn from the kept points only.
    """
    if count <= points:
        return list(range(count))
    step = math.ceil(count / points)
    return list(range(count - 1, -1, -step))[::-1]


def growth_figure(
    turns: Sequence[int],
    uncached: Sequence[Decimal],
    cached: Sequence[Decimal] | None,
    *,
    cached_label: str = "",
    cached_name: str = "",
    prompt_tokens: Sequence[int] = (),
) -> dict[str, Any]:
    """Cumulative cost of one conversation by turn: no caching against one caching strategy.

    Without caching every turn pays for the whole history again, so the line curves upward
    (quadratic in turns); the prompt size (right axis) shows where the context strategy cut.
    ``cached`` None: the model offers no caching, and only the no-cache line is drawn.
    """
    if not turns:
        return _empty("No turn of the conversation was sent")
    keep = thin(len(turns))
    x = [turns[i] for i in keep]
    lines: list[tuple[str, str, Sequence[Decimal]]] = [("none", "No caching", uncached)]
    if cached is not None:
        lines.append((cached_name, cached_label or strategy_short_label(cached_name), cached))
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": label,
            "x": x,
            "y": [_f(values[i]) for i in keep],
            "line": {"color": STRATEGY_COLOURS.get(name, SERIES_COLOURS[k % 7]), "width": 2.5},
            "hovertemplate": f"{label}<br>after turn %{{x:,}}: $%{{y:,.4f}}<extra></extra>",
        }
        for k, (name, label, values) in enumerate(lines)
    ]
    if prompt_tokens:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Prompt tokens (right axis)",
                "x": x,
                "y": [int(prompt_tokens[i]) for i in keep],
                "yaxis": "y2",
                "line": {"color": "#9ca3af", "width": 1.5, "dash": "dot"},
                "hovertemplate": "turn %{x:,}: %{y:,} prompt tokens<extra></extra>",
            }
        )
    layout = {
        "height": 420,
        "margin": {"l": 70, "r": 70, "t": 20, "b": 60},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {"title": {"text": "Turn"}, "rangemode": "tozero"},
        "yaxis": {
            "title": {"text": "USD so far, one conversation"},
            "tickprefix": "$",
            "rangemode": "tozero",
        },
        "yaxis2": {
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "title": {"text": "Prompt tokens"},
        },
    }
    return {"data": data, "layout": layout, "config": _config()}


def your_cost_figure(yours: CostBar, alternatives: Sequence[CostBar]) -> dict[str, Any]:
    """Horizontal bars: what the logs cost, then the cheapest alternatives for the same traffic.

    Cheaper alternatives are green and dearer ones red; a dashed line marks your cost.
    """
    alternatives = sorted(alternatives, key=lambda b: b.total)[:TOP_ALTERNATIVES]
    if not alternatives:
        return _empty("No model matches the filters")
    bars = [yours, *alternatives]
    colours = [YOURS_COLOUR] + [
        CHEAPER_COLOUR if b.total < yours.total else DEARER_COLOUR for b in alternatives
    ]
    height = 120 + 26 * len(bars)
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Cost of the same traffic",
            "y": [b.label for b in bars],
            "x": [_f(b.total) for b in bars],
            "marker": {"color": colours},
            "customdata": [b.strategy for b in bars],
            "hovertemplate": "%{y}<br>$%{x:,.4f} (%{customdata})<extra></extra>",
        }
    ]
    layout = {
        "height": height,
        "margin": {"l": 220, "r": 20, "t": 30, "b": 50},
        "showlegend": False,
        "xaxis": {"title": {"text": "USD"}, "tickprefix": "$", "rangemode": "tozero"},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "hovermode": "closest",
        "shapes": [_vline(_f(yours.total) or 0.0, YOURS_COLOUR, "dash")],
        "annotations": [
            {
                "text": "your logs",
                "xref": "x",
                "yref": "paper",
                "x": _f(yours.total) or 0.0,
                "y": 1.0,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": YOURS_COLOUR, "size": 11},
            }
        ],
    }
    return {"data": data, "layout": layout, "config": _config()}
