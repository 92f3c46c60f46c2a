"""The comparison page's pure figure builders and chart helpers (no database)."""

from __future__ import annotations

import json
import math
from decimal import Decimal as D

import pytest

from apps.compare.charts import (
    TOP_COST_BARS,
    CostBar,
    Series,
    caching_savings_figure,
    cost_volume_figure,
    monthly_cost_figure,
    ttl_figure,
)
from apps.compare.curves import BreakEven, cheapest, find_break_evens, log_grid, volume_steps
from apps.compare.display import human_gap, strategy_short_label


def names(figure):
    return [t["name"] for t in figure["data"]]


def assert_plain_json(figure):
    # json_script would turn a Decimal into a string, which Plotly reads as a category.
    text = json.dumps(figure)
    assert "Decimal" not in text
    return text


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("none", "No caching"),
        ("cache_5m", "5m TTL"),
        ("cache_1h", "1h TTL"),
        ("cache_5m_keepalive", "5m TTL + keep-alive"),
        ("automatic", "Automatic"),
        ("automatic_12h", "Automatic + 12h retention"),
        ("explicit_storage", "Explicit + storage"),
        ("something_new", "something_new"),
    ],
)
def test_it_names_each_strategy_for_a_legend(name, label):
    assert strategy_short_label(name) == label


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5 s"), (10, "10 s"), (59.4, "59 s"), (60, "1 min"), (252, "4.2 min"), (600, "10 min"),
     (3600, "1 h"), (5400, "1.5 h"), (14400, "4 h")],
)  # fmt: skip
def test_it_says_gaps_as_people_do(seconds, text):
    assert human_gap(seconds) == text


def test_the_gap_grid_runs_from_5_seconds_to_4_hours_evenly_on_a_log_axis():
    grid = log_grid(5, 14400, 48)
    assert len(grid) == 48
    assert grid[0] == pytest.approx(5) and grid[-1] == pytest.approx(14400)
    ratios = {round(b / a, 9) for a, b in zip(grid, grid[1:], strict=False)}
    assert len(ratios) == 1


def test_volumes_go_from_1_to_1000_percent_and_include_the_workload_itself():
    steps = volume_steps(100_000)
    assert len(steps) == 10
    assert steps[0] == 1_000 and steps[-1] == 1_000_000
    assert 100_000 in steps
    assert steps == sorted(steps)


def test_tiny_volumes_stay_whole_distinct_and_positive():
    assert volume_steps(1) == [1, 2, 5, 10]
    assert volume_steps(0) == [1]


def test_the_cheapest_strategy_wins():
    assert cheapest({"none": D("50"), "cache_5m": D("40"), "cache_1h": D("32")}) == "cache_1h"


def test_a_difference_under_a_cent_is_a_tie_won_by_the_earlier_strategy():
    # Sub-cent gaps come from rounding expected hits to whole requests: not worth a switch.
    costs = {"none": D("50"), "cache_5m": D("32.0014"), "cache_5m_keepalive": D("32.0003")}
    assert cheapest(costs) == "cache_5m"
    assert cheapest({"none": D("10.004"), "automatic": D("10")}) == "none"


def test_the_tie_grows_with_the_bill():
    # 0.01% of a $1,000,000 bill is $100: a $50 difference is a tie, a $150 one is not.
    assert cheapest({"a": D("1000050"), "b": D("1000000")}) == "a"
    assert cheapest({"a": D("1000150"), "b": D("1000000")}) == "b"


# --------------------------------------------------------------------------- break-evens

GRID = log_grid(5, 14400, 48)


def test_it_finds_one_break_even_by_bisection():
    found = find_break_evens(lambda g: "5m" if g < 100 else "1h", GRID)
    assert len(found) == 1
    assert found[0].before == "5m" and found[0].after == "1h"
    assert found[0].gap_seconds == pytest.approx(100, rel=1e-3)


def test_it_finds_every_change_along_the_grid_in_order():
    def winner(gap):
        return "5m" if gap < 42 else ("1h" if gap < 5000 else "none")

    found = find_break_evens(winner, GRID)
    assert [(b.before, b.after) for b in found] == [("5m", "1h"), ("1h", "none")]
    assert found[0].gap_seconds == pytest.approx(42, rel=1e-3)
    assert found[1].gap_seconds == pytest.approx(5000, rel=1e-3)


def test_it_finds_the_crossing_of_two_cost_curves():
    # A 5-minute cache costs 10 + gap/30, a 1-hour one a flat 12: they cross at a 60 s gap.
    def winner(gap):
        return cheapest({"cache_5m": D(10 + gap / 30), "cache_1h": D(12)})

    found = find_break_evens(winner, GRID)
    assert len(found) == 1
    # the tie rule moves the switch by a cent: 10 + g/30 > 12.01 from g = 60.3 s
    assert found[0].gap_seconds == pytest.approx(60.3, rel=2e-3)


