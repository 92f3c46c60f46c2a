"""Claude Code transcripts: dedupe, cache buckets, traps (log-formats.md section 1)."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from apps.usage.formats import claude_code, detect
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped
from apps.usage.formats.claude_code import PARSER
from apps.usage.sources import Limits, iter_sources
from tests.usage.helpers import (
    BIG_SESSION,
    CLAUDE,
    CLAUDE_PROJECTS,
    errors,
    merge,
    parsed,
    read_lines,
    skipped,
)


def parse_path(path: Path) -> list:
    return list(PARSER.parse(read_lines(path), path.name))


def parse_tree(root: Path) -> list:
    events = []
    for source in iter_sources([root]):
        events += PARSER.parse(source.open_lines(), source.filename)
    return events


def assistant_line(**overrides) -> bytes:
    """One assistant line shaped like Claude Code v2.1.39's; overrides patch the JSON."""
    line = {
        "parentUuid": "p-1",
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/USER/proj",
        "sessionId": "sess-1",
        "version": "2.1.39",
        "message": {
            "model": "claude-sonnet-4-5-20250929",
            "id": "msg_01Test",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {
                "input_tokens": 10,
                "cache_creation_input_tokens": 300,
                "cache_read_input_tokens": 5000,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 100,
                    "ephemeral_1h_input_tokens": 200,
                },
                "output_tokens": 42,
                "service_tier": "standard",
            },
        },
        "requestId": "req_01Test",
        "type": "assistant",
        "uuid": "line-uuid-1",
        "timestamp": "2026-02-12T15:36:39.367Z",
    }
    for path, value in overrides.items():
        target = line
        *parents, leaf = path.split(".")
        for key in parents:
            target = target[key]
        if value is ...:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def one(line: bytes):
    (event,) = PARSER.parse([line], "sess-1.jsonl")
    return event


# --------------------------------------------------------------------------- real samples


def test_projects_folder_yields_221_unique_responses_after_keeping_largest_snapshot():
    kept = merge(parsed(parse_tree(CLAUDE_PROJECTS)))
    assert len(kept) == 221  # 217 + 3 + 1 (tests/data/usage/claude_code/README.md)


def test_projects_folder_parses_without_errors():
    events = parse_tree(CLAUDE_PROJECTS)
    assert errors(events) == []
    assert len(events) == 2385 + 40 + 2  # one event per line


def test_big_session_per_model_totals_equal_sources_md():
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for event in merge(parsed(parse_path(BIG_SESSION))).values():
        r = event.record
        writes = r.cache_write_5m_tokens + r.cache_write_1h_tokens
        row = totals[r.model]
        for i, n in enumerate((r.input_tokens, r.output_tokens, writes, r.cache_read_tokens)):
            row[i] += n
    assert dict(totals) == {
        "claude-opus-4-6": [92, 19_588, 95_336, 5_620_167],
        "claude-haiku-4-5-20251001": [150, 29_879, 141_785, 10_933_461],
    }


def test_big_session_has_408_assistant_lines_collapsing_to_217_responses():
    lines = parsed(parse_path(BIG_SESSION))
    assert len(lines) == 408
    assert len(merge(lines)) == 217
    assert all(e.merge == Merge.LARGEST and not e.aggregate for e in lines)


def test_summing_every_snapshot_would_overcount_output_and_cache_reads():
    # The regression SOURCES.md gives: without dedupe output is 50,065 (not 49,467) and
    # cache reads 29,979,352 (not 16,553,628).
    lines = parsed(parse_path(BIG_SESSION))
    assert sum(e.record.output_tokens for e in lines) == 50_065
    assert sum(e.record.cache_read_tokens for e in lines) == 29_979_352
    kept = merge(lines).values()
    assert sum(e.record.output_tokens for e in kept) == 49_467
    assert sum(e.record.cache_read_tokens for e in kept) == 16_553_628


def test_big_session_cache_writes_are_all_five_minute_writes():
    kept = merge(parsed(parse_path(BIG_SESSION))).values()
    assert sum(e.record.cache_write_1h_tokens for e in kept) == 0
    assert sum(e.record.cache_write_5m_tokens for e in kept) == 95_336 + 141_785


