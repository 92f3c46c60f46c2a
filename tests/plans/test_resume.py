"""Resume cost of an idle conversation (pure), with amounts worked by hand.

The sheet is Claude Sonnet 4.5's list prices per million tokens: input $3, cache read
$0.30, 5-minute cache write $3.75, 1-hour cache write $6, output $15.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from apps.plans.resume import ResumeError, ResumeQuestion, pings_needed, resume_cost
from apps.rating.engine import PriceSheet

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SONNET = PriceSheet(
    version_id="t",
    provider="anthropic",
    model="claude-sonnet-4-5",
    effective_from=datetime(2025, 9, 29, tzinfo=UTC),
    rates={
        "input": D("3"),
        "cache_read": D("0.30"),
        "cache_write_5m": D("3.75"),
        "cache_write_1h": D("6"),
        "output": D("15"),
    },  # fmt: skip
)
CONTEXT = 150_000


def ask(idle: int, ttl: str, **extra: int):
    return resume_cost(
        ResumeQuestion(
            context_tokens=CONTEXT, output_tokens=1_000, idle_seconds=idle, ttl=ttl, **extra
        ),
        SONNET,
        WHEN,
    )


def test_after_4_minutes_a_5_minute_cache_is_warm():
    # read 150,000 x $0.30 = $0.045; output 1,000 x $15 = $0.015; total $0.06
    answer = ask(4 * 60, "5m")
    assert answer.cache == "warm" and answer.cost == D("0.06")
    assert answer.pings == 0 and answer.keepalive_cost == D("0.06")


def test_after_6_minutes_a_5_minute_cache_has_expired_and_the_context_is_written_again():
    # write 150,000 x $3.75 = $0.5625; output $0.015; total $0.5775
    answer = ask(6 * 60, "5m")
    assert answer.cache == "expired" and answer.cost == D("0.5775")
    assert answer.warm_cost == D("0.06") and answer.expired_cost == D("0.5775")
    # one ping at under 5 minutes keeps it warm: it reads the context ($0.045) plus one
    # input token ($0.000003) and one output token ($0.000015) = $0.045018; then the
    # message is warm ($0.06): $0.105018 in all
    assert answer.pings == 1 and answer.ping_cost == D("0.045018")
    assert answer.keepalive_cost == D("0.105018")


def test_after_2_hours_a_1_hour_cache_has_expired_at_the_1_hour_write_price():
    # write 150,000 x $6 = $0.90; output $0.015; total $0.915
    answer = ask(2 * 3600, "1h")
    assert answer.cache == "expired" and answer.cost == D("0.915")
    # two pings (every gap under an hour: 40 minutes each), 2 x $0.045018 + $0.06
    assert answer.pings == 2 and answer.keepalive_cost == D("0.150036")


def test_the_new_message_is_written_to_the_cache_either_way():
    # warm: read $0.045 + 2,000 x $3.75 = $0.0075 + $0.015 = $0.0675
    # expired: 152,000 x $3.75 = $0.57 + $0.015 = $0.585
    answer = ask(60, "5m", new_input_tokens=2_000)
    assert answer.warm_cost == D("0.0675") and answer.expired_cost == D("0.585")


def test_dropping_tokens_before_resuming_an_expired_cache_saves_their_write():
    # 50,000 dropped: 100,000 x $3.75 = $0.375 + $0.015 = $0.39 instead of $0.5775:
    # $0.1875 saved now, and 50,000 x $0.30 = $0.015 on every later warm message
    answer = ask(6 * 60, "5m", drop_tokens=50_000)
    assert answer.drop_cost == D("0.39") and answer.drop_saving == D("0.1875")
    assert answer.drop_saving_per_later_message == D("0.015")


def test_dropping_tokens_from_a_warm_cache_costs_more_now():
    # the prefix changes, so 100,000 are written ($0.39) instead of 150,000 read ($0.06)
    answer = ask(60, "5m", drop_tokens=50_000)
    assert answer.drop_saving == D("-0.33")


@pytest.mark.parametrize(("idle", "ttl", "pings"), [(0, "5m", 0), (299, "5m", 0), (300, "5m", 1),
                                                    (601, "5m", 2), (3599, "1h", 0), (7200, "1h", 2)])  # fmt: skip
def test_pings_keep_every_gap_under_the_ttl(idle, ttl, pings):
    assert pings_needed(idle, ttl) == pings


def test_a_model_without_the_ttl_s_write_price_is_refused_naming_ttl():
    sheet = PriceSheet(
        "x", "openai", "gpt-x", WHEN, {"input": D(1), "cache_read": D("0.1"), "output": D(4)}
    )
    with pytest.raises(ResumeError) as err:
        resume_cost(ResumeQuestion(1000, 10, 0, "5m"), sheet, WHEN)
    assert err.value.field == "ttl"


def test_dropping_more_than_the_context_is_refused():
    with pytest.raises(ResumeError) as err:
        ask(0, "5m", drop_tokens=CONTEXT + 1)
    assert err.value.field == "drop_tokens"
