"""Plotly figures for the catalog pages, built from plain values (no database access).

The page ships the figure with ``json_script`` and ``static/js/charts.js`` only draws it.
Plotly data may be floats: it is drawn, never added up or shown as an amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

# (meter, legend label, colour): the meters whose history the chart draws.
HISTORY_TRACES = (
    ("input", "Input", "#2563eb"),
    ("cache_read", "Cache read", "#059669"),
    ("output", "Output", "#dc2626"),
)
# How far the last price is drawn past the last change (or today) so the final step shows.
MIN_TAIL = timedelta(days=30)


@dataclass(frozen=True)
class PricePoint:
    """The prices of one version from ``effective_from`` on (USD per million tokens)."""

    effective_from: datetime
    prices: Mapping[str, Decimal | None]


def plotly_date(when: datetime) -> str:
    # Plotly reads "YYYY-MM-DD HH:MM:SS" and ignores zone suffixes, so dates go out in UTC.
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _end_of_chart(points: Sequence[PricePoint], today: datetime) -> datetime:
    first, last = points[0].effective_from, points[-1].effective_from
    end = max(last, today)
    return end + max(MIN_TAIL, (end - first) / 10)


def price_history_figure(points: Sequence[PricePoint], *, today: datetime) -> dict[str, Any]:
    """Step lines of input, cache-read and output prices over time, with "today" marked.

    ``points`` are the published versions, any order; future (scheduled) ones included.
    A meter a version does not price leaves a gap rather than dropping to zero.
    """
    points = sorted(points, key=lambda p: p.effective_from)
    layout = _layout(today)
    if not points:
        layout["annotations"].append(
            {
                "text": "No published prices yet",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
            }
        )
        return {"data": [], "layout": layout, "config": _config()}
    end = _end_of_chart(points, today)
    x = [plotly_date(p.effective_from) for p in points] + [plotly_date(end)]
    text = [f"from {p.effective_from.astimezone(UTC):%Y-%m-%d}" for p in points] + [
        "still in effect"
    ]
    data = []
    for meter, label, colour in HISTORY_TRACES:
        values = [p.prices.get(meter) for p in points]
        if all(v is None for v in values):
            continue
        y = [None if v is None else float(v) for v in values]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "x": x,
                # The extra last point repeats the last price so the final step has a width.
                "y": [*y, y[-1]],
                "text": text,
                "line": {"shape": "hv", "color": colour, "width": 2},
                "marker": {"size": [7] * len(points) + [0]},
                "connectgaps": False,
                "hovertemplate": f"{label}: $%{{y}} per 1M tokens<br>%{{text}}<extra></extra>",
            }
        )
    return {"data": data, "layout": layout, "config": _config()}


def _layout(today: datetime) -> dict[str, Any]:
    day = plotly_date(today)
    return {
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "height": 360,
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {"type": "date", "title": {"text": "UTC"}},
        "yaxis": {"title": {"text": "USD per 1M tokens"}, "rangemode": "tozero"},
        "shapes": [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#6b7280", "width": 1, "dash": "dot"},
            }
        ],
        "annotations": [
            {
                "text": "today",
                "xref": "x",
                "yref": "paper",
                "x": day,
                "y": 1,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": "#6b7280", "size": 12},
            }
        ],
    }


def _config() -> dict[str, Any]:
    return {"responsive": True, "displaylogo": False, "displayModeBar": False}