def test_subagent_usage_embedded_in_progress_lines_is_not_counted():
    events = parse_path(BIG_SESSION)
    # 12 agent_progress lines embed copies of claude-sonnet-4-5 messages with usage...
    embedded = [
        n
        for n, line in enumerate(read_lines(BIG_SESSION), start=1)
        if b'"type":"progress"' in line and b'"usage"' in line
    ]
    assert len(embedded) == 12
    by_line = {e.line: e for e in events}
    assert all(isinstance(by_line[n], Skipped) for n in embedded)
    # ...and none of it becomes a record of the main session.
    assert {e.record.model for e in parsed(events)} == {
        "claude-opus-4-6",
        "claude-haiku-4-5-20251001",
    }
    # The sub-agent's own file is where its 3 responses are counted, once.
    sub = next(CLAUDE_PROJECTS.glob("*/*/subagents/agent-aac57f5.jsonl"))
    sub_kept = merge(parsed(parse_path(sub)))
    assert len(sub_kept) == 3
    assert {e.record.model for e in sub_kept.values()} == {"claude-sonnet-4-5-20250929"}


def test_short_fixture_uses_the_one_hour_split():
    kept = merge(parsed(parse_path(CLAUDE / "fixtures" / "short.jsonl")))
    assert len(kept) == 1  # 5 assistant lines, 1 response
    (event,) = kept.values()
    r = event.record
    assert r.cache_write_1h_tokens == 13_835
    assert r.cache_write_5m_tokens == 0
    assert r.input_tokens == 3
    assert r.cache_read_tokens == 11_515
    assert r.model == "claude-opus-4-6"
    assert (
        event.source_key == "claude_code:msg_01MKH1ccEGrZGNPvu8pYiiQa:req_011CY15QS2LGwAeBxdfa6e1V"
    )
    assert r.session_id == "55604662-cf2a-4331-851a-ec234028f8ca"
    assert r.request_id == "req_011CY15QS2LGwAeBxdfa6e1V"
    assert r.provider == "anthropic"
    assert r.service_tier == "standard"
    assert r.region == ""  # inference_geo "not_available" is no region


@pytest.mark.parametrize(
    ("fixture", "lines", "responses"),
    [("short.jsonl", 5, 1), ("tool_heavy.jsonl", 9, 4), ("subagent.jsonl", 28, 12)],
)
def test_fixture_assistant_lines_collapse_to_the_documented_responses(fixture, lines, responses):
    events = parse_path(CLAUDE / "fixtures" / fixture)
    assert errors(events) == []
    assert len(parsed(events)) == lines
    assert len(merge(parsed(events))) == responses
    assert all(e.record.cache_write_1h_tokens > 0 for e in merge(parsed(events)).values())


def test_big_session_reads_server_tool_use_which_reports_no_web_searches():
    # The sample's server_tool_use objects all say web_search_requests: 0; the mapping of a
    # non-zero count is checked in test_assistant_line_maps_every_field.
    assert any(b'"server_tool_use"' in line for line in read_lines(BIG_SESSION))
    kept = merge(parsed(parse_path(BIG_SESSION))).values()
    assert sum(e.record.web_search_calls for e in kept) == 0


def test_the_bundled_projects_folder_yields_221_unique_responses():
    # The real sample (provenance in tests/data/usage/claude_code/README.md): 217 + 3 + 1.
    assert len(merge(parsed(parse_tree(CLAUDE_PROJECTS)))) == 221


def test_parser_gives_the_same_results_with_the_stdlib_json(monkeypatch):
    import json as stdlib_json

    # `loads` is the fallback behind the msgspec fast path: send every line to it
    monkeypatch.setattr(claude_code, "_fast_event", lambda *args: None)
    monkeypatch.setattr(claude_code, "loads", stdlib_json.loads)
    events = parse_tree(CLAUDE_PROJECTS)
    assert len(merge(parsed(events))) == 221
    assert errors(events) == []
    monkeypatch.undo()
    bad = CLAUDE / "bad_input.jsonl"
    with_orjson = [(type(e), e.line) for e in parse_path(bad)]
    monkeypatch.setattr(claude_code, "_fast_event", lambda *args: None)
    monkeypatch.setattr(claude_code, "loads", stdlib_json.loads)
    assert [(type(e), e.line) for e in parse_path(bad)] == with_orjson


