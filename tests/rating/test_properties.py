"""Invariants of the engine, and the bulk path agreeing with the exact Decimal path."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.rating.book import PriceBook
from apps.rating.bulk import RecordColumns, rate_matrix, rate_time_of_use
from apps.rating.engine import (
    CACHE_WRITE_METERS,
    TOKEN_METERS,
    LongContextTier,
    PriceSheet,
    RatedRecord,
    TimeBand,
    UsageRecord,
    rate_record,
)

from .sheets import DEEPSEEK_FLASH, GPT_54, GROK_47, HAIKU_45, HAIKU_55, OPUS_46, SONNET_45

prices = st.decimals(min_value=D("0"), max_value=D("200"), places=6, allow_nan=False)
multipliers = st.sampled_from([D("0.5"), D("1"), D("1.1"), D("1.75"), D("2"), D("6")])
token_counts = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def sheets(draw) -> PriceSheet:
    base = {m: draw(prices) for m in TOKEN_METERS}
    long = None
    if draw(st.booleans()):
        # long-context prices are never below base prices at any provider
        long = LongContextTier(
            threshold=draw(st.integers(min_value=1, max_value=500_000)),
            inclusive=draw(st.booleans()),
            rates={
                m: base[m] * draw(st.sampled_from([D("1"), D("2"), D("5")])) for m in TOKEN_METERS
            },
        )
    bands = ()
    if draw(st.booleans()):
        start = draw(st.integers(min_value=0, max_value=1380))
        bands = (TimeBand(start, start + 60, D("0.5"), "off-peak"),)
    return PriceSheet(
        version_id="s",
        provider="p",
        model="m",
        effective_from=datetime(2025, 1, 1, tzinfo=UTC),
        rates=base,
        long_context=long,
        tier_multipliers={"batch": draw(multipliers), "fast": draw(multipliers)},
        region_multipliers={"us": D("1.1")},
        time_bands=bands,
    )


@st.composite
def records(draw) -> UsageRecord:
    return UsageRecord(
        provider="p",
        model="m",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC)
        + timedelta(minutes=draw(st.integers(0, 10_000))),
        service_tier=draw(st.sampled_from(["standard", "batch", "fast"])),
        region=draw(st.sampled_from(["", "us", "eu"])),
        **{f"{m}_tokens": draw(token_counts) for m in TOKEN_METERS},
    )


@settings(max_examples=300, deadline=None)
@given(sheets(), records())
def test_cost_is_never_negative(sheet, record):
    result = rate_record(record, sheet)
    assert isinstance(result, RatedRecord)
    assert result.total >= 0
    assert all(item.amount >= 0 for item in result.items)


@settings(max_examples=300, deadline=None)
@given(
    sheets(), records(), st.sampled_from(TOKEN_METERS), st.integers(min_value=1, max_value=500_000)
)
def test_cost_is_monotone_in_every_token_bucket(sheet, record, meter, extra):
    more = UsageRecord(
        **{
            **{f: getattr(record, f) for f in record.__slots__},
            f"{meter}_tokens": record.tokens(meter) + extra,
        }
    )
    assert rate_record(more, sheet).total >= rate_record(record, sheet).total


def _decimal_meter_totals(rated: list[RatedRecord]) -> dict[str, D]:
    totals: dict[str, D] = defaultdict(D)
    for r in rated:
        for item in r.items:
            totals[item.meter] += item.amount
    return totals


@settings(max_examples=60, deadline=None)
@given(sheets(), st.lists(records(), min_size=1, max_size=60))
def test_bulk_path_equals_decimal_path(sheet, recs):
    exact = _decimal_meter_totals([rate_record(r, sheet) for r in recs])
    bulk = rate_matrix(RecordColumns.from_records(recs), [sheet])
    # the bulk path sums integer tokens per price group and multiplies in Decimal: exact
    assert bulk.meter_totals() == {m: v for m, v in exact.items() if v or m in bulk.meter_totals()}


def _random_records(n: int, seed: int) -> list[UsageRecord]:
    rng = random.Random(seed)
    models = [
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
        "claude-haiku-5-5",
        "claude-opus-4-6",
        "gpt-5.4",
        "deepseek-flash",
        "grok-4.7",
        "no-such-model",
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for _ in range(n):
        model = rng.choice(models)
        big = rng.random() < 0.1  # some long-context requests
        out.append(
            UsageRecord(
                provider="x",
                model=model,
                timestamp=start + timedelta(seconds=rng.randrange(0, 300 * 86400)),
                input_tokens=rng.randrange(0, 300_000 if big else 5_000),
                cache_read_tokens=rng.randrange(0, 200_000),
                cache_write_5m_tokens=rng.randrange(0, 20_000) if model.startswith("claude") else 0,
                cache_write_1h_tokens=rng.randrange(0, 20_000) if model.startswith("claude") else 0,
                output_tokens=rng.randrange(0, 8_000),
                service_tier=rng.choice(["standard", "standard", "batch"])
                if model != "grok-4.7" and model != "deepseek-flash"
                else "standard",
                region=rng.choice(["", "", "us"]),
                web_search_calls=rng.randrange(0, 3) if model == "grok-4.7" else 0,
            )
        )
    return out


def test_bulk_time_of_use_matches_decimal_totals_on_randomized_records():
    sheets_ = [SONNET_45, HAIKU_45, HAIKU_55, OPUS_46, GPT_54, DEEPSEEK_FLASH, GROK_47]
    book = PriceBook.build(sheets_, {})
    recs = _random_records(20_000, seed=7)
    exact_by_meter: dict[str, D] = defaultdict(D)
    unpriced = 0
    for r in recs:
        model = book.resolve(r.model)
        sheet = book.sheet_at(model, r.timestamp) if model else None
        result = rate_record(r, sheet) if sheet else None
        if not isinstance(result, RatedRecord):
            unpriced += 1
            continue
        for item in result.items:
            exact_by_meter[item.meter] += item.amount
    bulk = rate_time_of_use(RecordColumns.from_records(recs), book)
    assert bulk.unpriced_records == unpriced > 0
    per_meter = bulk.meter_totals()
    # The issue asks for agreement within $0.000001 per million records; it is exact.
    tolerance = D("0.000001") * max(1, len(recs) // 1_000_000)
    for meter in (*TOKEN_METERS, "web_search"):
        got = per_meter.get(meter, D(0))
        assert abs(exact_by_meter.get(meter, D(0)) - got) <= tolerance, meter
    assert per_meter == dict(exact_by_meter)
    assert CACHE_WRITE_METERS[0] in exact_by_meter  # the mix really exercised cache writes
    assert any(s.long_context_records for s in bulk.per_sheet)


def test_bulk_follows_the_same_long_context_rule_for_aggregates_and_flags():
    recs = [
        UsageRecord(
            provider="a",
            model="m",
            timestamp=datetime(2026, 1, 1, tzinfo=UTC),
            input_tokens=n,
            requests=req,
            long_context=flag,
        )
        for n, req, flag in [
            (1_500_000, 10, None),
            (2_100_000, 10, None),
            (1_000_000, 0, None),
            (1_000_000, 0, True),
            (300_000, 1, False),
            (300_000, 1, None),
        ]
    ]
    exact = _decimal_meter_totals([rate_record(r, SONNET_45) for r in recs])
    assert rate_matrix(RecordColumns.from_records(recs), [SONNET_45]).meter_totals() == dict(exact)
