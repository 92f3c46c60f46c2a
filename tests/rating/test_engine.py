"""One test per pricing rule, with the bill worked out by hand next to it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from apps.rating.book import PriceBook
from apps.rating.engine import RatedRecord, Unpriced, UsageRecord, rate_record
from apps.rating.summary import Pricing, rate_all
from apps.usage.formats.provider_usage import from_anthropic_usage, from_openai_usage

from .sheets import (
    DEEPSEEK_FLASH,
    GEMINI_25_PRO,
    GPT_5,
    GPT_54,
    GPT_54_MULTIPLIERS,
    GROK_47,
    HAIKU_45,
    HAIKU_55,
    OPUS_46,
    SONNET_45,
    sheet,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def rec(model: str = "m", when: datetime = NOON, **kw) -> UsageRecord:
    return UsageRecord(provider=kw.pop("provider", "anthropic"), model=model, timestamp=when, **kw)


def priced(record: UsageRecord, price_sheet) -> RatedRecord:
    result = rate_record(record, price_sheet)
    assert isinstance(result, RatedRecord), result
    return result


def items(result: RatedRecord) -> dict[str, D]:
    return {i.meter: i.amount for i in result.items}


def test_it_prices_1h_writes_at_2x_input_and_5m_writes_at_1_25x():
    r = rec(
        input_tokens=1_000,
        cache_write_5m_tokens=10_000,
        cache_write_1h_tokens=10_000,
        cache_read_tokens=50_000,
        output_tokens=2_000,
    )
    result = priced(r, SONNET_45)
    # 1,000 x $3 = 0.003; 10,000 x $3.75 = 0.0375; 10,000 x $6 = 0.06;
    # 50,000 x $0.30 = 0.015; 2,000 x $15 = 0.03  (all per million)
    assert items(result) == {
        "input": D("0.003"),
        "cache_write_5m": D("0.0375"),
        "cache_write_1h": D("0.06"),
        "cache_read": D("0.015"),
        "output": D("0.03"),
    }
    assert result.total == D("0.1455")  # billing 1h writes as 5m would give 0.123


def test_it_prices_the_whole_sonnet_45_request_at_long_context_rates_over_200k():
    r = rec(input_tokens=150_000, cache_read_tokens=60_000, output_tokens=1_000)
    result = priced(r, SONNET_45)
    # prompt = 150,000 + 60,000 = 210,000 > 200,000: every token at the >200K rates
    # 150,000 x $6 = 0.9; 60,000 x $0.60 = 0.036; 1,000 x $22.50 = 0.0225
    assert result.long_context
    assert result.total == D("0.9585")


def test_a_prompt_of_exactly_200k_is_not_long_context_for_anthropic():
    result = priced(rec(input_tokens=200_000, output_tokens=1_000), SONNET_45)
    # 200,000 x $3 = 0.6; 1,000 x $15 = 0.015
    assert not result.long_context
    assert result.total == D("0.615")


def test_cache_writes_count_toward_the_long_context_threshold():
    r = rec(input_tokens=190_000, cache_write_1h_tokens=20_000, output_tokens=0)
    result = priced(r, SONNET_45)
    # 210,000 prompt: 190,000 x $6 = 1.14; 20,000 x $12 (1h write, long) = 0.24
    assert result.total == D("1.38")


@pytest.mark.parametrize(
    "price_sheet", [GPT_54, GPT_54_MULTIPLIERS], ids=["explicit", "multipliers"]
)
def test_gpt_over_272k_pays_2x_input_and_cache_and_1_5x_output_on_the_whole_request(price_sheet):
    r = rec(
        provider="openai", input_tokens=200_000, cache_read_tokens=100_000, output_tokens=10_000
    )
    result = priced(r, price_sheet)
    # prompt 300,000 > 272,000. 200,000 x $5 = 1.0; 100,000 x $0.50 = 0.05; 10,000 x $22.50 = 0.225
    assert result.total == D("1.275")


def test_gpt_at_272k_stays_at_base_rates():
    result = priced(rec(input_tokens=272_000, output_tokens=10_000), GPT_54)
    # 272,000 x $2.50 = 0.68; 10,000 x $15 = 0.15
    assert result.total == D("0.83")


def test_haiku_55_over_100k_pays_5x_on_every_token_including_output():
    r = rec(
        input_tokens=50_000,
        cache_read_tokens=40_000,
        cache_write_5m_tokens=20_000,
        output_tokens=4_000,
    )
    result = priced(r, HAIKU_55)
    # prompt 110,000 > 100,000 although uncached input is only 50,000.
    # 50,000 x $0.50 = 0.025; 40,000 x $0.05 = 0.002; 20,000 x $0.625 = 0.0125; 4,000 x $2.50 = 0.01
    assert result.total == D("0.0495")


def test_batch_halves_cache_reads_and_writes_too():
    r = rec(
        input_tokens=10_000,
        cache_read_tokens=100_000,
        cache_write_5m_tokens=8_000,
        output_tokens=2_000,
        service_tier="batch",
    )
    result = priced(r, HAIKU_45)
    # 10,000 x $0.50 = 0.005; 100,000 x $0.05 = 0.005; 8,000 x $0.625 = 0.005; 2,000 x $2.50 = 0.005
    assert items(result) == {
        m: D("0.005") for m in ("input", "cache_read", "cache_write_5m", "output")
    }
    assert result.total == D("0.02")


def test_batch_stacks_on_long_context():
    r = rec(input_tokens=210_000, output_tokens=2_000, service_tier="batch")
    result = priced(r, SONNET_45)
    # long and batch: 210,000 x $3 (= 6 x 0.5) = 0.63; 2,000 x $11.25 = 0.0225
    assert result.total == D("0.6525")


def test_a_tier_can_leave_cache_meters_at_list_price():
    no_cache_discount = sheet(
        "old-batch",
        provider="openai",
        rates={"input": D("2"), "output": D("8"), "cache_read": D("0.5")},
        tier_multipliers={"batch": D("0.5")},
        tiers_exempting_cache=frozenset({"batch"}),
    )
    r = rec(input_tokens=1_000_000, cache_read_tokens=1_000_000, service_tier="batch")
    # input 1M x $1 = 1; cache read at list $0.5 = 0.5
    assert priced(r, no_cache_discount).total == D("1.5")


MILLION_EACH = {"input_tokens": 1_000_000, "cache_read_tokens": 1_000_000, "output_tokens": 100_000}
PEAK = D("0.426")  # 1M x $0.30 + 1M x $0.006 + 100K x $1.20 = 0.30 + 0.006 + 0.12
OFFPEAK = D("0.213")  # half of peak


@pytest.mark.parametrize(
    ("hhmmss", "expected"),
    [
        ("00:00:00", OFFPEAK),
        ("00:59:59", OFFPEAK),
        ("01:00:00", PEAK),
        ("03:59:59", PEAK),
        ("04:00:00", OFFPEAK),
        ("05:59:59", OFFPEAK),
        ("06:00:00", PEAK),
        ("09:59:59", PEAK),
        ("10:00:00", OFFPEAK),
        ("23:59:59", OFFPEAK),
    ],
)
def test_deepseek_off_peak_band_edges_in_utc(hhmmss, expected):
    h, m, s = (int(x) for x in hhmmss.split(":"))
    when = datetime(2026, 11, 18, h, m, s, tzinfo=UTC)
    result = priced(rec(provider="deepseek", when=when, **MILLION_EACH), DEEPSEEK_FLASH)
    assert result.total == expected
    assert (result.band == "off-peak") == (expected == OFFPEAK)


def test_a_price_change_mid_month_prices_each_request_at_its_own_day():
    before = sheet(
        "claude-sonnet-5-5",
        version="v1",
        rates={"input": D("2"), "output": D("10"), "cache_read": D("0.20")},
        effective_from=datetime(2026, 9, 22, tzinfo=UTC),
    )
    after = sheet(
        "claude-sonnet-5-5",
        version="v2",
        rates={"input": D("2"), "output": D("10"), "cache_read": D("0.10")},
        effective_from=datetime(2026, 10, 7, tzinfo=UTC),
    )
    book = PriceBook.build([after, before], {"claude-sonnet-5-5-20260922": "claude-sonnet-5-5"})
    records = [
        rec(
            "claude-sonnet-5-5",
            datetime(2026, 10, 6, 23, 59, 59, tzinfo=UTC),
            cache_read_tokens=1_000_000,
        ),
        rec(
            "claude-sonnet-5-5-20260922",
            datetime(2026, 10, 7, tzinfo=UTC),
            cache_read_tokens=1_000_000,
        ),
    ]
    at_use = rate_all(records, book)
    # 1M reads at $0.20 the day before the cut + 1M reads at $0.10 from the cut = 0.30
    assert at_use.total == D("0.30")
    assert at_use.by_model[("anthropic", "claude-sonnet-5-5")].versions == {"v1", "v2"}
    repriced = rate_all(records, book, Pricing(at=datetime(2026, 11, 1, tzinfo=UTC)))
    assert repriced.total == D("0.20")  # both at today's $0.10
    one_version = rate_all(records, book, Pricing(version_id="v1"))
    assert one_version.total == D("0.40")


def test_usage_before_the_first_version_is_unpriced_not_free():
    book = PriceBook.build([SONNET_45], {})
    early = rec("claude-sonnet-4-5", datetime(2024, 6, 1, tzinfo=UTC), input_tokens=10)
    summary = rate_all([early], book)
    assert summary.total == D("0")
    assert summary.unpriced.records == 1
    assert summary.unpriced.reasons == {"before the first price version": 1}


def test_an_unknown_model_lands_in_the_unpriced_bucket_with_its_id():
    book = PriceBook.build([SONNET_45], {})
    records = [
        rec("claude-sonnet-4-5", input_tokens=100_000),
        rec("gpt-9-imaginary", input_tokens=5),
    ]
    summary = rate_all(records, book)
    assert summary.total == D("0.3")  # 100,000 x $3; the unknown model adds nothing and is listed
    out = summary.as_dict()
    assert out["unpriced"] == {
        "requests": 1,
        "records": 1,
        "tokens": 5,
        "models": ["gpt-9-imaginary"],
        "reasons": {"unknown model": 1},
    }


def test_usage_without_a_model_is_unpriced_with_the_reason_on_both_paths():
    from apps.rating.bulk import RecordColumns, summarize_time_of_use

    book = PriceBook.build([SONNET_45], {})
    records = [rec("claude-sonnet-4-5", input_tokens=100_000), rec("", input_tokens=7)]
    expected = {
        "requests": 1,
        "records": 1,
        "tokens": 7,
        "models": ["(no model)"],
        "reasons": {"the source names no model (export it grouped by model)": 1},
    }
    assert rate_all(records, book).as_dict()["unpriced"] == expected
    bulk = summarize_time_of_use(RecordColumns.from_records(records), book)
    assert bulk["unpriced"] == expected
    assert bulk["total_cost_usd"] == "0.3"  # 100,000 x $3 per million


def test_aliases_dated_ids_and_vendor_prefixes_resolve_to_one_model():
    book = PriceBook.build([SONNET_45], {"claude-sonnet-4-5-20250929": "claude-sonnet-4-5"})
    for raw in (
        "claude-sonnet-4-5-20250929",
        "anthropic/claude-sonnet-4-5",
        "Claude-Sonnet-4-5",
        "openrouter/anthropic/claude-sonnet-4.5",
        "claude-sonnet-4-5@20250929",
    ):
        assert book.resolve(raw) == "claude-sonnet-4-5", raw
    assert book.resolve("claude-sonnet-9") is None


def test_openai_cached_tokens_inside_prompt_tokens_are_not_counted_twice():
    usage = {
        "input_tokens": 9_463,
        "input_tokens_details": {"cached_tokens": 8_320},
        "output_tokens": 660,
        "output_tokens_details": {"reasoning_tokens": 512},
    }
    r = from_openai_usage(usage, model="gpt-5", timestamp=NOON)
    assert (r.input_tokens, r.cache_read_tokens, r.output_tokens) == (1_143, 8_320, 660)
    result = priced(r, GPT_5)
    # 1,143 x $1.25 = 0.00142875; 8,320 x $0.125 = 0.00104; 660 x $10 = 0.0066 (reasoning inside)
    assert result.total == D("0.00906875")


def test_anthropic_usage_keeps_5m_and_1h_writes_apart():
    usage = {
        "input_tokens": 3,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 7_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 2_000, "ephemeral_1h_input_tokens": 5_000},
        "output_tokens": 100,
    }
    r = from_anthropic_usage(usage, model="claude-opus-4-6", timestamp=NOON)
    result = priced(r, OPUS_46)
    # 3 x $5 = 0.000015; 2,000 x $6.25 = 0.0125; 5,000 x $10 = 0.05; 100 x $25 = 0.0025
    assert result.total == D("0.065015")


def test_fast_mode_and_us_residency_stack():
    r = rec(input_tokens=1_000, output_tokens=1_000, service_tier="fast", region="us")
    # Opus 4.6 fast = 6x ($30 / $150), US inference 1.1x: 1,000 x $33 + 1,000 x $165 = 0.033 + 0.165
    assert priced(r, OPUS_46).total == D("0.198")
    assert priced(rec(input_tokens=1_000_000, region="us"), OPUS_46).total == D("5.5")
    assert priced(rec(input_tokens=1_000_000, region="eu"), OPUS_46).total == D(
        "5"
    )  # no EU surcharge known


def test_xai_long_context_starts_at_exactly_200k_and_web_search_is_5_per_1000():
    r = rec(provider="xai", input_tokens=200_000, output_tokens=1_000, web_search_calls=3)
    result = priced(r, GROK_47)
    # ">= 200K": 200,000 x $4 = 0.8; 1,000 x $12 = 0.012; 3 calls x $5 / 1,000 = 0.015
    assert result.long_context
    assert items(result)["web_search"] == D("0.015")
    assert result.total == D("0.827")


def test_explicit_cache_storage_is_priced_per_token_hour():
    r = rec(provider="google", cache_read_tokens=100_000, cache_storage_token_hours=D("200000"))
    result = priced(r, GEMINI_25_PRO)
    # 100,000 reads x $0.125 = 0.0125; 100,000 tokens kept 2 hours = 200,000 token-hours x $4.50/M = 0.9
    assert result.total == D("0.9125")


def test_a_tier_without_a_published_price_is_unpriced():
    result = rate_record(rec(input_tokens=10, service_tier="priority"), SONNET_45)
    assert isinstance(result, Unpriced)
    assert "priority" in result.reason


def test_a_meter_without_a_price_is_unpriced_rather_than_free():
    result = rate_record(rec(provider="openai", input_tokens=10, cache_write_1h_tokens=5), GPT_5)
    assert isinstance(result, Unpriced)
    assert "cache_write_1h" in result.reason


def test_reconciliation_reports_computed_against_billed_per_model():
    book = PriceBook.build([HAIKU_45], {})
    records = [
        rec("claude-haiku-4-5", input_tokens=1_000_000, billed_cost_usd=D("1.02")),
        rec("claude-haiku-4-5", output_tokens=1_000_000, billed_cost_usd=D("5")),
        rec("claude-haiku-4-5", output_tokens=1_000_000),  # no billed cost: not in the comparison
    ]
    summary = rate_all(records, book)
    assert summary.reconciliation() == [
        {
            "provider": "anthropic",
            "model": "claude-haiku-4-5",
            "requests": 2,
            "computed_usd": "6",
            "billed_usd": "6.02",
            "difference_usd": "-0.02",
        }
    ]
    assert summary.total == D("11")


def test_amounts_are_exact_decimals_without_float_noise():
    # LiteLLM returns 0.015000000000000001 for this kind of product (floats).
    result = priced(rec(output_tokens=1_000), SONNET_45)
    assert result.total == D("0.015")
    assert str(result.total) == "0.015"


def test_an_aggregate_is_judged_on_its_mean_request_not_its_sum():
    # 10 requests with 1,500,000 prompt tokens in all: 150,000 each, under 200K
    day = rec(input_tokens=1_500_000, requests=10)
    assert not priced(day, SONNET_45).long_context
    assert priced(day, SONNET_45).total == D("4.5")  # 1.5M x $3
    # 2,100,000 over 10 requests: 210,000 each, so every request was long
    assert priced(rec(input_tokens=2_100_000, requests=10), SONNET_45).total == D(
        "12.6"
    )  # 2.1M x $6


def test_an_aggregate_with_an_unknown_request_count_follows_the_sources_flag():
    # Anthropic's usage report gives no request count but a context_window dimension
    unknown = rec(input_tokens=1_000_000, requests=0)
    assert priced(unknown, SONNET_45).total == D("3")  # no flag: base rates, never guessed long
    flagged = rec(input_tokens=1_000_000, requests=0, long_context=True)
    assert priced(flagged, SONNET_45).total == D("6")
    short = rec(input_tokens=300_000, long_context=False)
    assert priced(short, SONNET_45).total == D("0.9")
