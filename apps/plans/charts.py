"""The windows chart (API-equivalent dollars per 5-hour session against each plan's band)
and the break-even chart (monthly cost against volume: the API against each plan).

Pure; built from the windows and verdicts, shipped with ``json_script`` and drawn by
``static/js/charts.js`` (as the catalog's price-history chart). Plotly data may be floats:
it is drawn, never added up or shown as an amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
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


# --------------------------------------------------------------------------- break-even

BREAKEVEN_COLOURS: Final = ("#7c3aed", "#059669", "#d97706", "#dc2626", "#0891b2", "#db2777",
                            "#4b5563", "#65a30d", "#9333ea", "#0d9488", "#b45309", "#be123c")  # fmt: skip
API_COLOUR: Final = "#111827"
# The volume axis runs to this many times the largest break-even (or past the workload's).
VOLUME_SPAN: Final = 3


@dataclass(frozen=True, slots=True)
class PlanCurve:
    """One plan on the break-even chart: its price, break-even and where it stops covering."""

    name: str
    price: Decimal
    breakeven: Decimal | None  # volume; None: never (the API is free, or the plan stops first)
    covers: dict[str, Decimal | None]  # volume per estimate (low / mid / high); None: unknown


def _x_max(curves: Sequence[PlanCurve], current: Decimal) -> float:
    evens = [float(c.breakeven) for c in curves if c.breakeven is not None]
    span = VOLUME_SPAN * max(evens) if evens else 0.0
    return max(span, 1.1 * float(current), 1.0)


def _plan_traces(curve: PlanCurve, colour: str, x_max: float, unit: str) -> list[dict[str, Any]]:
    price = float(curve.price)
    known = sorted(float(v) for v in curve.covers.values() if v is not None)
    name = curve.name
    hover = f"{name}: {usd(curve.price)} a month<br>%{{x:,.0f}} {unit}<extra></extra>"
    if not known:
        # no dollar capacity: the flat line runs on, dashed, and says so
        return [{"type": "scatter", "mode": "lines", "name": f"{name} (capacity unknown)",
                 "x": [0, x_max], "y": [price, price], "legendgroup": name,
                 "line": {"color": colour, "width": 2, "dash": "dash"},
                 "hovertemplate": hover}]  # fmt: skip
    low, high = known[0], known[-1]
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": name, "x": [0, low], "y": [price, price],
         "legendgroup": name, "line": {"color": colour, "width": 2}, "hovertemplate": hover},
    ]  # fmt: skip
    if high > low:
        # where it stops covering: the low-high band, drawn as a wide pale stroke
        traces.append(
            {"type": "scatter", "mode": "lines", "name": f"{name} stops covering (low–high)",
             "x": [low, high], "y": [price, price], "legendgroup": name, "showlegend": False,
             "opacity": 0.35, "line": {"color": colour, "width": 10},
             "hovertemplate": f"{name} stops covering between {low:,.0f} and {high:,.0f} "
                              f"{unit}<extra></extra>"}
        )  # fmt: skip
    mid = curve.covers.get("mid")
    if mid is not None:
        traces.append({"type": "scatter", "mode": "markers", "x": [float(mid)], "y": [price],
                       "name": f"{name} stops covering (mid)", "legendgroup": name,
                       "showlegend": False,
                       "marker": {"color": colour, "symbol": "line-ns-open", "size": 16,
                                  "line": {"width": 2, "color": colour}},
                       "hovertemplate": f"{name} stops covering at %{{x:,.0f}} {unit} (mid)"
                                        "<extra></extra>"})  # fmt: skip
    return traces


def breakeven_figure(
    api_label: str,
    cost_per_unit: Decimal,
    curves: Sequence[PlanCurve],
    *,
    current: Decimal,
    unit: str = "requests",
) -> dict[str, Any]:
    """Monthly cost against volume: the API as a line through 0, each plan flat at its price
    until its capacity band; break-evens marked where the API line crosses a plan's."""
    config = {"responsive": True, "displaylogo": False, "displayModeBar": False}
    if cost_per_unit <= 0 or not curves:
        text = "The API costs nothing for this workload" if cost_per_unit <= 0 else "No plan"
        layout = {"height": 200, "xaxis": {"visible": False}, "yaxis": {"visible": False},
                  "annotations": [{"text": text, "xref": "paper", "yref": "paper", "x": 0.5,
                                   "y": 0.5, "showarrow": False}]}  # fmt: skip
        return {"data": [], "layout": layout, "config": config}
    x_max = _x_max(curves, current)
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": f"Pay per token ({api_label})",
         "x": [0, x_max], "y": [0, float(cost_per_unit) * x_max],
         "line": {"color": API_COLOUR, "width": 3},
         "hovertemplate": f"API: %{{y:$,.2f}} a month at %{{x:,.0f}} {unit}<extra></extra>"},
    ]  # fmt: skip
    evens_x, evens_y, evens_text = [], [], []
    for k, curve in enumerate(curves):
        data += _plan_traces(curve, BREAKEVEN_COLOURS[k % len(BREAKEVEN_COLOURS)], x_max, unit)
        if curve.breakeven is not None and float(curve.breakeven) <= x_max:
            evens_x.append(float(curve.breakeven))
            evens_y.append(float(curve.price))
            evens_text.append(curve.name)
    if evens_x:
        data.append(
            {"type": "scatter", "mode": "markers", "name": "Break-even", "x": evens_x,
             "y": evens_y, "text": evens_text,
             "marker": {"color": "#ffffff", "size": 9, "line": {"color": API_COLOUR, "width": 2}},
             "hovertemplate": f"%{{text}} pays off past %{{x:,.0f}} {unit}<extra></extra>"}
        )  # fmt: skip
    now = float(current)
    layout = {
        "height": 460,
        "margin": {"l": 70, "r": 20, "t": 30, "b": 60},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.18},
        "xaxis": {"title": {"text": f"{unit.capitalize()} per month"}, "range": [0, x_max],
                  "rangemode": "tozero", "separatethousands": True},
        "yaxis": {"title": {"text": "USD per month"}, "tickprefix": "$", "rangemode": "tozero",
                  "range": [0, float(cost_per_unit) * x_max * 1.05]},
        "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": now, "x1": now,
                    "y0": 0, "y1": 1, "line": {"color": "#6b7280", "width": 1.5, "dash": "dot"}}],
        "annotations": [{"text": "your volume", "xref": "x", "yref": "paper", "x": now, "y": 1.0,
                         "yanchor": "bottom", "showarrow": False,
                         "font": {"color": "#6b7280", "size": 11}}],
    }  # fmt: skip
    return {"data": data, "layout": layout, "config": config}