def test_no_change_means_no_break_even():
    assert find_break_evens(lambda g: "none", GRID) == []


# --------------------------------------------------------------------------- figures


def bar(label, total, **parts):
    return CostBar(label, D(total), {k: D(v) for k, v in parts.items()}, "automatic")


def test_monthly_cost_bars_are_stacked_by_breakdown_part_cheapest_first():
    figure = monthly_cost_figure(
        [
            bar("B", "30", uncached_input="10", output="20"),
            bar("A", "12", uncached_input="2", cache_reads="1", cache_writes="1", output="8"),
        ]
    )
    assert names(figure) == ["Uncached input", "Cache reads", "Cache writes", "Output"]
    assert figure["layout"]["barmode"] == "stack"
    by_name = {t["name"]: t for t in figure["data"]}
    assert by_name["Uncached input"]["y"] == ["A", "B"]
    assert by_name["Uncached input"]["x"] == [2.0, 10.0]
    assert by_name["Cache reads"]["x"] == [1.0, 0.0]
    assert all(t["orientation"] == "h" for t in figure["data"])
    assert_plain_json(figure)


def test_monthly_cost_shows_the_25_cheapest():
    bars = [bar(f"m{k:02d}", str(100 - k), output=str(100 - k)) for k in range(40)]
    figure = monthly_cost_figure(bars)
    assert len(figure["data"][0]["y"]) == TOP_COST_BARS
    assert figure["data"][0]["y"][0] == "m39"


def test_an_empty_chart_says_why():
    figure = monthly_cost_figure([])
    assert figure["data"] == []
    assert figure["layout"]["annotations"][0]["text"] == "No model matches the filters"


def test_cost_vs_volume_draws_one_line_per_model_on_log_axes():
    volumes = [1_000, 10_000, 100_000]
    figure = cost_volume_figure(
        volumes,
        [Series("a", "Model A", [D("1"), D("10"), D("100")]),
         Series("b", "Model B", [D("2"), D("15"), D("90")])],
        current=10_000,
    )  # fmt: skip
    assert names(figure) == ["Model A", "Model B"]
    assert figure["data"][0]["x"] == volumes
    assert figure["data"][1]["y"] == [2.0, 15.0, 90.0]
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert figure["layout"]["yaxis"]["type"] == "log"
    assert figure["layout"]["shapes"][0]["x0"] == 10_000
    assert_plain_json(figure)


def test_cost_vs_volume_keeps_a_linear_axis_when_a_cost_is_zero():
    figure = cost_volume_figure([1, 10], [Series("a", "A", [D(0), D(0)])], current=1)
    assert figure["layout"]["yaxis"]["type"] == "linear"


def test_cost_vs_volume_without_requests_says_so():
    figure = cost_volume_figure([], [], current=0)
    assert figure["data"] == []
    assert "requests per month" in figure["layout"]["annotations"][0]["text"]


def test_caching_savings_are_grouped_bars_per_strategy():
    figure = caching_savings_figure(
        ["A", "B"],
        [Series("none", "No caching", [D("50"), D("31")]),
         Series("cache_5m", "5m TTL", [D("40"), None]),
         Series("automatic", "Automatic", [None, D("22.36")])],
    )  # fmt: skip
    assert names(figure) == ["No caching", "5m TTL", "Automatic"]
    assert figure["layout"]["barmode"] == "group"
    assert figure["data"][1]["y"] == [40.0, None]  # B has no 5m cache: a gap, not $0
    assert figure["data"][2]["y"] == [None, 22.36]
    assert_plain_json(figure)


def test_the_ttl_chart_has_a_line_per_strategy_the_current_gap_and_each_break_even():
    gaps = [5.0, 60.0, 3600.0]
    figure = ttl_figure(
        gaps,
        [Series("none", "No caching", [D(50)] * 3),
         Series("cache_5m", "5m TTL", [D(32), D(33), D(53)]),
         Series("cache_1h", "1h TTL", [D(32.1), D(32.1), D(46)])],
        current_gap=30,
        break_evens=[BreakEven(40.0, "cache_5m", "cache_1h")],
        labels={"cache_5m": "5m TTL", "cache_1h": "1h TTL"},
    )  # fmt: skip
    assert names(figure) == ["No caching", "5m TTL", "1h TTL"]
    layout = figure["layout"]
    assert layout["xaxis"]["type"] == "log"
    assert [s["x0"] for s in layout["shapes"]] == [30, 40.0]
    texts = [a["text"] for a in layout["annotations"]]
    assert texts == ["your gap (30 s)", "→ 1h TTL"]
    # annotations on a log axis sit at log10 of the position
    assert layout["annotations"][0]["x"] == pytest.approx(math.log10(30))
    assert_plain_json(figure)
