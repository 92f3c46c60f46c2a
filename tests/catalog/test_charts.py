"""The pure Plotly figure builder (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from apps.catalog.charts import PricePoint, plotly_date, price_history_figure

TODAY = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
JAN = datetime(2025, 1, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
FUTURE = datetime(2027, 1, 1, tzinfo=UTC)


def point(when, **prices):
    return PricePoint(when, {k: Decimal(v) for k, v in prices.items()})


def traces(figure):
    return {t["name"]: t for t in figure["data"]}


def test_it_draws_input_cache_read_and_output_as_step_lines():
    figure = price_history_figure(
        [
            point(JAN, input="3", output="15", cache_read="0.30"),
            point(MAR, input="2.5", output="10", cache_read="0.25"),
        ],
        today=TODAY,
    )
    by_name = traces(figure)
    assert list(by_name) == ["Input", "Cache read", "Output"]
    for trace in figure["data"]:
        assert trace["line"]["shape"] == "hv"
    assert by_name["Input"]["x"][:2] == ["2025-01-01 00:00:00", "2026-03-01 00:00:00"]
    assert by_name["Input"]["y"][:2] == [3.0, 2.5]
    assert by_name["Output"]["y"][:2] == [15.0, 10.0]


def test_the_last_price_is_carried_past_today_so_the_final_step_shows():
    figure = price_history_figure([point(JAN, input="3", output="15")], today=TODAY)
    trace = traces(figure)["Input"]
    assert trace["y"] == [3.0, 3.0]
    assert trace["x"][-1] > plotly_date(TODAY)
    assert trace["text"][-1] == "still in effect"
    assert trace["marker"]["size"] == [7, 0]


def test_scheduled_versions_are_included_and_the_chart_runs_past_them():
    figure = price_history_figure(
        [point(JAN, input="3", output="15"), point(FUTURE, input="2", output="8")], today=TODAY
    )
    trace = traces(figure)["Input"]
    assert "2027-01-01 00:00:00" in trace["x"]
    assert trace["x"][-1] > "2027-01-01 00:00:00"
    assert trace["y"] == [3.0, 2.0, 2.0]


def test_today_is_marked_with_a_line_and_a_label():
    figure = price_history_figure([point(JAN, input="3", output="15")], today=TODAY)
    (line,) = figure["layout"]["shapes"]
    assert line["x0"] == line["x1"] == "2026-06-01 12:00:00"
    assert line["yref"] == "paper"
    assert figure["layout"]["annotations"][0]["text"] == "today"


def test_points_are_sorted_by_date_whatever_order_they_come_in():
    figure = price_history_figure(
        [point(MAR, input="2.5", output="10"), point(JAN, input="3", output="15")], today=TODAY
    )
    assert traces(figure)["Input"]["y"][:2] == [3.0, 2.5]


def test_a_meter_no_version_prices_gets_no_trace():
    figure = price_history_figure([point(JAN, input="1", output="4")], today=TODAY)
    assert list(traces(figure)) == ["Input", "Output"]


def test_a_meter_missing_from_one_version_leaves_a_gap_not_a_zero():
    figure = price_history_figure(
        [point(JAN, input="3", output="15", cache_read="0.3"), point(MAR, input="2", output="8")],
        today=TODAY,
    )
    cache = traces(figure)["Cache read"]
    assert cache["y"] == [0.3, None, None]
    assert cache["connectgaps"] is False


def test_no_versions_give_an_empty_chart_with_a_message():
    figure = price_history_figure([], today=TODAY)
    assert figure["data"] == []
    assert "No published prices yet" in [a["text"] for a in figure["layout"]["annotations"]]


def test_dates_are_written_in_utc():
    paris_winter = timezone(timedelta(hours=1))
    assert plotly_date(datetime(2026, 3, 1, 2, 0, tzinfo=paris_winter)) == "2026-03-01 01:00:00"


def test_the_figure_is_plain_json():
    figure = price_history_figure([point(JAN, input="3", output="15")], today=TODAY)
    assert json.loads(json.dumps(figure)) == figure
    assert figure["config"]["displaylogo"] is False
