"""The windows chart: API-equivalent dollars per 5-hour session against each plan's band.

Pure; built from the windows and verdicts, shipped with ``json_script`` and drawn by
``static/js/charts.js`` (as the catalog's price-history chart). Plotly data may be floats:
it is drawn, never added up or shown as an amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from apps.common.display import usd

from .verdict import Fit, PlanVerdict
from .windows import FIVE_HOURS, Window

COLOURS: Final = ("#7c3aed", "#059669", "#d97706", "#dc2626", "#0891b2", "#4b5563")
BAR_COLOUR: Final = "#2563eb"


def plotly_date(when: datetime) -> str:
    # Plotly reads "YYYY-MM-DD HH:MM:SS" and ignores zone suffixes, so dates go out in UTC.
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _bars(windows: Sequence[Window]) -> dict[str, Any]:
    return {
        "type": "bar",
        "name": "API-equivalent cost of the session",
        # a bar spans its five hours, starting at the session's first request
        "x": [plotly_date(w.start + FIVE_HOURS / 2) for w in windows],
        "y": [float(w.cost) for w in windows],
        "width": [FIVE_HOURS.total_seconds() * 1000] * len(windows),
        "text": [
            f"{w.start.astimezone(UTC):%Y-%m-%d %H:%M}–{w.end.astimezone(UTC):%H:%M} UTC<br>"
            f"{w.requests:,} requests, {usd(w.cost)}"
            for w in windows
        ],
        "textposition": "none",
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {"color": BAR_COLOUR},
    }


def _band(
    verdict: PlanVerdict, fits: Sequence[Fit], end: datetime, colour: str
) -> list[dict[str, Any]]:
    """The plan's low-high band (filled) and its mid line, stepping at each session."""
    x = [plotly_date(f.start) for f in fits] + [plotly_date(end)]

    def series(level: str) -> list[float | None]:
        values = [
            None if f.capacity[level] is None else float(f.capacity[level] or 0) for f in fits
        ]
        return [*values, values[-1]]

    name = verdict.name
    line = {"shape": "hv", "color": colour, "width": 1}
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": f"{name} low", "x": x, "y": series("low"),
         "line": line, "legendgroup": verdict.plan, "showlegend": False,
         "hovertemplate": f"{name} low estimate: $%{{y:,.0f}}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "name": f"{name} (low–high)", "x": x,
         "y": series("high"), "line": line, "fill": "tonexty", "fillcolor": colour + "22",
         "legendgroup": verdict.plan,
         "hovertemplate": f"{name} high estimate: $%{{y:,.0f}}<extra></extra>"},
    ]  # fmt: skip
    mids = series("mid")
    if any(v is not None for v in mids):
        traces.append(
            {"type": "scatter", "mode": "lines", "name": f"{name} mid", "x": x, "y": mids,
             "line": {**line, "width": 2, "dash": "dash"}, "legendgroup": verdict.plan,
             "hovertemplate": f"{name} mid estimate: $%{{y:,.0f}}<extra></extra>"}
        )  # fmt: skip
    return traces


def windows_figure(windows: Sequence[Window], verdicts: Sequence[PlanVerdict]) -> dict[str, Any]:
    """Bars per 5-hour session; a band per plan whose 5-hour capacity is known in dollars."""
    data: list[dict[str, Any]] = []
    end = windows[-1].end if windows else datetime.now(UTC)
    banded = 0
    for verdict in verdicts:
        fits = [f for f in verdict.sessions if any(v is not None for v in f.capacity.values())]
        if not fits:
            continue
        data += _band(verdict, fits, end, COLOURS[banded % len(COLOURS)])
        banded += 1
    data.append(_bars(windows))
    layout: dict[str, Any] = {
        "margin": {"l": 70, "r": 20, "t": 30, "b": 50},
        "height": 380,
        "hovermode": "closest",
        "barmode": "overlay",
        "legend": {"orientation": "h", "y": -0.22},
        "xaxis": {"type": "date", "title": {"text": "UTC"}},
        "yaxis": {
            "title": {"text": "API-equivalent USD per 5-hour session"},
            "rangemode": "tozero",
            "tickprefix": "$",
        },
        "annotations": [],
    }
    if not banded:
        layout["annotations"].append(
            {"text": "No plan covering these models publishes a 5-hour capacity in dollars",
             "xref": "paper", "yref": "paper", "x": 0.5, "y": 1.02, "showarrow": False,
             "font": {"color": "#6b7280", "size": 12}}
        )  # fmt: skip
    config = {"responsive": True, "displaylogo": False, "displayModeBar": False}
    return {"data": data, "layout": layout, "config": config}
