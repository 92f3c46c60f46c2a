"""OpenRouter generations and Activity exports (log-formats.md section 4.2). Pure."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from apps.usage.formats import (
    anthropic_console_csv,
    anthropic_usage_report,
    litellm_spend_logs,
    openai_dashboard_csv,
    openai_usage_api,
)
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped
from apps.usage.formats.openrouter import PARSER, provider_of

DATA = Path(__file__).resolve().parents[2] / "data" / "usage" / "openrouter"
CASSETTE = DATA / "test_openrouter_web_search_tool_usage.yaml"
RESPONSE = DATA / "chat_completion_web_search.json"
GENERATIONS = DATA / "generations.jsonl"
GENERATION_CSV = DATA / "activity_generations.csv"
DAILY_CSV = DATA / "activity_daily.csv"
ACTIVITY_JSON = DATA / "activity.json"
OTHERS = [
    m.PARSER
    for m in (
        openai_usage_api,
        openai_dashboard_csv,
        anthropic_usage_report,
        anthropic_console_csv,
        litellm_spend_logs,
    )
]
SONNET_GEN = "openrouter:gen-1772360130-Qk2vT9xLmP4rWn8sYc1A"


def parse_file(path: Path) -> list:
    with path.open("rb") as fh:
        return list(PARSER.parse(fh, path.name))


def parse_text(text: str, name: str = "x") -> list:
    return list(PARSER.parse(text.encode().splitlines(keepends=True), name))


def test_it_is_registered_under_its_format_name():
    assert PARSER.name == "openrouter"
    assert PARSER.description


def test_the_transcription_matches_the_real_cassette():
    body = json.loads(RESPONSE.read_text())
    cassette = CASSETTE.read_text()
    assert f"id: {body['id']}" in cassette
    for key in ("prompt_tokens", "completion_tokens", "cost"):
        assert f"{key}: {body['usage'][key]}" in cassette
    assert "web_search_requests: 1" in cassette


def test_it_reads_the_real_chat_response_with_its_billed_cost():
    (event,) = parse_file(RESPONSE)
    assert isinstance(event, Parsed)
    record = event.record
    assert (record.provider, record.model) == ("openai", "openai/gpt-4.1-mini")
    assert (record.input_tokens, record.cache_read_tokens, record.output_tokens) == (8_174, 0, 30)
    assert record.billed_cost_usd == Decimal("0.0133176")
    assert record.web_search_calls == 1
    assert record.service_tier == "standard"  # "default"
    assert record.timestamp == datetime.fromtimestamp(1786465024, tz=UTC)
    assert event.source_key == "openrouter:gen-1786465024-LTuiAe3JFScRdoQQj2E3"
    assert (event.merge, event.aggregate, event.line) == (Merge.LARGEST, False, 1)


def test_it_reads_generation_objects_and_responses_with_exact_buckets():
    events = parse_file(GENERATIONS)
    assert [type(e) for e in events] == [Parsed, Parsed, Skipped, Parsed, Parsed]
    generation, chunk, _, byok, written = (e for e in events)
    # /generation: native counts, prompt 1,532 includes 1,111 cached (writes are not split out).
    assert (generation.record.input_tokens, generation.record.cache_read_tokens) == (421, 1_111)
    assert generation.record.output_tokens == 33
    assert generation.record.billed_cost_usd == Decimal("0.0024048")
    # The stream's usage: 1,532 = 3 uncached + 1,111 read + 418 written (Anthropic 5-minute).
    assert (chunk.record.input_tokens, chunk.record.cache_read_tokens) == (3, 1_111)
    assert chunk.record.cache_write_5m_tokens == 418
    assert chunk.record.provider == "anthropic"
    # Both are one request: the same key, and the import keeps one of them.
    assert generation.source_key == chunk.source_key == SONNET_GEN
    assert generation.merge == chunk.merge == Merge.LARGEST
    # BYOK: OpenRouter's fee plus the upstream charge; 9,463 prompt of which 8,320 cached.
    assert byok.record.billed_cost_usd == Decimal("0.000453") + Decimal("0.00906875")
    assert (byok.record.input_tokens, byok.record.cache_read_tokens) == (1_143, 8_320)
    assert (byok.record.output_tokens, byok.record.reasoning_tokens) == (660, 512)
    # OpenAI cache writes go to the 30-minute bucket: 4,020 = 8 uncached + 4,012 written.
    assert (written.record.input_tokens, written.record.cache_write_30m_tokens) == (8, 4_012)


def test_a_stream_chunk_without_usage_is_skipped():
    skipped = parse_file(GENERATIONS)[2]
    assert skipped.line == 3 and "without usage" in skipped.reason


def test_it_reads_the_per_generation_activity_csv():
    events = parse_file(GENERATION_CSV)
    assert [type(e) for e in events] == [Parsed] * 3
    sonnet, free, cancelled = (e.record for e in events)
    assert events[0].source_key == SONNET_GEN  # the same key as the JSON records
    assert (sonnet.input_tokens, sonnet.cache_read_tokens, sonnet.output_tokens) == (421, 1_111, 33)
    assert sonnet.model == "anthropic/claude-4.5-sonnet-20250929"
    assert sonnet.timestamp == datetime(2026, 3, 1, 10, 15, 30, 123000, tzinfo=UTC)
    assert (free.model, free.billed_cost_usd, free.reasoning_tokens) == (
        "openai/gpt-oss-20b:free",
        Decimal(0),
        128,
    )
    assert cancelled.billed_cost_usd == Decimal("0.00051")
    assert sum(r.input_tokens + r.cache_read_tokens for r in (sonnet, free, cancelled)) == 4_400


def test_it_reads_the_daily_activity_csv_as_aggregates():
    events = parse_file(DAILY_CSV)
    assert [type(e) for e in events] == [Parsed] * 3
    assert all(e.aggregate and e.merge == Merge.SUM for e in events)
    records = [e.record for e in events]
    assert sum(r.input_tokens for r in records) == 1_246_029
    assert sum(r.output_tokens for r in records) == 25_461
    assert sum(r.reasoning_tokens for r in records) == 4_096
    assert sum(r.requests for r in records) == 70
    assert sum(r.billed_cost_usd for r in records) == Decimal("0.5017176")  # BYOK included
    assert records[0].timestamp == datetime(2026, 3, 1, tzinfo=UTC)


def test_identical_daily_rows_share_a_key_and_are_summed():
    header = DAILY_CSV.read_text().splitlines()[0]
    row = '"2026-03-02 00:00:00","openai/gpt-4.1-mini","0.01","0","2","100","10","0"'
    events = parse_text(f"{header}\n{row}\n{row}\n", "activity.csv")
    assert len({e.source_key for e in events}) == 1
    assert sum(e.record.requests for e in events) == 4
    assert sum(e.record.billed_cost_usd for e in events) == Decimal("0.02")


def test_it_reads_the_activity_api_json():
    events = parse_file(ACTIVITY_JSON)
    assert Counter(type(e).__name__ for e in events) == {"Parsed": 2}
    assert sum(e.record.billed_cost_usd for e in events) == Decimal("0.4884")
    assert sum(e.record.requests for e in events) == 69
    assert events[0].source_key.startswith("openrouter_activity:2026-03-01:")
    assert events[0].line == 3


def test_the_provider_is_the_slug_prefix():
    assert provider_of("anthropic/claude-sonnet-4.5") == "anthropic"
    assert provider_of("x-ai/grok-4") == "xai"
    assert provider_of("gpt-4o") == "openrouter"


def test_bad_records_are_errors_with_their_line_and_parsing_goes_on():
    good = json.loads(RESPONSE.read_text())
    lines = [
        json.dumps(good),
        "{truncated",
        json.dumps({**good, "usage": {**good["usage"], "completion_tokens": -5}}),
        json.dumps({**good, "id": None}),
        json.dumps(
            {
                "id": "gen-1",
                "model": "a/b",
                "created_at": "2026-03-01T00:00:00Z",
                "native_tokens_prompt": 5,
                "native_tokens_cached": 9,
            }
        ),
        json.dumps({"hello": "world"}),
        json.dumps(good),
    ]
    events = parse_text("\n".join(lines), "g.jsonl")
    assert [type(e) for e in events] == [Parsed] + [LineError] * 5 + [Parsed]
    assert [e.line for e in events] == [1, 2, 3, 4, 5, 6, 7]
    reasons = [e.reason for e in events[1:6]]
    assert "invalid JSON" in reasons[0]
    assert "completion_tokens" in reasons[1]
    assert "id" in reasons[2]
    assert "native_tokens_cached" in reasons[3]
    assert "not an OpenRouter" in reasons[4]


def test_a_bad_csv_row_is_an_error():
    header = GENERATION_CSV.read_text().splitlines()[0]
    row = "gen-x,yesterday,0.1,0,0,0,0,10,1,0,0,openai/gpt-5,OpenAI,standard,false,true"
    (event,) = parse_text(f"{header}\n{row}\n", "activity.csv")
    assert isinstance(event, LineError) and "created_at" in event.reason and event.line == 2


def test_it_recognises_its_samples_and_nothing_else_claims_them():
    for path in (RESPONSE, GENERATIONS, GENERATION_CSV, DAILY_CSV, ACTIVITY_JSON):
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name), path.name
        assert [p.name for p in OTHERS if p.sniff(head, path.name)] == []


def test_it_does_not_claim_plain_openai_responses_or_litellm_rows():
    openai_response = b'{"id": "chatcmpl-1", "object": "chat.completion", "usage": {}}'
    assert not PARSER.sniff(openai_response, "r.json")
    litellm = b'[{"request_id": "gen-1", "id": "gen-1", "spend": 0.1, "startTime": "x"}]'
    assert not PARSER.sniff(litellm, "spend.json")
