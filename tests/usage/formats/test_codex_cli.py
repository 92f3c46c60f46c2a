"""Codex CLI rollout logs: OpenAI-style counts, re-emits and forks (log-formats.md 1.6).

The sample under tests/data/usage/codex/ is GENERATED (see its README): no real Codex log
was available.
"""

from __future__ import annotations

import json
from pathlib import Path

from apps.usage.formats import detect
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped
from apps.usage.formats.codex_cli import PARSER
from apps.usage.sources import iter_sources
from tests.usage.helpers import DATA, errors, merge, parsed, read_lines

CODEX = DATA / "codex" / "sessions"
PARENT_ID = "0199a1b2-7c3d-7e4f-9a5b-1c2d3e4f5a6b"
CHILD_ID = "0199a1f0-2b4c-7d5e-8f6a-7b8c9d0e1f2a"
PARENT = next(CODEX.rglob(f"rollout-*-{PARENT_ID}.jsonl"))
CHILD = next(CODEX.rglob(f"rollout-*-{CHILD_ID}.jsonl"))


def parse_path(path: Path) -> list:
    return list(PARSER.parse(read_lines(path), path.name))


def rollout(*items: tuple[str, dict], ts: str = "2026-03-02T10:00:00.000Z") -> list[bytes]:
    return [
        json.dumps({"timestamp": ts, "type": kind, "payload": payload}).encode() + b"\n"
        for kind, payload in items
    ]