def sample_lines() -> list[tuple[str, list[bytes]]]:
    """Every sample transcript, plus assistant lines with each field the parser reads varied."""
    files = [(p.name, read_lines(p)) for p in sorted(CLAUDE.rglob("*.jsonl"))]
    variants = [
        assistant_line(),
        assistant_line(costUSD=0.0123, **{"message.usage.inference_geo": " EU "}),
        assistant_line(costUSD=3, requestId=None, sessionId=""),
        assistant_line(costUSD=True),
        assistant_line(costUSD="1"),
        assistant_line(costUSD=10**30),
        assistant_line(**{"message.id": ..., "uuid": ...}),
        assistant_line(**{"message.id": 5}),
        assistant_line(**{"message.model": "  claude-opus-4-6  "}),
        assistant_line(**{"message.model": 5}),
        assistant_line(**{"message.model": "<synthetic>", "message.usage": 5}),
        assistant_line(isApiErrorMessage=True, **{"message.model": ""}),
        assistant_line(isApiErrorMessage="yes"),
        assistant_line(message=None),
        assistant_line(**{"message.usage": None}),
        assistant_line(**{"message.usage": []}),
        assistant_line(**{"message.usage.input_tokens": 10**20}),
        assistant_line(**{"message.usage.input_tokens": -1}),
        assistant_line(**{"message.usage.input_tokens": 1.5}),
        assistant_line(**{"message.usage.input_tokens": 7.0}),
        assistant_line(**{"message.usage.input_tokens": None}),
        assistant_line(**{"message.usage.input_tokens": "7"}),
        assistant_line(**{"message.usage.output_tokens": 100_000_001}),
        assistant_line(**{"message.usage.cache_creation": {}}),
        assistant_line(**{"message.usage.cache_creation": None}),
        assistant_line(**{"message.usage.cache_creation.ephemeral_1h_input_tokens": -5}),
        assistant_line(**{"message.usage.cache_creation_input_tokens": "x"}),
        assistant_line(**{"message.usage.server_tool_use": {}}),
        assistant_line(**{"message.usage.server_tool_use": {"web_search_requests": 3}}),
        assistant_line(**{"message.usage.server_tool_use": {"web_search_requests": -3}}),
        assistant_line(**{"message.usage.server_tool_use": "x"}),
        assistant_line(**{"message.usage.service_tier": " Priority "}),
        assistant_line(**{"message.usage.service_tier": 5}),
        assistant_line(**{"message.usage.speed": "fast"}),
        assistant_line(**{"message.usage.inference_geo": 7}),
        assistant_line(timestamp="2026-02-12T15:36:39+02:00"),
        assistant_line(timestamp="2026-02-12"),
        assistant_line(timestamp=1770000000),
        assistant_line(timestamp=None),
        assistant_line(type="progress"),
        assistant_line(type=["assistant"]),
        assistant_line()[:-1] + b"\r\n",
        assistant_line().replace(b'"ok"', b'"caf\xc3\xa9 \xe4\xb8\xad"'),
        assistant_line().replace(b'"ok"', b'"caf\xe9"'),
        assistant_line().replace(b'"ok"', b'"\xed\xa0\x80"'),
        assistant_line().replace(b'"ok"', b'"\\ud800"'),
        assistant_line().replace(b'"requestId"', b'"type":"user","requestId"'),
        assistant_line()[:200] + b"\n",
        b'["assistant", 1]\n',
        b'"assistant"\n',
        b"\n",
    ]
    return [*files, ("variants.jsonl", variants)]


def event_facts(event) -> tuple:
    if isinstance(event, Parsed):
        return (Parsed, event.line, event.record, event.source_key, event.merge, event.aggregate)
    return (type(event), event.line, event.reason)


def test_fast_path_gives_exactly_the_events_of_the_orjson_path(monkeypatch):
    fast = {
        name: [event_facts(e) for e in PARSER.parse(lines, name)] for name, lines in sample_lines()
    }
    assert sum(isinstance(e, tuple) and e[0] is Parsed for f in fast.values() for e in f) > 400
    monkeypatch.setattr(claude_code, "_fast_event", lambda *args: None)
    slow = {
        name: [event_facts(e) for e in PARSER.parse(lines, name)] for name, lines in sample_lines()
    }
    assert fast == slow


