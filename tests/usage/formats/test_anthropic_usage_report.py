"""Anthropic Admin API usage and cost reports (log-formats.md sections 3.1, 3.2). Pure."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from apps.usage.formats import (
    anthropic_console_csv,
    litellm_spend_logs,
    openai_dashboard_csv,
    openai_usage_api,
    openrouter,
)
from apps.usage.formats.anthropic_usage_report import PARSER
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped

DATA = Path(__file__).resolve().parents[2] / "data" / "usage" / "anthropic_usage_report"
USAGE = DATA / "usage_report_messages_1d.json"
FLAT = DATA / "usage_report_flat_1h.jsonl"
COST = DATA / "cost_report_1d.json"
OTHERS = [
    m.PARSER
    for m in (
        openai_usage_api,
        openai_dashboard_csv,
        anthropic_console_csv,
        openrouter,
        litellm_spend_logs,
    )
]


def parse_file(path: Path) -> list:
    with path.open("rb") as fh:
        return list(PARSER.parse(fh, path.name))


def parse_obj(obj: object) -> list:
    return list(PARSER.parse(json.dumps(obj).encode().splitlines(True), "report.json"))


def parsed(events: list) -> list[Parsed]:
    return [e for e in events if isinstance(e, Parsed)]


def bucket(*results: dict, start: str = "2026-02-01T00:00:00Z") -> dict:
    return {"starting_at": start, "ending_at": "2026-02-02T00:00:00Z", "results": list(results)}


def test_it_is_registered_under_its_format_name():
    assert PARSER.name == "anthropic_usage_report"
    assert PARSER.description


def test_it_reads_a_usage_page_with_exact_totals():
    events = parse_file(USAGE)
    records = parsed(events)
    assert len(events) == len(records) == 5
    assert sum(p.record.input_tokens for p in records) == 386_811
    assert sum(p.record.cache_read_tokens for p in records) == 3_397_008
    assert sum(p.record.cache_write_5m_tokens for p in records) == 302_527
    assert sum(p.record.cache_write_1h_tokens for p in records) == 4_188
    assert sum(p.record.output_tokens for p in records) == 80_966
    assert sum(p.record.web_search_calls for p in records) == 2
    assert all(p.aggregate and p.merge == Merge.SUM for p in records)
    # The report has no request count: 0 says "not reported", nothing is invented.
    assert {p.record.requests for p in records} == {0}


def test_uncached_input_is_taken_as_is_because_anthropic_excludes_the_cache():
    opus = next(
        p for p in parsed(parse_file(USAGE)) if p.record.model.startswith("claude-opus-4-5")
    )
    record = opus.record
    assert (record.input_tokens, record.cache_read_tokens) == (43, 3_301_672)
    assert (record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (302_527, 0)
    assert record.prompt_tokens == 43 + 3_301_672 + 302_527
    assert record.timestamp == datetime(2026, 2, 1, tzinfo=UTC)
    assert record.provider == "anthropic"
    assert opus.line == 25  # the "{" opening the second result


def test_tiers_regions_and_dimensions_are_kept():
    records = {p.record.model + p.record.service_tier: p for p in parsed(parse_file(USAGE))}
    assert "claude-sonnet-4-5-20250929batch" in records
    assert "claude-sonnet-4-5-20250929priority" in records
    geo = records["claude-opus-4-6standard"].record
    assert (geo.region, geo.cache_write_1h_tokens, geo.web_search_calls) == ("us", 4_188, 2)
    assert records["claude-haiku-4-5-20251001standard"].record.region == ""  # "global"
    long = records["claude-sonnet-4-5-20250929priority"]
    assert long.source_key == (
        "anthropic_usage_report:2026-02-02T00:00:00Z:2026-02-03T00:00:00Z:"
        '["claude-sonnet-4-5-20250929",null,null,null,null,"priority","200k-1M","global",null]'
    )


def test_the_flattened_spelling_and_fast_mode_are_read_and_ungrouped_rows_skipped():
    events = parse_file(FLAT)
    assert [type(e) for e in events] == [Parsed, Skipped]
    record = events[0].record
    assert (record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (200, 300)
    assert (record.input_tokens, record.cache_read_tokens, record.output_tokens) == (100, 400, 50)
    assert record.service_tier == "fast"
    assert events[1].line == 2 and "group_by[]=model" in events[1].reason


def test_rows_with_identical_keys_share_a_key_and_are_summed():
    row = {"model": "claude-haiku-4-5", "uncached_input_tokens": 10, "output_tokens": "4.0"}
    events = parse_obj({"data": [bucket(row, row)]})
    assert len(events) == 2 and len({e.source_key for e in events}) == 1
    assert all(e.merge == Merge.SUM for e in events)
    assert sum(e.record.output_tokens for e in events) == 8
    other = parse_obj({"data": [bucket(dict(row, workspace_id="wrkspc_x"))]})
    assert other[0].source_key != events[0].source_key


def test_an_old_total_without_the_split_counts_as_5_minute_writes():
    row = {"model": "claude-haiku-4-5", "cache_creation_input_tokens": 700}
    (event,) = parse_obj(bucket(row))
    assert (event.record.cache_write_5m_tokens, event.record.cache_write_1h_tokens) == (700, 0)


def test_the_cost_report_becomes_billed_dollars_from_cents():
    events = parse_file(COST)
    assert Counter(type(e).__name__ for e in events) == {"Parsed": 6, "Skipped": 1}
    records = parsed(events)
    # Cents strings / 100. By hand at list price (per million tokens): Haiku 4.5 16,765 in x $1
    # + 1,702 out x $5; Opus 4.5 43 in x $5 + 3,301,672 reads x $0.50 + 302,527 5m writes x
    # $6.25 + 32,676 out x $25 = $4.38401975, the same day's usage report above.
    by_hand = (
        Decimal(16_765) * 1
        + Decimal(1_702) * 5
        + Decimal(43) * 5
        + Decimal(3_301_672) * Decimal("0.50")
        + Decimal(302_527) * Decimal("6.25")
        + Decimal(32_676) * 25
    ) / 1_000_000
    assert sum(p.record.billed_cost_usd for p in records) == by_hand == Decimal("4.38401975")
    assert records[0].record.billed_cost_usd == Decimal("0.016765")
    assert all(p.record.prompt_tokens == 0 and p.record.output_tokens == 0 for p in records)
    assert {p.record.requests for p in records} == {0}
    assert all(
        p.source_key.startswith("anthropic_cost_report:2026-02-01T00:00:00Z:") for p in records
    )
    web = next(e for e in events if isinstance(e, Skipped))
    assert "7.00 cents" in web.reason and "Web Search" in web.reason


def test_bad_rows_are_errors_with_their_line_and_parsing_goes_on():
    good = {"model": "claude-haiku-4-5", "uncached_input_tokens": 1}
    lines = [
        json.dumps(bucket({"model": "claude-haiku-4-5", "uncached_input_tokens": -3}, good)),
        json.dumps(bucket({"model": "claude-haiku-4-5", "cache_creation": 5})),
        "{broken",
        json.dumps(bucket(good, start="yesterday")),
        json.dumps(bucket({"model": "m", "amount": "1.0", "currency": "EUR"})),
        json.dumps(bucket({"model": "m", "service_tier": "gold"})),
        json.dumps(bucket(good)),
    ]
    events = list(PARSER.parse([(line + "\n").encode() for line in lines], "r.jsonl"))
    assert [type(e) for e in events] == [LineError, Parsed] + [LineError] * 5 + [Parsed]
    assert [e.line for e in events] == [1, 1, 2, 3, 4, 5, 6, 7]
    reasons = [e.reason for e in events if isinstance(e, LineError)]
    assert "uncached_input_tokens" in reasons[0]
    assert "cache_creation" in reasons[1]
    assert "invalid JSON" in reasons[2]
    assert "starting_at" in reasons[3]
    assert "currency" in reasons[4]
    assert "service tier" in reasons[5]


def test_it_recognises_its_samples_and_nothing_else_claims_them():
    for path in (USAGE, FLAT, COST):
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name)
        assert [p.name for p in OTHERS if p.sniff(head, path.name)] == []


def test_it_does_not_claim_openai_buckets():
    head = (DATA.parent / "openai_usage_api" / "completions_usage_grouped_pages.json").read_bytes()
    assert not PARSER.sniff(head, "x.json")


def test_a_key_too_long_to_store_becomes_a_stable_hash():
    row = {"model": "claude-haiku-4-5", "workspace_id": "wrkspc_" + "x" * 300}
    first, second = parse_obj(bucket(row)), parse_obj(bucket(row))
    key = first[0].source_key
    assert len(key) <= 255 and key.startswith("anthropic_usage_report:sha256:")
    assert key == second[0].source_key
    other = parse_obj(bucket(dict(row, workspace_id="wrkspc_" + "y" * 300)))
    assert other[0].source_key != key
