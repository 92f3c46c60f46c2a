"""OpenAI dashboard usage CSV export (log-formats.md section 2.3). Pure: no database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from apps.usage.formats import (
    anthropic_console_csv,
    anthropic_usage_report,
    litellm_spend_logs,
    openai_usage_api,
    openrouter,
)
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped
from apps.usage.formats.openai_dashboard_csv import PARSER

DATA = Path(__file__).resolve().parents[2] / "data" / "usage"
ACTIVITY = DATA / "openai_dashboard_csv" / "completions_usage_2026-03-01_2026-03-04.csv"
NEWER = DATA / "openai_dashboard_csv" / "completions_usage_2026-03-01_newer_vintage.csv"
COST = DATA / "openai_dashboard_csv" / "cost_2026-03-01_2026-03-04.csv"
API_PAGES = DATA / "openai_usage_api" / "completions_usage_grouped_pages.json"
OTHERS = [
    m.PARSER
    for m in (
        openai_usage_api,
        anthropic_usage_report,
        anthropic_console_csv,
        openrouter,
        litellm_spend_logs,
    )
]
HEADER = (
    "start_time,end_time,model,num_model_requests,input_tokens,input_cached_tokens,output_tokens"
)


def parse_file(path: Path) -> list:
    with path.open("rb") as fh:
        return list(PARSER.parse(fh, path.name))


def parse_text(text: str) -> list:
    return list(PARSER.parse(text.encode().splitlines(keepends=True), "usage.csv"))


def parsed(events: list) -> list[Parsed]:
    return [e for e in events if isinstance(e, Parsed)]


def test_it_is_registered_under_its_format_name():
    assert PARSER.name == "openai_dashboard_csv"
    assert PARSER.description


def test_it_reads_the_activity_export_with_exact_totals():
    events = parse_file(ACTIVITY)
    assert Counter(type(e).__name__ for e in events) == {"Parsed": 4, "Skipped": 1}
    records = parsed(events)
    assert sum(p.record.input_tokens for p in records) == 184_440
    assert sum(p.record.cache_read_tokens for p in records) == 7_760
    assert sum(p.record.output_tokens for p in records) == 34_850
    assert sum(p.record.requests for p in records) == 244
    assert all(p.aggregate and p.merge == Merge.SUM for p in records)
    empty = next(e for e in events if isinstance(e, Skipped))
    assert (empty.line, empty.reason) == (4, "bucket with no usage")


def test_input_includes_cached_tokens_and_is_converted_by_hand():
    # Row 1: 59,200 input of which 5,760 cached -> 53,440 uncached (section 2.1 identity).
    first = parsed(parse_file(ACTIVITY))[0]
    assert first.line == 2
    assert first.record.input_tokens == 59_200 - 5_760 == 53_440
    assert first.record.cache_read_tokens == 5_760
    assert first.record.output_tokens == 4_100
    assert first.record.requests == 37
    assert first.record.timestamp == datetime(2026, 3, 1, tzinfo=UTC)
    assert first.record.service_tier == "standard"


def test_true_batch_cells_mean_the_batch_tier():
    tiers = {p.record.model: p.record.service_tier for p in parsed(parse_file(ACTIVITY))[:2]}
    assert tiers == {"gpt-5-2025-08-07": "standard", "gpt-5-mini-2025-08-07": "batch"}


def test_its_keys_match_the_usage_api_keys_for_the_same_rows():
    with API_PAGES.open("rb") as fh:
        api_keys = {p.source_key for p in openai_usage_api.PARSER.parse(fh, API_PAGES.name)}
    csv_keys = {p.source_key for p in parsed(parse_file(ACTIVITY))}
    assert len(csv_keys) == 4
    assert csv_keys <= api_keys


def test_headers_are_matched_by_name_across_vintages():
    events = parse_file(NEWER)
    assert len(events) == 1
    row = events[0].record
    # 24,120 input = 12,036 cached + 4,012 written + 8,072 uncached.
    assert (row.input_tokens, row.cache_read_tokens, row.cache_write_30m_tokens) == (
        8_072,
        12_036,
        4_012,
    )
    assert (row.output_tokens, row.requests, row.service_tier) == (40, 6, "flex")
    assert events[0].source_key.startswith("openai_usage:1772323200:1772326800:")


def test_iso_times_are_used_when_unix_columns_are_missing():
    text = (
        "start_time_iso,end_time_iso,model,input_tokens\n"
        "2026-03-01T00:00:00+00:00,2026-03-02T00:00:00+00:00,gpt-5,10.0\n"
    )
    (event,) = parse_text(text)
    assert event.record.timestamp == datetime(2026, 3, 1, tzinfo=UTC)
    assert event.source_key.startswith("openai_usage:1772323200:1772409600:")


def test_rows_not_grouped_by_model_are_skipped_with_the_reason():
    (event,) = parse_text(f"{HEADER}\n1772323200,1772409600,,5.0,100.0,0.0,10.0\n")
    assert isinstance(event, Skipped)
    assert "group_by=model" in event.reason


def test_identical_rows_share_a_key_and_are_summed():
    row = "1772323200,1772409600,gpt-5,5.0,100.0,40.0,10.0"
    events = parse_text(f"{HEADER}\n{row}\n{row}\n")
    assert len({e.source_key for e in events}) == 1
    assert all(e.merge == Merge.SUM for e in events)
    assert sum(e.record.input_tokens for e in events) == 2 * 60


def test_bad_rows_are_errors_with_their_line_and_parsing_goes_on():
    text = (
        f"{HEADER}\n"
        "1772323200,1772409600,gpt-5,5.0,abc,0.0,10.0\n"
        "1772323200,1772409600,gpt-5,5.0,100.0,200.0,10.0\n"
        "1772323200,1772409600,gpt-5,5.0,100.0,0.0,10.0,extra\n"
        "not-a-time,1772409600,gpt-5,5.0,100.0,0.0,10.0\n"
        "1772323200,1772409600,gpt-5,5.0,100.0,0.0,-1\n"
        "1772323200,1772409600,gpt-5,5.0,100.0,0.0,10.0\n"
    )
    events = parse_text(text)
    assert [type(e) for e in events] == [LineError] * 5 + [Parsed]
    assert [e.line for e in events] == [2, 3, 4, 5, 6, 7]
    assert "input_tokens" in events[0].reason
    assert "input_cached_tokens" in events[1].reason
    assert "cells" in events[2].reason
    assert "start_time" in events[3].reason
    assert "output_tokens" in events[4].reason


def test_the_cost_export_is_refused_with_a_clear_reason():
    head = COST.read_bytes()
    assert PARSER.sniff(head, COST.name)
    events = parse_file(COST)
    assert len(events) == 1 and isinstance(events[0], LineError)
    assert "Cost export" in events[0].reason


def test_an_export_with_only_the_time_header_is_empty():
    text = "start_time,end_time,start_time_iso,end_time_iso\n"
    assert PARSER.sniff(text.encode(), "completions_usage.csv")
    assert parse_text(text) == []


def test_it_recognises_its_samples_and_nothing_else_claims_them():
    for path in (ACTIVITY, NEWER, COST):
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name)
        assert [p.name for p in OTHERS if p.sniff(head, path.name)] == []


def test_it_does_not_claim_other_csv_files():
    assert not PARSER.sniff(b"timestamp,model,input_tokens\n", "x.csv")
    assert not PARSER.sniff(b"start_time,end_time,duration\n", "x.csv")
    assert not PARSER.sniff(b'[{"start_time": 1, "end_time": 2}]', "x.json")