def test_fast_path_answers_for_clean_lines_and_leaves_bad_ones_to_orjson():
    clean = claude_code._fast_event(1, assistant_line(), "sess-1.jsonl")
    assert isinstance(clean, Parsed) and clean == one(assistant_line())
    for bad in (
        assistant_line(**{"message.usage.input_tokens": -1}),
        assistant_line(timestamp="yesterday"),
        assistant_line().replace(b'"ok"', b'"caf\xe9"'),
        assistant_line()[:200] + b"\n",
    ):
        assert claude_code._fast_event(1, bad, "sess-1.jsonl") is None
        assert isinstance(one(bad), LineError)


def test_absurd_values_inside_skipped_content_are_not_errors_as_documented():
    # Module docstring: msgspec skips content without converting it, so two things orjson
    # refuses there (nesting past 1,024 levels, a number past the float range) do not make
    # the line an error; they cannot change the bill. Everywhere else the paths agree.
    for content in (b"[" * 2000 + b"]" * 2000, b"1e999"):
        event = one(assistant_line().replace(b'"ok"', content))
        assert isinstance(event, Parsed) and event.record == one(assistant_line()).record
    bad_usage = assistant_line().replace(b'"output_tokens":42', b'"output_tokens":1e999')
    assert isinstance(one(bad_usage), LineError)


def test_records_built_by_the_fast_constructor_equal_the_dataclass_ones():
    from apps.rating.engine import UsageRecord

    event = one(assistant_line(costUSD=0.5, **{"message.usage.inference_geo": "us"}))
    r = event.record
    assert type(r) is UsageRecord and type(event) is Parsed
    rebuilt = UsageRecord(**{f: getattr(r, f) for f in UsageRecord.__dataclass_fields__})
    assert r == rebuilt and hash(r) == hash(rebuilt) and repr(r) == repr(rebuilt)
    assert event == Parsed(rebuilt, event.source_key, event.line, event.merge, event.aggregate)


def test_parse_runs_is_parse_with_stretches_of_skipped_lines_counted():
    for name, lines in sample_lines():
        expanded = []
        for item in PARSER.parse_runs(lines, name):
            if type(item) is int:
                assert item > 0
                start = len(expanded) + 1
                expanded += [
                    Skipped(n, claude_code.SKIP_NOT_ASSISTANT) for n in range(start, start + item)
                ]
            else:
                assert item.line == len(expanded) + 1
                expanded.append(item)
        assert expanded == list(PARSER.parse(lines, name)), name


# --------------------------------------------------------------------------- bad input


def test_bad_input_corpus_reports_each_line_and_keeps_the_valid_ones():
    events = parse_path(CLAUDE / "bad_input.jsonl")
    by_line = {e.line: e for e in events}
    assert len(events) == 13
    expected_errors = {
        2: "invalid JSON",
        3: "not valid UTF-8",
        4: "usage.output_tokens must not be negative",
        5: "usage.input_tokens must be a whole number",
        6: "timestamp: is required",
        11: "invalid JSON",
        12: "more than 100,000,000 tokens",
        13: "probably a truncated line",
    }
    assert {e.line for e in errors(events)} == set(expected_errors)
    for line, reason in expected_errors.items():
        assert reason in by_line[line].reason, (line, by_line[line].reason)
    assert [e.line for e in skipped(events)] == [7, 9, 10]
    assert "synthetic" in by_line[9].reason
    # The two valid snapshots of msg_A parse; the larger (final) one is kept.
    assert [e.line for e in parsed(events)] == [1, 8]
    (kept,) = merge(parsed(events)).values()
    assert kept.line == 8
    assert kept.record.output_tokens == 40


def test_seventy_megabyte_line_is_an_error_and_the_next_line_still_parses(tmp_path):
    huge = b'{"type":"user","message":{"content":"' + b"x" * (70 * 1024 * 1024) + b'"}}\n'
    path = tmp_path / "session.jsonl"
    path.write_bytes(assistant_line() + huge + assistant_line(**{"message.id": "msg_02"}))
    (source,) = iter_sources([path])
    events = list(PARSER.parse(source.open_lines(), source.filename))
    assert [type(e) for e in events] == [Parsed, LineError, Parsed]
    assert events[1].line == 2
    assert "longer than the 67,108,864-byte limit" in events[1].reason
    assert "73,400,3" in events[1].reason  # the full length is reported


