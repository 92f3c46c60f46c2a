"""LiteLLM proxy spend logs (log-formats.md section 4.3). Pure: no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from apps.usage.formats import (
    anthropic_console_csv,
    anthropic_usage_report,
    openai_dashboard_csv,
    openai_usage_api,
    openrouter,
)
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped
from apps.usage.formats.litellm_spend_logs import PARSER

DATA = Path(__file__).resolve().parents[2] / "data" / "usage" / "litellm_spend_logs"
CSV_FILE = DATA / "spend_logs.csv"
JSON_FILE = DATA / "spend_logs.json"
OTHERS = [
    m.PARSER
    for m in (
        openai_usage_api,
        openai_dashboard_csv,
        anthropic_usage_report,
        anthropic_console_csv,
        openrouter,
    )
]


def parse_file(path: Path) -> list:
    with path.open("rb") as fh:
        return list(PARSER.parse(fh, path.name))


def parse_rows(rows: list[dict]) -> list:
    text = "\n".join(json.dumps(r) for r in rows)
    return list(PARSER.parse(text.encode().splitlines(keepends=True), "spend.jsonl"))


def parsed(events: list) -> list[Parsed]:
    return [e for e in events if isinstance(e, Parsed)]


def row(**fields: object) -> dict:
    base = {
        "request_id": "req-1",
        "startTime": "2026-03-01T10:00:00Z",
        "model": "gpt-4o-mini",
        "custom_llm_provider": "openai",
        "prompt_tokens": 10,
        "completion_tokens": 2,
        "spend": 0.001,
    }
    return {**base, **fields}


def test_it_is_registered_under_its_format_name():
    assert PARSER.name == "litellm_spend_logs"
    assert PARSER.description


def test_it_reads_the_csv_export_with_exact_totals():
    events = parse_file(CSV_FILE)
    assert [type(e) for e in events] == [Parsed] * 4 + [Skipped] * 2 + [Parsed]
    records = [p.record for p in parsed(events)]
    assert sum(r.input_tokens for r in records) == 2_357
    assert sum(r.cache_read_tokens for r in records) == 10_542
    assert sum(r.cache_write_5m_tokens for r in records) == 418
    assert sum(r.cache_write_30m_tokens for r in records) == 4_012
    assert sum(r.output_tokens for r in records) == 1_183
    assert sum(r.billed_cost_usd for r in records) == Decimal("0.01823385")
    assert all(p.merge == Merge.LARGEST and not p.aggregate for p in parsed(events))


def test_current_litellm_anthropic_rows_include_the_cache_in_prompt_tokens():
    first = parsed(parse_file(CSV_FILE))[0]
    # prompt_tokens 1,532 = 3 uncached + 1,111 read + 418 written (5-minute, from the split).
    record = first.record
    assert (record.input_tokens, record.cache_read_tokens, record.cache_write_5m_tokens) == (
        3,
        1_111,
        418,
    )
    assert (record.output_tokens, record.provider, record.model) == (
        33,
        "anthropic",
        "claude-sonnet-4-5-20250929",
    )
    assert record.region == ""  # "not_available"
    assert record.session_id == "sess-a"
    assert record.timestamp == datetime(2026, 3, 1, 10, 15, 30, 123000, tzinfo=UTC)
    assert first.source_key == "litellm:chatcmpl-0b7f4c1e-5a2d-4e8b-9c3f-1d2e3f4a5b6c"
    assert first.line == 2


def test_older_litellm_anthropic_rows_leave_the_cache_out_of_prompt_tokens():
    second = parsed(parse_file(CSV_FILE))[1].record
    # prompt_tokens 3 is smaller than the 1,111 cache reads: they were not inside it.
    assert (second.input_tokens, second.cache_read_tokens, second.output_tokens) == (3, 1_111, 406)


def test_openai_prompt_tokens_include_cached_and_written_tokens():
    records = [p.record for p in parsed(parse_file(CSV_FILE))]
    written = records[2]
    assert (written.input_tokens, written.cache_write_30m_tokens) == (4_020 - 4_012, 4_012)
    responses = records[4]
    assert (responses.input_tokens, responses.cache_read_tokens) == (9_463 - 8_320, 8_320)
    assert (responses.output_tokens, responses.reasoning_tokens) == (660, 512)
    assert responses.billed_cost_usd == Decimal("0.00906875")


def test_without_a_usage_object_all_prompt_tokens_are_uncached_input():
    plain = parsed(parse_file(CSV_FILE))[3].record
    assert (plain.input_tokens, plain.cache_read_tokens, plain.output_tokens) == (1_200, 0, 80)
    assert plain.timestamp == datetime(2026, 3, 1, 10, 18, 30, tzinfo=UTC)  # zone-less = UTC


def test_response_cache_hits_and_failed_requests_are_skipped():
    skipped = [e for e in parse_file(CSV_FILE) if isinstance(e, Skipped)]
    assert [e.line for e in skipped] == [6, 7]
    assert "response cache" in skipped[0].reason
    assert "failed" in skipped[1].reason


def test_it_reads_the_spend_logs_api_json_with_exact_totals():
    events = parse_file(JSON_FILE)
    records = [p.record for p in parsed(events)]
    assert len(events) == len(records) == 3
    assert sum(r.input_tokens for r in records) == 803
    assert sum(r.cache_read_tokens for r in records) == 1_711
    assert sum(r.cache_write_5m_tokens for r in records) == 518
    assert sum(r.cache_write_1h_tokens for r in records) == 2_000
    assert sum(r.output_tokens for r in records) == 173
    bedrock = records[1]
    assert (bedrock.provider, bedrock.input_tokens, bedrock.cache_write_1h_tokens) == (
        "bedrock",
        500,
        2_000,
    )
    assert bedrock.billed_cost_usd == Decimal("0.0153")
    # The same request in both exports has the same key: imported once.
    csv_keys = {p.source_key for p in parsed(parse_file(CSV_FILE))}
    assert parsed(events)[0].source_key in csv_keys


def test_only_additional_usage_values_are_read_with_the_rows_prompt_tokens():
    record = parsed(parse_file(JSON_FILE))[2].record
    assert (record.input_tokens, record.cache_read_tokens, record.cache_write_5m_tokens) == (
        300,
        600,
        100,
    )


def test_a_repeated_request_id_is_one_request_not_a_sum():
    events = parse_rows([row(completion_tokens=2), row(completion_tokens=9)])
    assert {e.source_key for e in events} == {"litellm:req-1"}
    assert {e.merge for e in events} == {Merge.LARGEST}


def test_the_model_group_is_used_when_model_is_blank_and_raw_provider_usage_is_read():
    usage = {"input_tokens": 5, "cache_read_input_tokens": 50, "output_tokens": 7}
    (event,) = parse_rows(
        [
            row(
                model="",
                model_group="claude-haiku-4-5",
                custom_llm_provider="anthropic",
                metadata={"usage_object": usage},
            )
        ]
    )
    record = event.record
    assert record.model == "claude-haiku-4-5"
    assert (record.input_tokens, record.cache_read_tokens, record.output_tokens) == (5, 50, 7)


def test_bad_rows_are_errors_with_their_line_and_parsing_goes_on():
    lines = [
        json.dumps(row(request_id="")),
        json.dumps(row(startTime="soon")),
        "{oops",
        json.dumps(row(prompt_tokens=-4)),
        json.dumps(row(spend="lots")),
        json.dumps(row(model="", model_group=None)),
        json.dumps(
            row(
                metadata={
                    "usage_object": {
                        "prompt_tokens": 10,
                        "prompt_tokens_details": {"cached_tokens": 4},
                        "service_tier": "gold",
                    }
                }
            )
        ),
        json.dumps(row()),
    ]
    events = list(PARSER.parse([(x + "\n").encode() for x in lines], "spend.jsonl"))
    assert [type(e) for e in events] == [LineError] * 7 + [Parsed]
    assert [e.line for e in events] == list(range(1, 9))
    reasons = [e.reason for e in events[:7]]
    assert "request_id" in reasons[0]
    assert "startTime" in reasons[1]
    assert "invalid JSON" in reasons[2]
    assert "prompt_tokens" in reasons[3]
    assert "spend" in reasons[4]
    assert "model" in reasons[5]
    assert "service tier" in reasons[6]


def test_a_bad_csv_row_is_an_error_and_the_next_row_is_read():
    lines = CSV_FILE.read_text().splitlines(keepends=True)
    broken = lines[4].replace(",1200,80,", ",12x0,80,", 1)
    assert broken != lines[4]
    events = list(PARSER.parse([x.encode() for x in [lines[0], broken, lines[1]]], "s.csv"))
    assert [type(e) for e in events] == [LineError, Parsed]
    assert events[0].line == 2 and "prompt_tokens" in events[0].reason


def test_it_recognises_its_samples_and_nothing_else_claims_them():
    for path in (CSV_FILE, JSON_FILE):
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name)
        assert [p.name for p in OTHERS if p.sniff(head, path.name)] == []


def test_it_does_not_claim_other_files():
    assert not PARSER.sniff(b"request_id,model,prompt_tokens\n", "x.csv")
    assert not PARSER.sniff(b'{"id": "gen-1", "usage": {"cost": 1}}', "x.json")


def test_writes_not_reported_as_1_hour_are_5_minute_writes():
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 5,
        "cache_creation_input_tokens": 600,
        "cache_read_input_tokens": 0,
        "prompt_tokens_details": {
            "cache_creation_token_details": {
                "ephemeral_5m_input_tokens": None,
                "ephemeral_1h_input_tokens": 200,
            }
        },
    }
    (event,) = parse_rows([row(custom_llm_provider="anthropic", metadata={"usage_object": usage})])
    record = event.record
    # 1,000 prompt = 400 uncached + 400 five-minute + 200 one-hour writes.
    assert (record.input_tokens, record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (
        400,
        400,
        200,
    )
