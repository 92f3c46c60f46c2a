"""Quick workloads priced per caching strategy, with the bills worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from apps.compare.estimate.policy import CachePolicyView
from apps.compare.estimate.quick import QuickWorkload, estimate_model, hit_probability
from tests.rating.sheets import GPT_5, HAIKU_45

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
ANTHROPIC = CachePolicyView(
    kind="explicit",
    ttl_options=("5m", "1h"),
    default_ttl="5m",
    min_cacheable_tokens=4096,
    write_fee=True,
)  # Haiku 4.5: 4,096 minimum
OPENAI = CachePolicyView(kind="automatic", min_cacheable_tokens=1024, increment_tokens=128)


def costs(sheet, policy, **kw) -> dict[str, D]:
    workload = QuickWorkload(**kw)
    workload.validate()
    return {r.name: r.cost for r in estimate_model(sheet, policy, workload, WHEN)}


def by_name(sheet, policy, **kw):
    return {r.name: r for r in estimate_model(sheet, policy, QuickWorkload(**kw), WHEN)}


def test_a_workload_without_caching():
    got = costs(HAIKU_45, ANTHROPIC, requests_per_month=1000, input_tokens=2000, output_tokens=100)
    # 1,000 x 2,000 x $1 + 1,000 x 100 x $5 (per million) = 2 + 0.5
    assert got["none"] == D("2.5")
    assert got["cache_5m"] == D("2.5")  # no prefix: nothing to cache


def test_the_same_workload_with_batch():
    kw = {"requests_per_month": 1000, "input_tokens": 2000, "output_tokens": 100}
    assert costs(HAIKU_45, ANTHROPIC, batch_share=D("1"), **kw)["none"] == D("1.25")  # half of 2.5
    # 500 at list price (1.25) + 500 at half price (0.625)
    assert costs(HAIKU_45, ANTHROPIC, batch_share=D("0.5"), **kw)["none"] == D("1.875")


FIVE_K_PREFIX = {
    "requests_per_month": 1000,
    "input_tokens": 6000,
    "output_tokens": 100,
    "cached_prefix_tokens": 5000,
}


def test_gaps_always_under_5_minutes_read_the_prefix_after_the_first_request():
    results = by_name(HAIKU_45, ANTHROPIC, mean_gap_seconds=60, arrival="fixed", **FIVE_K_PREFIX)
    five = results["cache_5m"]
    assert five.hits == 999
    # uncached 1,000 x 1,000 x $1 = 1.0; reads 999 x 5,000 x $0.10 = 0.4995;
    # one 5m write 5,000 x $1.25 = 0.00625; output 1,000 x 100 x $5 = 0.5
    assert five.cost == D("2.00575")
    assert results["none"].cost == D("6.5")  # 1,000 x 6,000 x $1 + 0.5


def test_gaps_of_10_minutes_miss_a_5_minute_cache_and_hit_a_1_hour_one():
    results = by_name(HAIKU_45, ANTHROPIC, mean_gap_seconds=600, arrival="fixed", **FIVE_K_PREFIX)
    # 5m: every request rewrites: 1,000 x 5,000 x $1.25 = 6.25, + 1.0 uncached + 0.5 output
    assert results["cache_5m"].hits == 0 and results["cache_5m"].cost == D("7.75")
    # 1h: 999 reads (0.4995) + one 1h write 5,000 x $2 (0.01) + 1.0 + 0.5
    assert results["cache_1h"].cost == D("2.0095")
    # keep-alive: one ping per 10-minute gap (5,000 read + 1 in + 1 out = $0.000506 each),
    # cheaper than a rewrite ($0.00575 more than a read): 999 pings = 0.505494, + 2.00575
    assert results["cache_5m_keepalive"].pings == 999
    assert results["cache_5m_keepalive"].cost == D("2.511244")
    best = min(results.values(), key=lambda r: r.cost)
    assert best.name == "cache_1h"  # the page recommends 1 hour


def test_an_automatic_cache_below_its_minimum_length_never_hits():
    kw = {
        "requests_per_month": 1000,
        "input_tokens": 1500,
        "output_tokens": 100,
        "cached_prefix_tokens": 1000,
        "mean_gap_seconds": 5,
        "arrival": "fixed",
    }
    results = by_name(GPT_5, OPENAI, **kw)
    assert results["automatic"].hits == 0 and results["automatic"].hit_rate == 0
    # 1,000 x 1,500 x $1.25 + 1,000 x 100 x $10 = 1.875 + 1.0
    assert results["automatic"].cost == results["none"].cost == D("2.875")


def test_an_automatic_cache_reads_whole_128_token_blocks():
    kw = {
        "requests_per_month": 1001,
        "input_tokens": 2000,
        "output_tokens": 0,
        "cached_prefix_tokens": 1100,
        "mean_gap_seconds": 5,
        "arrival": "fixed",
    }
    auto = by_name(GPT_5, OPENAI, **kw)["automatic"]
    # 1,100 -> 8 blocks of 128 = 1,024 cached; 1,000 hits read 1,024 at $0.125, the rest $1.25:
    # hits: 1,000 x (1,024 x 0.125 + 976 x 1.25) = 1,348,000; first: 2,000 x 1.25 = 2,500
    assert auto.hits == 1000
    assert auto.cost == D("1.3505")


def test_poisson_hit_probability():
    w = QuickWorkload(requests_per_month=10, input_tokens=1, output_tokens=1, mean_gap_seconds=300)
    assert abs(hit_probability(w, 300) - (1 - 1 / 2.718281828459045)) < 1e-12  # 1 - e^-1


def test_time_of_day_bands_are_averaged_over_the_day_not_priced_at_one_instant():
    from tests.rating.sheets import DEEPSEEK_FLASH

    none_policy = CachePolicyView(kind="none")
    kw = {"requests_per_month": 24_000, "input_tokens": 1000, "output_tokens": 0}
    noon = estimate_model(
        DEEPSEEK_FLASH, none_policy, QuickWorkload(**kw), datetime(2026, 3, 2, 12, tzinfo=UTC)
    )
    two = estimate_model(
        DEEPSEEK_FLASH, none_policy, QuickWorkload(**kw), datetime(2026, 3, 2, 2, tzinfo=UTC)
    )
    # 1,000 requests in each hour: 7 peak hours (01-04, 06-10 UTC) at $0.30/M, 17 off-peak at $0.15/M
    # = 1,000 x 1,000 x (7 x 0.30 + 17 x 0.15) / 1e6 = 4.65, whatever the hour of the estimate
    assert noon[0].cost == two[0].cost == D("4.65")