def test_line_over_the_limit_given_directly_is_an_error_not_parsed():
    huge = b'{"type":"assistant",' + b" " * (64 * 1024 * 1024) + b"}\n"
    events = list(PARSER.parse([huge, assistant_line()], "x.jsonl"))
    assert isinstance(events[0], LineError) and "longer than" in events[0].reason
    assert isinstance(events[1], Parsed)


def test_oversized_marker_from_sources_is_reported_with_its_line_number(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(assistant_line() + b'{"type":"user","x":"' + b"y" * 5000 + b'"}\n')
    (source,) = iter_sources([path], Limits(max_line_bytes=1000))
    events = list(PARSER.parse(source.open_lines(), source.filename))
    assert isinstance(events[0], Parsed)
    assert isinstance(events[1], LineError) and events[1].line == 2


def test_json_that_is_not_an_object_is_an_error():
    event = one(b'["assistant", 1]\n')
    assert isinstance(event, LineError) and "not a JSON object" in event.reason


def test_wrong_type_of_usage_or_message_is_an_error():
    assert "message.usage must be an object" in one(assistant_line(**{"message.usage": 5})).reason
    assert "'message' object" in one(assistant_line(message="hello")).reason
    assert (
        "cache_creation must be an object"
        in one(assistant_line(**{"message.usage.cache_creation": [1]})).reason
    )


def test_bad_timestamp_is_an_error_naming_the_value():
    event = one(assistant_line(timestamp="yesterday"))
    assert isinstance(event, LineError)
    assert "yesterday" in event.reason


def test_boolean_count_is_an_error():
    event = one(assistant_line(**{"message.usage.output_tokens": True}))
    assert isinstance(event, LineError) and "whole number" in event.reason


def test_whole_float_count_is_accepted():
    event = one(assistant_line(**{"message.usage.output_tokens": 42.0}))
    assert isinstance(event, Parsed) and event.record.output_tokens == 42


# --------------------------------------------------------------------------- fields


def test_assistant_line_maps_every_field():
    event = one(
        assistant_line(
            costUSD=0.0123,
            **{
                "message.usage.server_tool_use": {
                    "web_search_requests": 2,
                    "web_fetch_requests": 1,
                },
                "message.usage.inference_geo": "US",
            },
        )
    )
    assert isinstance(event, Parsed)
    r = event.record
    assert (r.input_tokens, r.cache_read_tokens, r.output_tokens) == (10, 5000, 42)
    assert (r.cache_write_5m_tokens, r.cache_write_1h_tokens) == (100, 200)
    assert r.web_search_calls == 2
    assert r.billed_cost_usd == Decimal("0.0123")
    assert r.region == "us"
    assert r.session_id == "sess-1"
    assert r.request_id == "req_01Test"
    assert r.timestamp.isoformat() == "2026-02-12T15:36:39.367000+00:00"
    assert event.source_key == "claude_code:msg_01Test:req_01Test"
    assert event.merge == Merge.LARGEST


def test_cache_writes_without_the_split_are_five_minute_writes():
    event = one(assistant_line(**{"message.usage.cache_creation": ...}))
    assert (event.record.cache_write_5m_tokens, event.record.cache_write_1h_tokens) == (300, 0)


def test_cache_writes_the_split_does_not_cover_are_billed_as_five_minute_writes():
    split = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 200}
    event = one(assistant_line(**{"message.usage.cache_creation": split}))
    assert (event.record.cache_write_5m_tokens, event.record.cache_write_1h_tokens) == (100, 200)


def test_claude_code_is_never_priced_as_batch():
    event = one(assistant_line(**{"message.usage.service_tier": "batch"}))
    assert event.record.service_tier == "standard"


def test_fast_mode_is_the_fast_tier_and_priority_is_kept():
    fast = one(assistant_line(**{"message.usage.speed": "fast"}))
    assert fast.record.service_tier == "fast"
    priority = one(assistant_line(**{"message.usage.service_tier": "priority"}))
    assert priority.record.service_tier == "priority"


