"""A plan's monthly capacity for a described workload, and its verdict (pure, by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from apps.plans.breakeven import (
    Capacity,
    month_verdict,
    monthly_capacity,
    plan_choice,
    window_monthly_usd,
)
from apps.plans.terms import Estimate, PlanTerms, WindowTerms

START = datetime(2026, 1, 1, tzinfo=UTC)


def est(amount: str) -> Estimate:
    return Estimate(D(amount), "https://example.test/source")


def window(kind: str, low=None, mid=None, high=None, unit="usd", **extra) -> WindowTerms:
    levels = {k: est(v) for k, v in (("low", low), ("mid", mid), ("high", high)) if v is not None}
    return WindowTerms(kind, unit, **levels, **extra)


def plan(*windows: WindowTerms, price="20", families=("claude",), **extra) -> PlanTerms:
    return PlanTerms("p", "P", "anthropic", START, D(price), families=families,
                     windows=windows, **extra)  # fmt: skip


def test_each_window_kind_holds_its_share_of_an_evenly_spread_30_day_month():
    # 720 hours / 5 = 144 windows: $10 a window lets $1,440 a month through
    assert window_monthly_usd(window("session_5h", "10", "10", "10"), "mid") == D("1440")
    # a week is 7 of the 30 days: $70 a week lets $70 x 30 / 7 = $300 a month through
    assert window_monthly_usd(window("weekly", "70", "70", "70"), "mid") == D("300")
    # a monthly pool, or a monthly estimate, holds the month itself
    assert window_monthly_usd(window("monthly_pool", "20", "20", "20"), "low") == D("20")
    assert window_monthly_usd(window("monthly", mid="700"), "mid") == D("700")
    assert window_monthly_usd(window("monthly", mid="700"), "low") is None


def test_the_plan_s_capacity_is_its_smallest_window_at_each_estimate():
    # 5-hour: $10 / $20 / $40 -> $1,440 / $2,880 / $5,760 a month
    # weekly: $70 / $140 / $700 -> $300 / $600 / $3,000 a month: the tighter at every level
    terms = plan(window("session_5h", "10", "20", "40"), window("weekly", "70", "140", "700"))
    found = monthly_capacity(terms)
    assert found.capacity == Capacity(D("300"), D("600"), D("3000"))
    assert found.known and found.unknown_windows == ()


def test_a_window_without_an_estimate_leaves_that_estimate_unknown():
    # the weekly cap has no mid estimate, and it could be the tightest there
    terms = plan(window("session_5h", "132", "400", "726"), window("weekly", "492", None, "1900"))
    capacity = monthly_capacity(terms).capacity
    # low: min(132 x 144 = 19,008, 492 x 30 / 7 = 2,108.571...); high: min(104,544, 8,142.857...)
    six = D("0.000001")
    assert capacity.low.quantize(six) == D("2108.571429") and capacity.mid is None
    assert capacity.high.quantize(six) == D("8142.857143")


def test_capacity_in_messages_is_unknown_and_named_and_app_scoped_windows_are_left_out():
    terms = plan(
        window("session_5h", "20", None, "80", unit="prompts"),
        window("monthly_pool", "20", "20", "20", harness="agent-sdk", label="Agent SDK credit"),
    )
    found = monthly_capacity(terms)
    assert found.capacity == Capacity() and not found.known
    assert found.unknown_windows == ("5-hour session (in prompts)",)
    # credits with a dollar value per credit have a dollar size: 1,500 x $0.01 = $15
    credits = plan(window("monthly_pool", "1500", "1500", "1500", unit="credits",
                          usd_per_unit=D("0.01")))  # fmt: skip
    assert monthly_capacity(credits).capacity.mid == D("15")


def test_the_verdict_at_the_mid_estimate_and_without_one():
    capacity = Capacity(D("66"), D("200"), D("363"))
    assert month_verdict(D("19.99"), D("20"), capacity) == "api"
    assert month_verdict(D("20"), D("20"), capacity) == "api"  # a tie is the API
    assert month_verdict(D("150"), D("20"), capacity) == "plan"
    assert month_verdict(D("200.01"), D("20"), capacity) == "over_limit"
    # no mid: over the limit only past every known estimate
    partial = Capacity(D("66"), None, D("363"))
    assert month_verdict(D("300"), D("20"), partial) == "plan"
    assert month_verdict(D("364"), D("20"), partial) == "over_limit"
    # no dollar capacity: prices only
    assert month_verdict(D("1000000"), D("20"), Capacity()) == "plan"


def test_a_plan_choice_for_a_described_month():
    # $0.002 a request, 10,000 requests: $20 a month. A $10 plan holding $15 a month:
    # break-even 10 / 0.002 = 5,000 requests, stops covering at 15 / 0.002 = 7,500
    terms = plan(window("monthly_pool", "15", "15", "15"), price="10")
    choice = plan_choice(terms, family="claude", api_cost=D("20"), cost_per_request=D("0.002"))
    assert choice.covers_model and choice.verdict == "over_limit"
    assert choice.result.breakeven_volume == D("5000")
    assert choice.result.covers_until["mid"] == D("7500")
    other = plan_choice(terms, family="gpt", api_cost=D("20"), cost_per_request=D("0.002"))
    assert not other.covers_model and other.verdict == "api" and "GPT" in other.note
