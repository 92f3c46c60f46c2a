"""Conversation timelines: context growth, context strategies, seeded gaps, validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from apps.compare.estimate.timeline import (
    KIND_COMPACTION,
    KIND_TURN,
    MONTH_SECONDS,
    ConversationWorkload,
    Timeline,
    conversation_timeline,
)
from apps.compare.estimate.workload import WorkloadError

THREE_TURNS = ConversationWorkload(
    conversations_per_month=1,
    turns_per_conversation=3,
    system_tokens=1000,
    user_tokens_per_turn=100,
    output_tokens_per_turn=50,
    gaps=((1.0, 60.0),),
    arrival="fixed",
)

# 100 static + 100 new per turn, no output: each kept turn adds 100 tokens; window 400.
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


def test_three_turns_grow_the_context():
    tl = conversation_timeline(THREE_TURNS)
    # turn k: 1,000 static + (k - 1) x (100 new + 50 answer) of history + 100 new
    assert tl.input_tokens.tolist() == [1100, 1250, 1400]
    # the previous prompt and its answer are a prefix: 1,100 + 50, 1,250 + 50;
    # the first turn shares the static prefix with other conversations
    assert tl.shared.tolist() == [1000, 1150, 1300]
    assert tl.static.tolist() == [1000, 1000, 1000]
    assert tl.output.tolist() == [50, 50, 50]
    assert np.diff(tl.t).tolist() == [60.0, 60.0]  # fixed gaps
    assert not tl.batchable.any()


def test_tool_results_add_to_every_turn():
    tl = conversation_timeline(replace(THREE_TURNS, tool_tokens_per_turn=400))
    # 500 new tokens a turn, 550 kept per turn with the answer
    assert tl.input_tokens.tolist() == [1500, 2050, 2600]
    assert tl.shared.tolist() == [1000, 1550, 2100]


def test_without_a_context_strategy_turns_past_the_window_are_refused():
    tl = conversation_timeline(SMALL)
    # 200, 300, 400; the 4th would be 500 > 400: refused with the 5th and 6th
    assert tl.input_tokens.tolist() == [200, 300, 400]
    assert tl.refused == 3
    assert "3 turns refused" in tl.notes[0]


def test_a_sliding_window_drops_the_oldest_turn_every_time():
    tl = conversation_timeline(replace(SMALL, context_strategy="sliding"))
    assert tl.input_tokens.tolist() == [200, 300, 400, 400, 400, 400]
    # once full, every turn cuts the history: only the static prefix is shared
    assert tl.shared.tolist() == [100, 200, 300, 100, 100, 100]


def test_hysteresis_trims_to_the_low_mark_and_then_grows_again():
    tl = conversation_timeline(replace(SMALL, context_strategy="hysteresis", trim_low=0.5))
    # over 400 -> trim to <= 200: the history goes entirely, then it grows and is shared
    assert tl.input_tokens.tolist() == [200, 300, 400, 200, 300, 400]
    assert tl.shared.tolist() == [100, 200, 300, 100, 200, 300]


def test_compaction_adds_a_summary_request():
    tl = conversation_timeline(replace(SMALL, context_strategy="compaction"))
    # turn 4 would be 500: a compaction request reads 100 + 300 of history (all shared)
    # and answers 50; turn 4 is then 100 + 50 + 100. Turn 6 compacts 100 + 250 again.
    assert tl.input_tokens.tolist() == [200, 300, 400, 400, 250, 350, 350, 250]
    assert tl.shared.tolist() == [100, 200, 300, 400, 100, 250, 350, 100]
    assert tl.output.tolist() == [0, 0, 0, 50, 0, 0, 50, 0]
    c, turn = KIND_COMPACTION, KIND_TURN
    assert tl.kind.tolist() == [turn, turn, turn, c, turn, turn, c, turn]
    assert tl.compactions == 2
    assert tl.t[3] == tl.t[4]  # it happens when the 4th message arrives


def test_the_same_seed_gives_the_same_month():
    w = replace(THREE_TURNS, conversations_per_month=50, gaps=((0.7, 5), (0.3, 600)),
                arrival="poisson")  # fmt: skip
    a, b, c = conversation_timeline(w, 7), conversation_timeline(w, 7), conversation_timeline(w, 8)
    assert np.array_equal(a.t, b.t) and np.array_equal(a.input_tokens, b.input_tokens)
    assert not np.array_equal(a.t, c.t)
    assert a.n == 150 and a.streams == 50
    assert (a.t >= 0).all() and (a.t[::3] < MONTH_SECONDS).all()  # starts within 30 days


def test_context_strategies_see_the_same_times():
    w = replace(SMALL, conversations_per_month=20, arrival="poisson")
    sliding = conversation_timeline(replace(w, context_strategy="sliding"), 3)
    hysteresis = conversation_timeline(replace(w, context_strategy="hysteresis"), 3)
    assert np.array_equal(sliding.t, hysteresis.t)


def test_gaps_follow_the_mixture():
    w = ConversationWorkload(20_000, 2, 0, 1, 0, gaps=((0.5, 10.0), (0.5, 1000.0)))
    gaps = np.diff(conversation_timeline(w, 1).t.reshape(-1, 2), axis=1).ravel()
    assert gaps.mean() == pytest.approx(505, rel=0.05)
    # P(gap <= 100 s) = 0.5 (1 - e^-10) + 0.5 (1 - e^-0.1) = 0.548
    assert (gaps <= 100).mean() == pytest.approx(0.548, abs=0.015)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"turns_per_conversation": 0}, "turns_per_conversation"),
        ({"system_tokens": -1}, "system_tokens"),
        ({"context_window": 1050}, "context_window"),  # 1,000 + 100 new does not fit
        ({"context_strategy": "truncate"}, "context_strategy"),
        ({"gaps": ()}, "gaps"),
        ({"gaps": ((1.0, 0.0),)}, "gaps"),
        ({"trim_low": 0.9, "trim_high": 0.8}, "trim_low"),
        ({"arrival": "bursty"}, "arrival"),
        ({"context_strategy": "compaction", "summary_tokens": 2000, "context_window": 3000},
         "summary_tokens"),
        ({"conversations_per_month": 10_000_000, "turns_per_conversation": 1000},
         "conversations_per_month"),
    ],
)  # fmt: skip
def test_invalid_parameters_name_their_field(change, field):
    with pytest.raises(WorkloadError) as err:
        replace(THREE_TURNS, **change).validate()
    assert err.value.field == field


def test_parameters_from_json():
    w = ConversationWorkload.from_mapping({
        "conversations_per_month": "1000", "turns_per_conversation": 40, "system_tokens": 3000,
        "user_tokens_per_turn": 200, "tool_tokens_per_turn": 1500, "output_tokens_per_turn": 400,
        "gaps": [[0.7, 5], {"share": 0.3, "mean_seconds": 600}],
        "context_strategy": "hysteresis", "trim_low": "0.6", "automatic_hit_rate": "0.8",
    })  # fmt: skip
    assert w.conversations_per_month == 1000 and w.gaps == ((0.7, 5.0), (0.3, 600.0))
    assert w.trim_low == 0.6 and str(w.automatic_hit_rate) == "0.8"
    with pytest.raises(WorkloadError) as err:
        ConversationWorkload.from_mapping({"turns_per_conversation": "many"})
    assert err.value.field == "turns_per_conversation"
    with pytest.raises(WorkloadError) as err:
        ConversationWorkload.from_mapping({"turns_per_conversation": 3})
    assert err.value.field == "conversations_per_month"


def test_a_timeline_sorts_itself_and_checks_its_prefixes():
    tl = Timeline(
        t=[5.0, 1.0, 0.0],
        stream=[1, 1, 0],
        input_tokens=[300, 200, 100],
        shared=[200, 0, 0],
        static=[0, 0, 0],
        output=[1, 2, 3],
        batchable=False,
    )
    assert tl.stream.tolist() == [0, 1, 1] and tl.input_tokens.tolist() == [100, 200, 300]
    has_prev, gap, prev = tl.stream_prev()
    assert has_prev.tolist() == [False, False, True] and gap[2] == 4.0 and prev[2] == 200
    with pytest.raises(ValueError, match="static <= shared <= input_tokens"):
        Timeline(t=[0.0], stream=[0], input_tokens=[10], shared=[11], static=[0], output=[0],
                 batchable=False)  # fmt: skip