def usage(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def token_count(total: dict | None = None, last: dict | None = None, **info) -> tuple[str, dict]:
    if total is not None:
        info["total_token_usage"] = total
    if last is not None:
        info["last_token_usage"] = last
    return ("event_msg", {"type": "token_count", "info": info or None})


META = ("session_meta", {"id": "sess-a", "model_provider": "openai"})
CONTEXT = ("turn_context", {"model": "gpt-5.1-codex", "cwd": "/w"})


def parse(lines: list[bytes], filename: str = "rollout-x.jsonl") -> list:
    return list(PARSER.parse(lines, filename))


# --------------------------------------------------------------------------- the sample


def test_parent_and_fork_together_hold_four_calls_with_the_readme_totals():
    events = []
    for source in iter_sources([CODEX]):
        events += PARSER.parse(source.open_lines(), source.filename)
    assert errors(events) == []
    kept = merge(parsed(events)).values()
    assert len(kept) == 4
    assert sum(e.record.input_tokens for e in kept) == 17_574
    assert sum(e.record.cache_read_tokens for e in kept) == 68_608
    assert sum(e.record.output_tokens for e in kept) == 1_850
    assert sum(e.record.reasoning_tokens for e in kept) == 960
    assert {e.record.provider for e in kept} == {"openai"}
    assert all(e.merge == Merge.LARGEST and not e.aggregate for e in kept)
    # 9 token_count events carry usage; summing them all would count 9 calls
    usage_lines = [
        line
        for path in (PARENT, CHILD)
        for line in read_lines(path)
        if b'"last_token_usage"' in line
    ]
    assert len(usage_lines) == 9


def test_cached_input_is_taken_out_of_input_and_reasoning_stays_inside_output():
    second = parsed(parse_path(PARENT))[1].record  # call 2: 14,102 in (12,672 cached), 188 out
    assert second.input_tokens == 14_102 - 12_672
    assert second.cache_read_tokens == 12_672
    assert second.output_tokens == 188  # 64 of them reasoning, not added again
    assert second.reasoning_tokens == 64


def test_reemitted_token_count_with_unchanged_total_is_skipped():
    events = parse_path(PARENT)
    reemits = [e for e in events if isinstance(e, Skipped) and "re-emitted" in e.reason]
    assert [e.line for e in reemits] == [14]
    assert len(parsed(events)) == 3


def test_rate_limit_refresh_without_info_is_skipped():
    events = parse_path(PARENT)
    assert any(isinstance(e, Skipped) and "rate-limit" in e.reason for e in events)


def test_model_follows_the_latest_turn_context():
    models = [e.record.model for e in parsed(parse_path(PARENT))]
    assert models == ["gpt-5.1-codex", "gpt-5.1-codex", "gpt-5.1-codex-mini"]


def test_records_carry_session_and_line_timestamps():
    first = parsed(parse_path(PARENT))[0]
    assert first.record.session_id == PARENT_ID
    assert first.record.timestamp.isoformat() == "2026-03-02T10:15:15.655000+00:00"
    assert first.source_key == f"codex_cli:{PARENT_ID}:12840:0:410:256"


def test_fork_replay_gets_the_parents_keys_and_identical_counts():
    parent = parsed(parse_path(PARENT))
    child = parsed(parse_path(CHILD))
    assert len(child) == 4  # 3 replayed calls + its own
    replayed, own = child[:3], child[3]
    assert [e.source_key for e in replayed] == [e.source_key for e in parent]
    for copy, original in zip(replayed, parent, strict=True):
        for field in ("input_tokens", "cache_read_tokens", "output_tokens", "model"):
            assert getattr(copy.record, field) == getattr(original.record, field)
    # The fork's own call: keyed in the family (root = parent), recorded as the fork's.
    assert own.source_key == f"codex_cli:{PARENT_ID}:86182:68608:1850:960"
    assert own.record.session_id == CHILD_ID
    assert (own.record.input_tokens, own.record.cache_read_tokens) == (2_026, 41_984)


def test_keys_do_not_depend_on_the_order_files_are_read():
    one = merge(parsed(parse_path(PARENT) + parse_path(CHILD)))
    other = merge(parsed(parse_path(CHILD) + parse_path(PARENT)))
    assert set(one) == set(other)


def test_sniff_recognises_rollouts_and_rejects_claude_code():
    assert PARSER.sniff(PARENT.read_bytes()[:65536], PARENT.name)
    assert detect(PARENT.read_bytes()[:65536], PARENT.name).name == "codex_cli"
    claude = next((DATA / "claude_code" / "fixtures").glob("short.jsonl"))
    assert not PARSER.sniff(claude.read_bytes()[:65536], claude.name)


# --------------------------------------------------------------------------- edge cases


def test_log_without_last_token_usage_uses_the_cumulative_delta():
    events = parse(
        rollout(
            META,
            CONTEXT,
            token_count(total=usage(1000, 200, 50)),
            token_count(total=usage(2500, 1100, 80, 10)),
        )
    )
    first, second = (e.record for e in parsed(events))
    assert (first.input_tokens, first.cache_read_tokens, first.output_tokens) == (800, 200, 50)
    assert (second.input_tokens, second.cache_read_tokens, second.output_tokens) == (600, 900, 30)
    assert second.reasoning_tokens == 10


def test_log_with_only_last_token_usage_counts_each_call():
    events = parse(
        rollout(META, CONTEXT, token_count(last=usage(10, 0, 5)), token_count(last=usage(10, 0, 5)))
    )
    kept = merge(parsed(events))
    assert len(kept) == 2  # no cumulative total to tell a re-emit apart: both count
    assert all(":sum:" in key for key in kept)


def test_total_that_drops_after_a_resume_still_counts_the_next_call():
    events = parse(
        rollout(
            META,
            CONTEXT,
            token_count(total=usage(5000, 0, 100), last=usage(5000, 0, 100)),
            token_count(total=usage(300, 0, 20), last=usage(300, 0, 20)),
        )
    )
    assert [e.record.input_tokens for e in parsed(events)] == [5000, 300]


def test_token_count_before_any_turn_context_is_an_error_not_a_guess():
    events = parse(rollout(META, token_count(total=usage(10, 0, 1), last=usage(10, 0, 1))))
    (error,) = errors(events)
    assert "no model" in error.reason and error.line == 2


def test_model_named_in_the_token_count_info_wins():
    events = parse(
        rollout(META, CONTEXT, token_count(usage(10, 0, 1), usage(10, 0, 1), model="gpt-5"))
    )
    assert parsed(events)[0].record.model == "gpt-5"


def test_inconsistent_counts_are_errors():
    cached_over = parse(rollout(META, CONTEXT, token_count(last=usage(10, 20, 1))))
    assert "exceed input_tokens" in errors(cached_over)[0].reason
    reasoning_over = parse(rollout(META, CONTEXT, token_count(last=usage(10, 0, 1, 5))))
    assert "reasoning_output_tokens" in errors(reasoning_over)[0].reason
    negative = parse(rollout(META, CONTEXT, token_count(last=usage(-1, 0, 1))))
    assert "negative" in errors(negative)[0].reason
    text = parse(rollout(META, CONTEXT, token_count(last={"input_tokens": "12"})))
    assert "whole number" in errors(text)[0].reason


def test_bad_json_is_reported_and_parsing_goes_on():
    lines = rollout(META, CONTEXT)
    lines.insert(1, b'{"timestamp":"2026-03-02T10:00:00Z","type":"event_msg",\n')
    lines.append(rollout(token_count(usage(10, 0, 1), usage(10, 0, 1)))[0])
    events = parse(lines)
    assert isinstance(events[1], LineError) and events[1].line == 2
    assert isinstance(events[-1], Parsed)


def test_fast_thread_setting_is_the_priority_tier():
    settings = (
        "event_msg",
        {"type": "thread_settings_applied", "thread_settings": {"service_tier": "fast"}},
    )
    events = parse(rollout(META, CONTEXT, settings, token_count(usage(10, 0, 1), usage(10, 0, 1))))
    assert parsed(events)[0].record.service_tier == "priority"
    flex = ("turn_context", {"model": "gpt-5.1-codex", "service_tier": "flex"})
    events = parse(rollout(META, flex, token_count(usage(10, 0, 1), usage(10, 0, 1))))
    assert parsed(events)[0].record.service_tier == "flex"


def test_subagent_parent_thread_id_links_to_the_parent_family():
    source = {"subagent": {"thread_spawn": {"parent_thread_id": "root-1"}}}
    meta = ("session_meta", {"id": "child-1", "source": source})
    events = parse(rollout(meta, CONTEXT, token_count(usage(10, 0, 1), usage(10, 0, 1))))
    event = parsed(events)[0]
    assert event.source_key.startswith("codex_cli:root-1:")
    assert event.record.session_id == "child-1"


def test_grandchild_fork_keys_on_the_oldest_ancestor_it_names():
    metas = [
        ("session_meta", {"id": "c2", "forked_from_id": "c1"}),
        ("session_meta", {"id": "c1", "forked_from_id": "root"}),
        ("session_meta", {"id": "root"}),
    ]
    events = parse(rollout(*metas, CONTEXT, token_count(usage(10, 0, 1), usage(10, 0, 1))))
    assert parsed(events)[0].source_key.startswith("codex_cli:root:")


def test_session_id_falls_back_to_the_uuid_in_the_file_name():
    events = parse(rollout(CONTEXT, token_count(usage(10, 0, 1), usage(10, 0, 1))), PARENT.name)
    assert parsed(events)[0].record.session_id == PARENT_ID


def test_response_items_in_codex_layout_are_skipped_without_parsing_them(monkeypatch):
    from apps.usage.formats import codex_cli

    def no_parse(data):
        raise AssertionError("parsed a line that cannot carry usage")

    payload = {"type": "function_call_output", "output": "x" * 100_000}
    line = json.dumps(
        {"timestamp": "2026-03-02T10:00:00Z", "type": "response_item", "payload": payload},
        separators=(",", ":"),
    ).encode()
    monkeypatch.setattr(codex_cli, "loads", no_parse)
    (event,) = parse([line + b"\n"])
    assert isinstance(event, Skipped)
