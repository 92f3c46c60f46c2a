"""OpenAI Usage API completions buckets (log-formats.md section 2.1). Pure: no database."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from apps.usage.formats import (
    anthropic_console_csv,
    anthropic_usage_report,
    litellm_spend_logs,
    openai_dashboard_csv,
    openai_usage_api,
    openrouter,
)
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped
from apps.usage.formats.openai_usage_api import PARSER, iter_json

DATA = Path(__file__).resolve().parents[2] / "data" / "usage" / "openai_usage_api"
COOKBOOK = DATA / "completions_usage_buckets_1d_cookbook.json"
GROUPED = DATA / "completions_usage_grouped_pages.json"
OTHERS = [
    m.PARSER
    for m in (
        openai_dashboard_csv,
        anthropic_usage_report,
        anthropic_console_csv,
        openrouter,
        litellm_spend_logs,
    )
]
assert openai_usage_api.PARSER is PARSER


def parse_bytes(data: bytes) -> list:
    return list(PARSER.parse(data.splitlines(keepends=True), "usage.json"))


def parse_file(path: Path) -> list:
    with path.open("rb") as fh:
        return list(PARSER.parse(fh, path.name))


def parsed(events: list) -> list[Parsed]:
    return [e for e in events if isinstance(e, Parsed)]


def test_it_is_registered_under_its_format_name():
    assert PARSER.name == "openai_usage_api"
    assert PARSER.description


def test_the_real_ungrouped_export_imports_every_row_without_a_model():
    events = parse_file(COOKBOOK)
    records = parsed(events)
    assert len(events) == len(records) == 26
    assert {p.record.model for p in records} == {""}  # not grouped by model: unpriced later
    assert all(p.aggregate and p.merge == Merge.SUM for p in records)
    # SOURCES.md: input_tokens 16,951,009 include 168,128 cached tokens (section 0.1)
    assert sum(p.record.input_tokens for p in records) == 16_951_009 - 168_128
    assert sum(p.record.cache_read_tokens for p in records) == 168_128
    assert sum(p.record.output_tokens for p in records) == 729_421
    assert sum(p.record.requests for p in records) == 19_347
    # The first result object opens on line 7 of the pretty-printed file.
    assert records[0].line == 7


def test_it_converts_the_real_cookbook_rows_once_grouped_by_model():
    buckets = json.loads(COOKBOOK.read_text())
    for bucket in buckets:
        for result in bucket["results"]:
            result["model"] = "gpt-4o-mini-2024-07-18"
    jsonl = "\n".join(json.dumps(b) for b in buckets).encode()

    records = parsed(parse_bytes(jsonl))

    assert len(records) == 26
    assert all(p.aggregate and p.merge == Merge.SUM for p in records)
    # input_tokens 16,951,009 include 168,128 cached tokens (section 0.1).
    assert sum(p.record.input_tokens for p in records) == 16_951_009 - 168_128
    assert sum(p.record.cache_read_tokens for p in records) == 168_128
    assert sum(p.record.output_tokens for p in records) == 729_421
    assert sum(p.record.requests for p in records) == 19_347
    first = records[0]
    # A partial edge bucket keeps its real start; the end (exclusive) is in the key.
    assert first.record.timestamp == datetime.fromtimestamp(1736616660, tz=UTC)
    assert first.source_key.startswith("openai_usage:1736616660:1736640000:")
    assert first.line == 1  # JSON Lines: one bucket per line


def test_it_reads_a_list_of_pages_with_exact_totals():
    events = parse_file(GROUPED)
    records = parsed(events)
    assert len(events) == len(records) == 5
    assert sum(p.record.input_tokens for p in records) == 192_512
    assert sum(p.record.cache_read_tokens for p in records) == 19_796
    assert sum(p.record.cache_write_30m_tokens for p in records) == 4_012
    assert sum(p.record.output_tokens for p in records) == 34_890
    assert sum(p.record.requests for p in records) == 250
    assert {p.record.provider for p in records} == {"openai"}


def test_it_subtracts_cached_and_cache_write_tokens_from_input():
    # gpt-5.6-sol row, by hand: 24,120 input = 12,036 cached + 4,012 written + 8,072 uncached.
    row = next(p for p in parsed(parse_file(GROUPED)) if p.record.model == "gpt-5.6-sol")
    assert row.record.input_tokens == 24_120 - 12_036 - 4_012 == 8_072
    assert row.record.cache_read_tokens == 12_036
    assert row.record.cache_write_30m_tokens == 4_012
    assert row.record.prompt_tokens == 24_120
    assert row.record.service_tier == "flex"


def test_it_prices_batch_rows_at_the_batch_tier_and_maps_openai_tier_names():
    tiers = {(p.record.model, p.record.service_tier) for p in parsed(parse_file(GROUPED))}
    assert ("gpt-5-mini-2025-08-07", "batch") in tiers  # batch: true
    assert ("gpt-5-2025-08-07", "standard") in tiers  # "default"
    assert ("gpt-5-2025-08-07", "priority") in tiers
    assert ("gpt-4o-2024-08-06", "priority") in tiers  # "scale"


def test_the_source_key_holds_the_bucket_and_every_dimension_including_nulls():
    first = parsed(parse_file(GROUPED))[0]
    assert first.source_key == (
        'openai_usage:1772323200:1772409600:["gpt-5-2025-08-07","proj_alpha",null,null,'
        '"false","default"]'
    )
    assert first.record.timestamp == datetime(2026, 3, 1, tzinfo=UTC)
    assert first.line == 10  # the "{" opening the first result


def test_rows_with_identical_keys_are_marked_to_be_summed():
    page = json.loads(GROUPED.read_text())[1]
    twice = json.dumps([page, page]).encode()  # an overlapping re-export inside one file
    records = parsed(parse_bytes(twice))
    by_key = Counter(p.source_key for p in records)
    assert set(by_key.values()) == {2}
    assert all(p.merge == Merge.SUM for p in records)
    totals: Counter[str] = Counter()
    for p in records:
        totals[p.source_key] += p.record.output_tokens
    assert sorted(totals.values()) == [500, 1000]


def test_a_single_page_object_is_read():
    page = json.loads(GROUPED.read_text())[1]
    records = parsed(parse_bytes(json.dumps(page, indent=2).encode()))
    assert [p.record.model for p in records] == ["gpt-5-2025-08-07", "gpt-4o-2024-08-06"]


def test_a_bad_row_is_an_error_with_its_line_and_parsing_goes_on():
    bucket = {
        "object": "bucket",
        "start_time": 1772323200,
        "end_time": 1772409600,
        "results": [
            {"model": "gpt-5", "input_tokens": 10, "input_cached_tokens": 50},
            {"model": "gpt-5", "input_tokens": "12.0", "output_tokens": "1.5"},
            {"model": "gpt-5", "input_tokens": "12.0", "output_tokens": 3.0},
        ],
    }
    text = "\n".join([json.dumps(bucket), "{not json", json.dumps(bucket)]).encode()
    events = parse_bytes(text)
    assert [type(e) for e in events] == [LineError, LineError, Parsed, LineError] + [
        LineError,
        LineError,
        Parsed,
    ]
    errors = [e for e in events if isinstance(e, LineError)]
    assert [e.line for e in errors] == [1, 1, 2, 3, 3]
    assert "input_cached_tokens" in errors[0].reason
    assert "output_tokens" in errors[1].reason
    assert "invalid JSON" in errors[2].reason
    good = parsed(events)
    assert [(p.line, p.record.input_tokens, p.record.output_tokens) for p in good] == [
        (1, 12, 3),
        (3, 12, 3),
    ]


def test_a_truncated_document_is_one_error():
    text = GROUPED.read_bytes()[:-200]
    events = parse_bytes(text)
    assert [type(e) for e in events] == [LineError]
    assert "invalid JSON" in events[0].reason


def test_a_costs_api_page_is_refused_with_a_clear_reason():
    page = {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": 1772323200,
                "end_time": 1772409600,
                "results": [
                    {
                        "object": "organization.costs.result",
                        "amount": {"value": 0.895874, "currency": "usd"},
                        "line_item": "gpt-4o-2024-08-06, input",
                        "project_id": None,
                    }
                ],
            }
        ],
    }
    data = json.dumps(page).encode()
    assert PARSER.sniff(data, "costs.json")
    events = parse_bytes(data)
    assert len(events) == 1 and isinstance(events[0], LineError)
    assert "Costs API" in events[0].reason


def test_other_usage_endpoints_are_skipped_not_priced():
    bucket = {
        "start_time": 1772323200,
        "end_time": 1772409600,
        "results": [
            {"object": "organization.usage.embeddings.result", "input_tokens": 5, "model": "x"}
        ],
    }
    events = parse_bytes(json.dumps(bucket).encode())
    assert isinstance(events[0], Skipped) and "embeddings" in events[0].reason


def test_a_document_over_the_size_cap_is_refused():
    lines = [b"[\n"] + [b'{"a": 1},\n'] * 50 + [b"{}]\n"]
    events = list(iter_json(lines, max_bytes=100))
    assert len(events) == 1 and isinstance(events[0], LineError)
    assert "larger than" in events[0].reason


def test_it_recognises_its_samples_and_nothing_else_claims_them():
    for path in (COOKBOOK, GROUPED):
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name)
        assert [p.name for p in OTHERS if p.sniff(head, path.name)] == []


def test_it_does_not_claim_csv_or_other_json():
    assert not PARSER.sniff(b"start_time,end_time,num_model_requests\n", "x.csv")
    assert not PARSER.sniff(b'{"data": [{"starting_at": "2026-01-01T00:00:00Z"}]}', "x.json")
