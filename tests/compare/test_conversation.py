"""Conversation and imported workloads priced per model and strategy, bills worked by hand.

Prices (USD per MTok) are the fact sheet's: Haiku 4.5 $1 in, $0.10 read, $1.25 5-minute
write, $2 1-hour write, $5 out; GPT-5 $1.25 in, $0.125 read, $10 out. Policies use a
minimum of 0 where that keeps the numbers small.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest

from apps.compare.estimate.conversation import estimate_timeline, estimate_workload, growth_series
from apps.compare.estimate.logs import timeline_from_usage_rows
from apps.compare.estimate.policy import CachePolicyView
from apps.compare.estimate.replay import KeepAlivePrices, params_for, replay_params
from apps.compare.estimate.results import Candidate, conversation_dict
from apps.compare.estimate.timeline import ConversationWorkload, Timeline, conversation_timeline
from apps.compare.sources import timeline_for_workload
from apps.rating.engine import RatedRecord, UsageRecord, rate_record
from tests.rating.sheets import DEEPSEEK_FLASH, GEMINI_25_PRO, GPT_5, HAIKU_45, SONNET_45

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
EXPLICIT = CachePolicyView(kind="explicit", ttl_options=("5m", "1h"), default_ttl="5m",
                           min_cacheable_tokens=0, write_fee=True)  # fmt: skip
HAIKU_POLICY = replace(EXPLICIT, min_cacheable_tokens=4096)  # the real Haiku 4.5 minimum
OPENAI = CachePolicyView(kind="automatic", min_cacheable_tokens=1024, increment_tokens=128)
GEMINI = CachePolicyView(kind="both", ttl_options=("1h",), default_ttl="1h")
DEEPSEEK = CachePolicyView(kind="automatic")

THREE_TURNS = ConversationWorkload(
    conversations_per_month=1,
    turns_per_conversation=3,
    system_tokens=1000,
    user_tokens_per_turn=100,
    output_tokens_per_turn=50,
    gaps=((1.0, 60.0),),
    arrival="fixed",
)  # prompts 1,100 / 1,250 / 1,400; shared 1,000 / 1,150 / 1,300

SMALL = ConversationWorkload(
    conversations_per_month=1,
    turns_per_conversation=6,
    system_tokens=100,
    user_tokens_per_turn=100,
    output_tokens_per_turn=0,
    gaps=((1.0, 10.0),),
    arrival="fixed",
    context_window=400,
    summary_tokens=50,
)


def by_name(params: ConversationWorkload, sheet=HAIKU_45, policy=EXPLICIT, seed: int = 0):
    _, estimates = estimate_workload(params, [(sheet, policy)], WHEN, seed=seed)
    (estimate,) = estimates
    return {s.name: s for s in estimate.strategies}, estimate


def test_three_turns_with_gaps_under_5_minutes():
    results, estimate = by_name(THREE_TURNS)
    # none: 3,750 prompt tokens x $1 + 150 output x $5 = 0.00375 + 0.00075
    assert results["none"].cost == D("0.0045")
    # 5m: writes 1,100 + 150 + 150 = 1,400 x $1.25 = 0.00175; turns 2 and 3 read the previous
    # prompt: 1,100 + 1,250 = 2,350 x $0.10 = 0.000235; output 0.00075
    assert results["cache_5m"].cost == D("0.002735")
    assert results["cache_5m"].hits == 2 and results["cache_5m"].cache_read_tokens == 2350
    assert results["cache_5m"].hit_rate == D("0.6267")  # 2,350 / 3,750
    # 1h: the same tokens, writes at $2: 0.0028 + 0.000235 + 0.00075
    assert results["cache_1h"].cost == D("0.003785")
    assert results["cache_5m_keepalive"].pings == 0  # no gap to bridge
    assert estimate.best.name == "cache_5m" and estimate.requests == 3


def test_a_10_minute_gap_misses_5_minutes_hits_1_hour_and_keep_alive_wins():
    results, estimate = by_name(replace(THREE_TURNS, gaps=((1.0, 600.0),)))
    # 5m: every turn rewrites its whole prompt: 3,750 x $1.25 + 0.00075 output
    assert results["cache_5m"].cost == D("0.0054375")
    assert results["cache_1h"].cost == D("0.003785")  # 1 hour bridges 10 minutes
    # keep-alive: one ping in each gap keeps the 5m entry (worth up to 10 pings, see
    # test_replay). Requests as with short gaps, 0.002735; pings: 1,100 x $0.10 + 1 x $1
    # + 1 x $5 = 0.000116 and 1,250 x $0.10 + 6 = 0.000131
    keep = results["cache_5m_keepalive"]
    assert keep.pings == 2 and keep.cost == D("0.002982")
    assert estimate.best.name == "cache_5m_keepalive"


def test_a_prompt_below_the_minimum_is_never_cached():
    results, _ = by_name(THREE_TURNS, policy=HAIKU_POLICY)  # 4,096 tokens on Haiku 4.5
    assert results["cache_5m"].cost == results["none"].cost == D("0.0045")
    assert any("minimum cacheable length" in note for note in results["cache_5m"].notes)
    # automatic caching on GPT-5 (1,024 minimum) with prompts of 800 and more tokens
    small = replace(
        THREE_TURNS, system_tokens=500, user_tokens_per_turn=300, output_tokens_per_turn=0
    )
    results, _ = by_name(small, sheet=GPT_5, policy=OPENAI)  # prompts 800, 1,100, 1,400
    # 2nd: min(800 shared, 800 cached) < 1,024; 3rd: min(1,100, 1,100) -> 1,024 read
    assert results["automatic"].hits == 1 and results["automatic"].cache_read_tokens == 1024
    # input (3,300 - 1,024) x $1.25 + 1,024 x $0.125 = 0.002845 + 0.000128
    assert results["automatic"].cost == D("0.002973")
    below = replace(small, turns_per_conversation=2)  # prompts 800 and 1,100
    results, _ = by_name(below, sheet=GPT_5, policy=OPENAI)
    assert results["automatic"].hits == 0
    assert results["automatic"].cost == results["none"].cost == D("0.002375")  # 1,900 x $1.25


def test_hysteresis_is_cheaper_than_a_sliding_window_on_the_same_conversation():
    sliding, _ = by_name(replace(SMALL, context_strategy="sliding"))
    hysteresis, _ = by_name(replace(SMALL, context_strategy="hysteresis", trim_low=0.5))
    # sliding: prompts 200, 300, 400, 400, 400, 400; after the window fills only the static
    # 100 is shared. Reads 200 + 300 + 3 x 100 = 800 ($0.00008); writes 200 + 100 + 100 +
    # 3 x 300 = 1,300 ($0.001625)
    assert sliding["cache_5m"].cost == D("0.001705")
    # hysteresis: prompts 200, 300, 400, 200, 300, 400; one cut, then the prefix grows again.
    # Reads 200 + 300 + 100 + 200 + 300 = 1,100 ($0.00011); writes 200 + 5 x 100 = 700
    # ($0.000875)
    assert hysteresis["cache_5m"].cost == D("0.000985")
    assert hysteresis["cache_5m"].cost < sliding["cache_5m"].cost
    # without a cache too: 1,800 vs 2,100 prompt tokens
    assert (hysteresis["none"].cost, sliding["none"].cost) == (D("0.0018"), D("0.0021"))


def test_hysteresis_beats_sliding_on_a_realistic_month():
    w = ConversationWorkload(200, 60, 3000, 200, 400, tool_tokens_per_turn=1000,
                             gaps=((0.7, 6), (0.3, 120)), context_window=30_000)  # fmt: skip
    for strategy in ("cache_5m", "cache_1h"):
        sliding, _ = by_name(replace(w, context_strategy="sliding"), sheet=SONNET_45)
        hysteresis, _ = by_name(replace(w, context_strategy="hysteresis"), sheet=SONNET_45)
        assert hysteresis[strategy].cost < sliding[strategy].cost
        assert hysteresis[strategy].hit_rate > sliding[strategy].hit_rate


def test_compaction_adds_its_summary_request():
    results, estimate = by_name(replace(SMALL, context_strategy="compaction"))
    assert estimate.requests == 8  # 6 turns + 2 compactions
    # prompts 200, 300, 400, [400], 250, 350, [350], 250 = 2,500 x $1; two 50-token
    # summaries x $5 = 0.0005
    assert results["none"].cost == D("0.003")
    # 5m: the compaction request reads its whole prompt (the previous prompt; nothing new);
    # the turn after it reads the static 100. Reads 200 + 300 + 400 + 100 + 250 + 350 + 100
    # = 1,700 ($0.00017); writes 200 + 100 + 100 + 150 + 100 + 150 = 800 ($0.001)
    assert results["cache_5m"].cost == D("0.00167")
    assert any("2 compaction requests" in n for n in results["none"].notes)


def test_refused_turns_are_reported():
    results, estimate = by_name(SMALL)  # no context strategy: turns 4 to 6 are refused
    assert estimate.requests == 3
    assert any("3 turns refused" in n for n in results["none"].notes)
    small_window = Candidate(HAIKU_45, EXPLICIT, "Haiku", context_window=300)
    (est,) = estimate_timeline(conversation_timeline(SMALL), [small_window], WHEN)
    assert any("more than this model's 300-token" in n for n in est.best.notes)


def test_explicit_storage_is_billed_by_the_token_hour():
    tl = Timeline(t=[0.0, 1800.0, 9000.0], stream=[0, 1, 2], input_tokens=[12_000] * 3,
                  shared=[10_000] * 3, static=[10_000] * 3, output=[0] * 3,
                  batchable=False)  # fmt: skip
    (estimate,) = estimate_timeline(tl, [(GEMINI_25_PRO, GEMINI)], WHEN)
    storage = {s.name: s for s in estimate.strategies}["explicit_storage"]
    # input 12,000 + 2,000 + 12,000 = 26,000 x $1.25 = 0.0325; read 10,000 x $0.125 =
    # 0.00125; storage 25,000 token-hours (test_replay) x $4.50 per MTok-hour = 0.1125
    assert storage.meters["cache_storage"] == D("0.1125")
    assert storage.cost == D("0.14625")


def test_the_same_seed_gives_the_same_estimate():
    w = ConversationWorkload(30, 12, 2000, 150, 300, gaps=((0.5, 20), (0.5, 900)))
    a = by_name(w, sheet=GPT_5, policy=replace(OPENAI, automatic_hit_rate=D("0.8")), seed=4)[0]
    b = by_name(w, sheet=GPT_5, policy=replace(OPENAI, automatic_hit_rate=D("0.8")), seed=4)[0]
    assert {k: v.cost for k, v in a.items()} == {k: v.cost for k, v in b.items()}


def _per_request_total(tl: Timeline, sheet, policy, strategy: str, seed: int = 0) -> D:
    """The slow way: every request (and ping row) rated alone by the engine."""
    p = params_for(policy, strategy)
    prices = KeepAlivePrices.from_sheet(sheet) if p.keepalive else None
    b = replay_params(tl, p, seed=seed, keepalive_prices=prices)
    total = D(0)
    origin = datetime.fromtimestamp(tl.origin, UTC)
    for i in range(tl.n):
        when = origin + timedelta(seconds=int(tl.origin + tl.t[i]) - int(tl.origin))
        fields = {"input_tokens": int(b.uncached[i]), "cache_read_tokens": int(b.read[i]),
                  "output_tokens": int(b.output[i]),
                  "service_tier": "batch" if tl.batchable[i] else "standard"}  # fmt: skip
        if b.write_meter:
            fields[f"{b.write_meter}_tokens"] = int(b.write[i])
        rated = rate_record(UsageRecord(sheet.provider, sheet.model, when, **fields), sheet)
        assert isinstance(rated, RatedRecord)
        total += rated.total
        if b.pings[i]:
            n = int(b.pings[i])
            ping = UsageRecord(
                sheet.provider,
                sheet.model,
                when,
                requests=n,
                input_tokens=n,
                cache_read_tokens=n * int(b.ping_read[i]),
                output_tokens=n,
            )
            total += rate_record(ping, sheet).total
    return total


@pytest.mark.parametrize(
    ("sheet", "policy", "strategy"),
    [
        (SONNET_45, EXPLICIT, "cache_5m"),  # long context over 200K prompt tokens
        (SONNET_45, EXPLICIT, "cache_1h"),
        (HAIKU_45, EXPLICIT, "cache_5m"),  # with batch rows
        (DEEPSEEK_FLASH, DEEPSEEK, "automatic"),  # off-peak bands by time of day
    ],
)
def test_grouped_pricing_equals_rating_every_request(sheet, policy, strategy):
    rng = np.random.default_rng(5)
    n = 300
    static = np.full(n, 20_000)
    prompt = static + rng.integers(0, 300_000, n)
    tl = Timeline(
        t=np.sort(rng.uniform(0, 7 * 86_400, n)),
        stream=rng.integers(0, 5, n),
        input_tokens=prompt,
        shared=static + (rng.random(n) * (prompt - static)).astype(int),
        static=static,
        output=rng.integers(0, 2000, n),
        batchable=rng.random(n) < 0.3,
        origin=WHEN.timestamp(),
    )
    if sheet is not HAIKU_45:
        tl.batchable[:] = False
    (estimate,) = estimate_timeline(tl, [(sheet, policy)], WHEN)
    result = {s.name: s for s in estimate.strategies}[strategy]
    assert result.cost == _per_request_total(tl, sheet, policy, strategy)
    if sheet is HAIKU_45:
        assert result.batch_savings > 0


def test_the_growth_series_is_quadratic_without_a_cache():
    series = growth_series(THREE_TURNS, HAIKU_45, EXPLICIT, WHEN)
    # per turn: 1,100 + 250 (50 out x $5), 1,250 + 250, 1,400 + 250 micro-dollars
    assert series.cumulative_uncached == [D("0.00135"), D("0.00285"), D("0.0045")]
    # 5m (the cheapest for one conversation): 1,100 x 1.25 + 250 = 1,625; 110 + 187.5 +
    # 250 = 547.5; 125 + 187.5 + 250 = 562.5
    assert series.strategy == "cache_5m"
    assert series.cumulative_cached == [D("0.001625"), D("0.0021725"), D("0.002735")]
    assert series.prompt_tokens == [1100, 1250, 1400] and series.turns == [1, 2, 3]
    long = growth_series(replace(THREE_TURNS, turns_per_conversation=20), HAIKU_45, EXPLICIT, WHEN)
    per_turn = np.diff([D(0), *long.cumulative_uncached])
    # each turn's prompt is 150 tokens longer: the per-turn cost rises by a constant $0.00015
    assert set(np.diff(per_turn)) == {D("0.00015")}
    assert long.as_dict()["cumulative_cached_usd"][-1] == str(long.cumulative_cached[-1])


def test_the_page_dict_carries_the_token_counts():
    _, estimates = estimate_workload(THREE_TURNS, [(HAIKU_45, EXPLICIT)], WHEN)
    data = conversation_dict(estimates[0])
    five = next(s for s in data["strategies"] if s["name"] == "cache_5m")
    assert five["tokens"] == {"prompt": 3750, "cache_read": 2350, "cache_write": 1400,
                              "uncached": 0, "requests_with_hits": 2}  # fmt: skip
    assert data["monthly_cost_usd"] == "0.002735" and data["strategy"] == "cache_5m"


# --------------------------------------------------------------------------- imported logs

T0 = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


def anthropic_rows() -> list[dict]:
    """Claude logs of the three-turn conversation: the system prompt was already cached."""
    base = {"session_id": "s1", "model": "claude-haiku-4-5", "input_tokens": 0,
            "output_tokens": 50}  # fmt: skip
    return [
        {**base, "timestamp": T0, "cache_read_tokens": 1000, "cache_write_5m_tokens": 100},
        {**base, "timestamp": T0 + timedelta(seconds=60), "cache_read_tokens": 1100,
         "cache_write_5m_tokens": 150},
        {**base, "timestamp": T0 + timedelta(seconds=120), "cache_read_tokens": 1250,
         "cache_write_5m_tokens": 150},
    ]  # fmt: skip


def test_imported_rows_become_the_same_timeline():
    tl = timeline_from_usage_rows(anthropic_rows())
    # prompt = input + read + writes; 2nd: it grew by at least 1,100 + 50 and read all the
    # 1st had cached, so the 1st prompt and answer are shared (1,150); static = the least
    # shared prefix of the session = the 1st request's read (1,000)
    assert tl.input_tokens.tolist() == [1100, 1250, 1400]
    assert tl.shared.tolist() == [1000, 1150, 1300]
    assert tl.static.tolist() == [1000] * 3
    assert tl.t.tolist() == [0.0, 60.0, 120.0] and tl.origin == T0.timestamp()


def test_imported_traffic_replayed_on_another_providers_cache():
    tl = timeline_from_usage_rows(anthropic_rows())
    (haiku,) = estimate_timeline(tl, [(HAIKU_45, EXPLICIT)], WHEN)
    assert {s.name: s.cost for s in haiku.strategies}["cache_5m"] == D("0.002735")
    (gpt,) = estimate_timeline(tl, [(GPT_5, OPENAI)], WHEN)
    auto = {s.name: s for s in gpt.strategies}["automatic"]
    # reads 1,024 and 1,152 (whole 128-token blocks, test_replay): uncached 3,750 - 2,176 =
    # 1,574 x $1.25 = 0.0019675; reads 2,176 x $0.125 = 0.000272; output 150 x $10 = 0.0015
    assert auto.cache_read_tokens == 2176 and auto.cost == D("0.0037395")


def test_imported_rows_that_were_cut_or_have_no_session():
    rows = [
        # a cold first request (nothing cached), then a warm one whose prompt shrank: cut
        {"session_id": "s2", "model": "m", "timestamp": T0, "input_tokens": 5000,
         "output_tokens": 100, "reasoning_tokens": 60},
        {"session_id": "s2", "model": "m", "timestamp": T0 + timedelta(seconds=30),
         "input_tokens": 5000, "output_tokens": 10, "reasoning_tokens": 0},
        {"session_id": "s2", "model": "m", "timestamp": T0 + timedelta(seconds=50),
         "input_tokens": 1000, "cache_read_tokens": 3000, "output_tokens": 10},
        {"session_id": "", "model": "m", "timestamp": T0, "input_tokens": 700},
        {"session_id": "", "model": "m", "timestamp": T0, "input_tokens": 700},
        {"session_id": "agg", "model": "m", "timestamp": T0, "input_tokens": 9, "requests": 40,
         "aggregate": True},
    ]  # fmt: skip
    tl = timeline_from_usage_rows(rows)
    assert tl.n == 5 and "1 aggregate rows left out" in tl.notes[0]
    s2 = tl.stream == tl.stream[tl.input_tokens == 4000][0]
    # 2nd: cold, and 5,000 >= 5,000 + 0? No: the visible answer was 40 (100 - 60 reasoning):
    # it did not grow by the whole exchange, so it shares only what it read (0).
    # 3rd: 4,000 < 5,000 + 10 and a warm read of 3,000: cut there.
    assert tl.shared[s2].tolist() == [0, 0, 3000] and tl.static[s2].tolist() == [0, 0, 0]
    assert tl.streams == 3  # requests without a session are streams of their own


@pytest.mark.django_db
def test_an_imported_workload_from_the_database():
    from apps.usage.models import UsageRow, Workload

    workload = Workload.objects.create(name="replay test")
    for i, row in enumerate(anthropic_rows()):
        UsageRow.objects.create(workload=workload, source_format="test", source_key=f"k{i}",
                                **row)  # fmt: skip
    tl = timeline_for_workload(workload)
    assert tl.input_tokens.tolist() == [1100, 1250, 1400]
    assert tl.shared.tolist() == [1000, 1150, 1300]