def test_missing_request_id_keys_on_the_message_id_alone():
    # Anthropic-compatible back-ends omit requestId (ccusage #976): the key must still
    # collapse the snapshots of one response, and never involve the file name.
    first = one(assistant_line(requestId=...))
    null = one(assistant_line(requestId=None))
    assert first.source_key == null.source_key == "claude_code:msg_01Test"
    (other_file,) = PARSER.parse([assistant_line(requestId=...)], "resumed-session.jsonl")
    assert other_file.source_key == first.source_key


def test_missing_message_id_keys_on_the_line_uuid():
    event = one(assistant_line(**{"message.id": ...}))
    assert event.source_key == "claude_code:nomsgid:line-uuid-1"


def test_synthetic_and_api_error_turns_are_skipped():
    synthetic = one(assistant_line(**{"message.model": "<synthetic>"}))
    assert isinstance(synthetic, Skipped) and "synthetic" in synthetic.reason
    api_error = one(assistant_line(isApiErrorMessage=True))
    assert isinstance(api_error, Skipped)


def test_assistant_line_without_usage_is_skipped():
    event = one(assistant_line(**{"message.usage": ...}))
    assert isinstance(event, Skipped)


def test_missing_model_is_an_error():
    event = one(assistant_line(**{"message.model": ""}))
    assert isinstance(event, LineError) and "model" in event.reason


def test_progress_line_embedding_assistant_usage_is_skipped():
    inner = json.loads(assistant_line())
    progress = {
        "type": "progress",
        "sessionId": "sess-1",
        "data": {"type": "agent_progress", "message": inner, "agentId": "a1"},
        "timestamp": "2026-02-12T15:36:40.000Z",
    }
    event = one(json.dumps(progress).encode() + b"\n")
    assert isinstance(event, Skipped) and "progress" in event.reason


def test_pretty_spaced_assistant_line_is_still_parsed():
    spaced = json.dumps(json.loads(assistant_line()), separators=(", ", ": ")).encode()
    assert isinstance(one(spaced), Parsed)


def test_blank_lines_and_a_bom_on_line_one_are_handled():
    events = list(PARSER.parse([b"\xef\xbb\xbf" + assistant_line(), b"\n", b"   \n"], "x.jsonl"))
    assert isinstance(events[0], Parsed)
    assert [type(e) for e in events[1:]] == [Skipped, Skipped]


def test_session_id_falls_back_to_the_file_name():
    (event,) = PARSER.parse([assistant_line(sessionId=...)], "dir/abc-123.jsonl")
    assert event.record.session_id == "abc-123"


# --------------------------------------------------------------------------- sniffing


def test_sniff_recognises_claude_code_files():
    for path in [BIG_SESSION, *sorted((CLAUDE / "fixtures").glob("*.jsonl"))]:
        assert PARSER.sniff(path.read_bytes()[:65536], path.name), path.name
        assert detect(path.read_bytes()[:65536], path.name).name == "claude_code"


def test_sniff_rejects_codex_logs_and_csv():
    codex = next((CLAUDE.parent / "codex").rglob("*.jsonl"))
    assert not PARSER.sniff(codex.read_bytes()[:65536], codex.name)
    assert not PARSER.sniff(b"timestamp,model,input_tokens\n", "x.csv")


def test_sniff_falls_back_on_envelope_keys_when_the_first_line_is_huge():
    head = (b'{"parentUuid":null,"userType":"external","sessionId":"s","x":"' + b"a" * 70000)[
        :65536
    ]
    assert PARSER.sniff(head, "s.jsonl")


def test_oversized_marker_is_an_error_even_when_its_prefix_looks_like_a_whole_object():
    from apps.usage.sources import OversizedLine

    marker = OversizedLine(b'{"type":"user","x":1}', 90_000_000)
    (event,) = PARSER.parse([marker], "x.jsonl")
    assert isinstance(event, LineError) and "90,000,000 bytes" in event.reason


def test_server_tool_use_of_the_wrong_type_is_an_error():
    event = one(assistant_line(**{"message.usage.server_tool_use": [1]}))
    assert isinstance(event, LineError) and "server_tool_use must be an object" in event.reason
