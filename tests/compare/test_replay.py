"""Cache replay per policy, token by token, with the buckets worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from apps.compare.estimate.policy import CachePolicyView
from apps.compare.estimate.replay import (
    KeepAlivePrices,
    ReplayParams,
    params_for,
    replay,
    replay_loop,
    replay_params,
)
from apps.compare.estimate.timeline import Timeline
from tests.rating.sheets import HAIKU_45

# Anthropic-like with no minimum, so small numbers can be worked by hand.
EXPLICIT = CachePolicyView(kind="explicit", ttl_options=("5m", "1h"), default_ttl="5m",
                           min_cacheable_tokens=0, write_fee=True)  # fmt: skip
HAIKU_MIN = CachePolicyView(kind="explicit", ttl_options=("5m", "1h"), default_ttl="5m",
                            min_cacheable_tokens=4096, write_fee=True)  # fmt: skip
OPENAI = CachePolicyView(kind="automatic", min_cacheable_tokens=1024, increment_tokens=128)
GPT_56 = CachePolicyView(
    kind="automatic",
    ttl_options=("30m", "12h"),
    default_ttl="30m",
    min_cacheable_tokens=1024,
    increment_tokens=128,
    write_fee=True,
)
GEMINI = CachePolicyView(kind="both", ttl_options=("1h",), default_ttl="1h")
HAIKU_PRICES = KeepAlivePrices.from_sheet(HAIKU_45)  # read 0.10, 5m write 1.25, in 1, out 5


def conversation(gap: float, *, static: int = 1000) -> Timeline:
    """3 turns: 1,000 static, 100 new and 50 out a turn (prompts 1,100 / 1,250 / 1,400)."""
    return Timeline(t=[0.0, gap, 2 * gap], stream=[0, 0, 0], input_tokens=[1100, 1250, 1400],
                    shared=[static, 1150, 1300], static=[static] * 3, output=[50] * 3,
                    batchable=False)  # fmt: skip


def lists(b) -> tuple[list[int], list[int], list[int]]:
    return b.uncached.tolist(), b.read.tolist(), b.write.tolist()


def test_gaps_under_5_minutes_read_the_previous_prompt():
    b = replay(conversation(60), EXPLICIT, "cache_5m")
    # breakpoints at the static prefix and the prompt's end: every token is read or written.
    # 1: writes 1,100. 2: reads 1,100 (turn 1's end), writes 150. 3: reads 1,250, writes 150.
    assert lists(b) == ([0, 0, 0], [0, 1100, 1250], [1100, 150, 150])
    assert b.write_meter == "cache_write_5m" and b.hits == 2


def test_a_10_minute_gap_misses_a_5_minute_cache_and_hits_a_1_hour_one():
    tl = conversation(600)
    assert lists(replay(tl, EXPLICIT, "cache_5m")) == ([0, 0, 0], [0, 0, 0], [1100, 1250, 1400])
    one_hour = replay(tl, EXPLICIT, "cache_1h")
    assert lists(one_hour) == ([0, 0, 0], [0, 1100, 1250], [1100, 150, 150])
    assert one_hour.write_meter == "cache_write_1h"


def test_breakpoints_below_the_minimum_are_not_cached():
    b = replay(conversation(60), HAIKU_MIN, "cache_5m")  # Haiku 4.5: 4,096 tokens
    assert lists(b) == ([1100, 1250, 1400], [0, 0, 0], [0, 0, 0])
    # a minimum of 1,024: the static 1,000 is too short, the prompts are not
    b = replay(conversation(60), HAIKU_MIN, "cache_5m", min_tokens=1024)
    assert lists(b) == ([0, 0, 0], [0, 1100, 1250], [1100, 150, 150])


def test_the_static_prefix_is_shared_across_conversations():
    tl = Timeline(t=[0.0, 60.0, 30.0], stream=[0, 0, 1], input_tokens=[1100, 1250, 1100],
                  shared=[1000, 1150, 1000], static=[1000] * 3, output=[50] * 3,
                  batchable=False)  # fmt: skip
    b = replay(tl, EXPLICIT, "cache_5m")
    # rows: (stream 0, t 0), (stream 0, t 60), (stream 1, t 30). Stream 1 opens 30 s after
    # stream 0 wrote the static breakpoint: it reads 1,000 and writes its last 100.
    assert lists(b) == ([0, 0, 0], [0, 1100, 1000], [1100, 150, 100])


def test_a_cut_history_reads_only_the_static_prefix():
    tl = Timeline(t=[0.0, 10.0, 20.0], stream=[0] * 3, input_tokens=[300, 400, 400],
                  shared=[100, 300, 100], static=[100] * 3, output=[0] * 3,
                  batchable=False)  # fmt: skip
    # 3rd: its entry (400) is no longer a prefix; the static one (100) is, still alive
    assert lists(replay(tl, EXPLICIT, "cache_5m")) == ([0, 0, 0], [0, 300, 100], [300, 100, 300])


def test_an_automatic_cache_below_its_minimum_never_hits():
    tl = Timeline(t=[0.0, 5.0, 10.0], stream=[0] * 3, input_tokens=[800, 900, 1000],
                  shared=[500, 850, 950], static=[500] * 3, output=[50] * 3,
                  batchable=False)  # fmt: skip
    b = replay(tl, OPENAI, "automatic")  # 1,024 minimum
    assert lists(b) == ([800, 900, 1000], [0, 0, 0], [0, 0, 0]) and b.hits == 0


def test_an_automatic_cache_reads_whole_128_token_blocks():
    b = replay(conversation(60), OPENAI, "automatic")
    # 2: common prefix with turn 1 = min(1,150 shared, 1,100 prompt) -> 8 x 128 = 1,024;
    # 3: min(1,300, 1,250) -> 9 x 128 = 1,152. The static 1,000 alone is below 1,024.
    assert lists(b) == ([1100, 226, 248], [0, 1024, 1152], [0, 0, 0])
    assert b.write_meter == ""  # writes are free before GPT-5.6


def test_paid_automatic_retention_bills_the_newly_cached_blocks():
    b = replay(conversation(60), GPT_56, "automatic")
    # cached lengths 1,024 / 1,152 / 1,280; written = cached - read; the tail is input
    assert lists(b) == ([76, 98, 120], [0, 1024, 1152], [1024, 128, 128])
    assert b.write_meter == "cache_write_30m"
    # 10-minute gaps: the in-memory default (5 min) misses, the paid 30 minutes hits
    assert replay(conversation(600), OPENAI, "automatic").hits == 0
    assert replay(conversation(600), GPT_56, "automatic").hits == 2
    assert replay(conversation(3600), GPT_56, "automatic_12h").write_meter == "cache_write_12h"


def test_best_effort_hits_are_seeded():
    n = 2000
    tl = Timeline(t=np.arange(n, dtype=float), stream=np.zeros(n), input_tokens=np.full(n, 2048),
                  shared=np.full(n, 2048), static=np.zeros(n), output=np.zeros(n),
                  batchable=False)  # fmt: skip
    a = replay(tl, OPENAI, "automatic", hit_rate=0.5, seed=1)
    assert np.array_equal(a.read, replay(tl, OPENAI, "automatic", hit_rate=0.5, seed=1).read)
    assert not np.array_equal(a.read, replay(tl, OPENAI, "automatic", hit_rate=0.5, seed=2).read)
    assert a.hits == pytest.approx(1000, abs=80)


def test_keep_alive_pings_bridge_a_gap_when_cheaper_than_the_rewrite():
    b = replay(conversation(600), EXPLICIT, "cache_5m_keepalive", keepalive_prices=HAIKU_PRICES)
    # a 600 s gap needs one ping at 300 s. Budget for 1,100 tokens: saving 1,100 x (1.25 -
    # 0.10) = 1,265 against a ping 1,100 x 0.10 + 1 + 5 = 116: 10 pings; 1 is needed.
    assert b.pings.tolist() == [0, 1, 1] and b.ping_read.tolist() == [0, 1100, 1250]
    assert lists(b) == ([0, 0, 0], [0, 1100, 1250], [1100, 150, 150])


def test_keep_alive_is_not_sent_when_a_ping_costs_more_than_the_rewrite():
    dear = KeepAlivePrices(read=D("1"), write=D("1.25"), input=D("1"), output=D("5"))
    b = replay(conversation(600), EXPLICIT, "cache_5m_keepalive", keepalive_prices=dear)
    # saving 1,100 x 0.25 = 275 < one ping 1,100 + 6: no pings, the cache expires
    assert b.pings.tolist() == [0, 0, 0] and b.read.tolist() == [0, 0, 0]


def test_keep_alive_pings_are_wasted_on_a_gap_longer_than_their_budget():
    b = replay(
        conversation(3 * 3600), EXPLICIT, "cache_5m_keepalive", keepalive_prices=HAIKU_PRICES
    )
    # 3 hours need 35 pings; the budget is 10 (1,100 tokens) and 10 (1,250: 1,437.5 / 131)
    assert b.pings.tolist() == [0, 10, 10] and b.read.tolist() == [0, 0, 0]


def test_explicit_storage_counts_token_hours_while_the_cache_lives():
    tl = Timeline(t=[0.0, 1800.0, 9000.0], stream=[0, 1, 2], input_tokens=[12_000] * 3,
                  shared=[10_000] * 3, static=[10_000] * 3, output=[0] * 3,
                  batchable=False)  # fmt: skip
    b = replay(tl, GEMINI, "explicit_storage")  # 1 h TTL, extended by each use
    # 2nd: 30 min after the 1st, reads; 3rd: 2 h after, the cache has expired: recreated.
    assert lists(b) == ([12_000, 2_000, 12_000], [0, 10_000, 0], [0, 0, 0])
    # alive 1,800 s + 3,600 s (to expiry) + 3,600 s = 9,000 s x 10,000 tokens = 25,000 token-h
    assert b.storage_token_hours() == D(25_000)


def test_hits_that_do_not_refresh_expire_from_creation():
    tl = Timeline(
        t=[0.0, 200.0, 400.0],
        stream=[0, 1, 2],
        input_tokens=[1000] * 3,
        shared=[1000] * 3,
        static=[1000] * 3,
        output=[0] * 3,
        batchable=False,
    )
    refreshing = replay(tl, EXPLICIT, "cache_5m")
    assert refreshing.read.tolist() == [0, 1000, 1000]
    fixed = CachePolicyView(kind="explicit", ttl_options=("5m",), default_ttl="5m",
                            hit_refreshes_ttl=False)  # fmt: skip
    # written at 0, expires at 300 whatever the hit at 200 does: the 3rd writes again
    assert replay(tl, fixed, "cache_5m").read.tolist() == [0, 1000, 0]


def test_parameters_follow_the_policy_like_quick():
    assert params_for(OPENAI, "automatic") == ReplayParams("automatic", 300, 1024, 128, 1.0)
    assert params_for(OPENAI, "automatic", retention_seconds=3600).ttl_seconds == 3600
    assert params_for(GPT_56, "automatic").ttl_seconds == 1800
    assert params_for(GEMINI, "explicit_storage") == ReplayParams("storage", 3600, 0)
    assert params_for(EXPLICIT, "cache_5m_keepalive").keepalive
    with pytest.raises(ValueError):
        params_for(EXPLICIT, "cache_2h")


def _random_timeline(rng: np.random.Generator, n: int = 400) -> Timeline:
    """Imported-like traffic: streams that grow, get cut, share two static lengths."""
    streams = rng.integers(0, 25, n)
    t = np.round(rng.exponential(200.0, n).cumsum()[rng.permutation(n)], 0)  # ties happen
    static = np.where(streams % 2 == 0, 1500, 600)
    prompt = static + rng.integers(0, 6000, n)
    shared = static + (rng.random(n) * (prompt - static)).astype(np.int64)
    shared = np.where(rng.random(n) < 0.2, static, shared)
    return Timeline(t=t, stream=streams, input_tokens=prompt, shared=shared, static=static,
                    output=rng.integers(0, 300, n), batchable=False)  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "params",
    [
        ReplayParams("explicit", 300, 1024, write_meter="cache_write_5m"),
        ReplayParams("explicit", 3600, 0, write_meter="cache_write_1h"),
        ReplayParams("explicit", 300, 1024, write_meter="cache_write_5m", keepalive=True),
        ReplayParams("automatic", 300, 1024, 128, 1.0),
        ReplayParams("automatic", 1800, 1024, 128, 0.7, write_meter="cache_write_30m"),
        ReplayParams("storage", 3600, 1024),
    ],
)
def test_the_vectorized_replay_agrees_with_the_loop(params, seed):
    tl = _random_timeline(np.random.default_rng(seed))
    fast = replay_params(tl, params, seed=seed, keepalive_prices=HAIKU_PRICES)
    slow = replay_loop(tl, params, seed=seed, keepalive_prices=HAIKU_PRICES)
    for name in ("uncached", "read", "write", "output", "pings", "ping_read"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert np.allclose(fast.storage_token_seconds, slow.storage_token_seconds)
    assert fast.read.any() and (fast.pings.any() or not params.keepalive)  # not a vacuous check
    assert (fast.uncached >= 0).all() and (fast.uncached + fast.read + fast.write
                                           == tl.input_tokens).all()  # fmt: skip
