"""The verdict (pure): shares of each window, hits, overage, month totals, the cheapest way."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from apps.plans.terms import Estimate, PlanHistory, PlanTerms, WindowTerms
from apps.plans.verdict import cheapest, judge, plan_verdict
from apps.plans.windows import Usage, group


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def est(amount: str) -> Estimate:
    return Estimate(D(amount), "https://example.test/source")


MAX = PlanHistory("max", "Max", "anthropic", [
    PlanTerms("max", "Max", "anthropic", at("2026-01-01T00:00"), D("200"), families=("claude",),
              harnesses=("claude-code",),
              windows=(WindowTerms("session_5h", "usd", low=est("66"), mid=est("200"), high=est("363")),)),
    # limits doubled on 2026-05-06
    PlanTerms("max", "Max", "anthropic", at("2026-05-06T00:00"), D("200"), families=("claude",),
              harnesses=("claude-code",),
              windows=(WindowTerms("session_5h", "usd", low=est("132"), mid=est("400"), high=est("726")),)),
])  # fmt: skip
POOL = PlanHistory("pool", "Pool", "cursor", [
    PlanTerms("pool", "Pool", "cursor", at("2026-01-01T00:00"), D("20"), families=("claude", "gpt"),
              overage_kind="api_rates",
              windows=(WindowTerms("monthly_pool", "usd", low=est("20"), mid=est("20"), high=est("20")),)),
])  # fmt: skip
PROMPTS = PlanHistory("pro", "Pro", "anthropic", [
    PlanTerms("pro", "Pro", "anthropic", at("2026-01-01T00:00"), D("20"), families=("claude",),
              windows=(WindowTerms("session_5h", "prompts", low=est("10"), high=est("40")),)),
])  # fmt: skip


def history(*items: tuple[str, str]):
    return group(Usage(timestamp=at(t), model="m", cost=D(c)) for t, c in items)


def judged(plan: PlanHistory, groups):
    return plan_verdict(plan, months=groups.months.windows, sessions=groups.sessions.windows,
                        weeks=groups.weeks.windows, harness="claude-code")  # fmt: skip


def test_each_session_is_judged_against_the_capacity_of_the_version_in_effect_that_day():
    # $150 on 2026-05-05: over the $66 low estimate, under the $200 mid and $363 high.
    # $150 on 2026-05-07, after the doubling: over the $132 low, under the $400 and $726.
    groups = history(("2026-05-05T10:00", "150"), ("2026-05-07T10:00", "150"))
    verdict = judged(MAX, groups)
    before, after = verdict.sessions
    assert before.capacity == {"low": D("66"), "mid": D("200"), "high": D("363")}
    assert after.capacity == {"low": D("132"), "mid": D("400"), "high": D("726")}
    # shares: 150 / 200 = 0.75 before, 150 / 400 = 0.375 after (mid)
    assert before.share["mid"] == D("0.75") and after.share["mid"] == D("0.375")
    assert verdict.hits("low") == 2 and verdict.hits("mid") == 0 and verdict.hits("high") == 0
    assert verdict.status == "fits" and verdict.total("mid") == D("200")


def test_a_session_over_the_mid_estimate_hits_the_limit():
    # $250 > $200 mid (and > $66 low, < $363 high)
    verdict = judged(MAX, history(("2026-03-02T09:00", "250")))
    assert verdict.status == "hits" and verdict.mid_hits == 1
    assert (verdict.hits("low"), verdict.hits("mid"), verdict.hits("high")) == (1, 1, 0)
    assert not verdict.eligible


def test_without_a_mid_estimate_only_a_cost_past_every_estimate_is_judged():
    capacity = {"low": D("492"), "mid": None, "high": D("1900")}
    assert judge(D("400"), capacity) == "fits"
    assert judge(D("1000"), capacity) == "unknown"
    assert judge(D("2000"), capacity) == "hits"


def test_a_pool_billed_at_api_rates_adds_the_excess_as_overage():
    # March: $30 of usage on a $20 pool: $10 overage, $20 + $10 = $30;
    # April: $5: no overage, $20. Whole history $50.
    groups = history(("2026-03-02T09:00", "30"), ("2026-04-02T09:00", "5"))
    verdict = judged(POOL, groups)
    assert [m.total("mid") for m in verdict.months] == [D("30"), D("20")]
    assert verdict.total("mid") == D("50") and verdict.status == "fits"


def test_capacity_known_only_in_prompts_is_unknown_and_never_chosen():
    verdict = judged(PROMPTS, history(("2026-03-02T09:00", "1")))
    assert verdict.status == "unknown" and not verdict.eligible
    best, options = cheapest(D("1"), [verdict])
    assert best.key == "api" and [o.key for o in options] == ["api"]


def test_the_cheapest_way_is_the_lowest_eligible_total_and_the_api_wins_a_tie():
    groups = history(("2026-03-02T09:00", "30"), ("2026-04-02T09:00", "5"))
    pool = judged(POOL, groups)  # $50
    maxed = judged(MAX, groups)  # $400, fits
    best, options = cheapest(D("35"), [pool, maxed])
    assert best.key == "api" and [o.key for o in options] == ["api", "pool", "max"]
    best, _ = cheapest(D("50"), [pool])
    assert best.key == "api"  # $50 either way: no commitment wins
    best, _ = cheapest(D("80"), [pool, maxed])
    assert best.key == "pool"


def test_a_month_before_the_plan_existed_has_no_terms():
    late = PlanHistory("late", "Late", "github", [
        PlanTerms("late", "Late", "github", at("2026-06-01T00:00"), D("10"), families=("claude",))])  # fmt: skip
    verdict = judged(late, history(("2026-03-02T09:00", "1")))
    assert verdict.status == "unavailable" and verdict.total("mid") is None
