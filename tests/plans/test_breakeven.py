"""Plan or API at a monthly volume (pure): break-even, where the plan stops covering."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.plans.breakeven import Capacity, breakeven

# A plan at $20 a month covering $66 / $200 / $363 of API-equivalent usage a month,
# against an API cost of $0.05 a request.
PLAN = D("20")
CAPACITY = Capacity(low=D("66"), mid=D("200"), high=D("363"))
COST = D("0.05")


def test_break_even_is_the_plan_price_over_the_cost_per_request():
    # 20 / 0.05 = 400 requests a month
    result = breakeven(COST, PLAN, CAPACITY)
    assert result.breakeven_volume == D("400")
    assert result.verdict is None


def test_the_plan_stops_covering_at_capacity_over_the_cost_per_request():
    # 66 / 0.05 = 1,320; 200 / 0.05 = 4,000; 363 / 0.05 = 7,260 requests a month
    result = breakeven(COST, PLAN, CAPACITY)
    assert result.covers_until == {"low": D("1320"), "mid": D("4000"), "high": D("7260")}
    assert result.plan_can_win == {"low": True, "mid": True, "high": True}


@pytest.mark.parametrize(
    ("volume", "verdict", "verdicts"),
    [
        (300, "api", {"low": "api", "mid": "api", "high": "api"}),  # $15 < $20
        (400, "api", {"low": "api", "mid": "api", "high": "api"}),  # $20 = $20: a tie is the API
        (401, "plan", {"low": "plan", "mid": "plan", "high": "plan"}),  # $20.05 > $20
        (2000, "plan", {"low": "over_limit", "mid": "plan", "high": "plan"}),  # $100 > $66
        (5000, "over_limit", {"low": "over_limit", "mid": "over_limit", "high": "plan"}),  # $250
    ],
)
def test_the_verdict_at_a_volume(volume, verdict, verdicts):
    result = breakeven(COST, PLAN, CAPACITY, volume)
    assert result.verdict == verdict and result.verdicts == verdicts


def test_a_plan_dearer_than_its_capacity_never_wins():
    # $100 a month for $70 of usage: past 1,400 requests it is over its limit, and the API
    # costs $70 there, less than $100
    result = breakeven(COST, D("100"), Capacity(D("70"), D("70"), D("70")), 1500)
    assert result.breakeven_volume == D("2000") and result.covers_until["mid"] == D("1400")
    assert result.plan_can_win["mid"] is False and result.verdict == "over_limit"


def test_unknown_capacity_is_never_over_the_limit():
    result = breakeven(COST, PLAN, Capacity(), 1_000_000)
    assert result.verdict == "plan" and result.capacity_known is False
    assert result.covers_until == {"low": None, "mid": None, "high": None}


def test_a_free_api_never_breaks_even():
    result = breakeven(D(0), PLAN, CAPACITY, 10)
    assert result.breakeven_volume is None and result.verdict == "api"
