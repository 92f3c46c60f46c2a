"""The generic usage CSV (docs/generic-csv.md)."""

from __future__ import annotations

import re

import pytest

from apps.usage.formats import UnknownFormatError, detect
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped
from apps.usage.formats.generic_csv import PARSER, CsvHeaderError
from tests.usage.helpers import DATA, REPO, errors, parsed, read_lines

GENERIC = DATA / "generic"


def parse_text(text: str | bytes) -> list:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(PARSER.parse(data.splitlines(keepends=True), "usage.csv"))


def parse_file(name: str) -> list:
    return list(PARSER.parse(read_lines(GENERIC / name), name))


def test_the_documented_example_parses_as_the_docs_say():
    doc = (REPO / "docs" / "generic-csv.md").read_text(encoding="utf-8")
    block = re.search(r"```csv\n(.*?)```", doc, re.S).group(1)
    assert block == (GENERIC / "example.csv").read_text(encoding="utf-8")
    claude, openai, bucket = parse_text(block)
    assert claude.record.input_tokens == 1200
    assert claude.record.cache_write_1h_tokens == 3000
    assert claude.source_key == "generic_csv:anthropic:req_1"
    assert (openai.record.input_tokens, openai.record.cache_read_tokens) == (1143, 8320)
    assert openai.record.service_tier == "standard"  # "default" reads as standard
    assert bucket.aggregate and bucket.merge == Merge.SUM
    assert bucket.record.requests == 310
    assert bucket.record.service_tier == "batch"
    assert (bucket.record.input_tokens, bucket.record.cache_read_tokens) == (130_000, 120_000)


def test_bad_rows_are_reported_with_their_line_numbers_and_good_rows_still_parse():
    events = parse_file("bad_rows.csv")
    by_line = {e.line: e for e in events}
    expected = {
        3: "must not be negative",
        4: "whole number",
        5: "not an ISO 8601 date-time",
        6: "model: is required",
        7: "row has 5 cells; the header has 7",
        11: "not valid UTF-8",
        12: "malformed CSV",
    }
    assert {e.line for e in errors(events)} == set(expected)
    for line, reason in expected.items():
        assert reason in by_line[line].reason, (line, by_line[line].reason)
    assert isinstance(by_line[8], Skipped)
    # Header matched despite a BOM, odd case, spaces and dashes; "notes" is ignored; a
    # quoted cell spanning two lines keeps the numbering right; Unix seconds work.
    assert [(e.line, e.record.request_id) for e in parsed(events)] == [
        (2, "r1"),
        (9, "r7"),
        (13, "r10"),
    ]
    assert parsed(events)[1].record.cache_read_tokens == 1
    assert parsed(events)[2].record.timestamp.isoformat() == "2026-03-02T00:00:00+00:00"


def test_aggregate_rows_add_up_and_single_requests_stay_under_100m():
    events = parse_file("aggregates.csv")
    rows = parsed(events)
    assert [e.line for e in rows] == [2, 3, 4, 5]
    assert all(e.aggregate and e.merge == Merge.SUM for e in rows)
    # same dimensions (day, model, tier): one bucket key, so the import adds them up
    assert rows[0].source_key == rows[1].source_key
    assert rows[2].source_key != rows[0].source_key  # batch tier is another bucket
    assert rows[3].record.input_tokens == 300_000_000  # an aggregate may pass 100M
    (error,) = errors(events)
    assert error.line == 6 and "more than 100,000,000" in error.reason


def test_missing_required_columns_refuse_the_file_before_any_row():
    events = PARSER.parse([b"time,model_name,input_tokens\n", b"x,y,1\n"], "u.csv")
    with pytest.raises(CsvHeaderError) as info:
        next(events)
    assert "timestamp" in str(info.value)
    assert isinstance(info.value, UnknownFormatError)
    with pytest.raises(CsvHeaderError, match="at least one token column"):
        parse_text("timestamp,model,cost\n2026-03-01,m,1\n")


def test_unknown_cache_retention_column_is_refused():
    with pytest.raises(CsvHeaderError, match="unknown cache retention '7m'"):
        parse_text("timestamp,model,cache_write_7m_tokens\n2026-03-01,m,1\n")


def test_duplicate_column_is_refused():
    with pytest.raises(CsvHeaderError, match="appears twice"):
        parse_text("timestamp,model,input_tokens,Input Tokens\n")


def test_empty_file_is_refused():
    with pytest.raises(CsvHeaderError, match="empty"):
        parse_text("")


def test_input_includes_cached_subtracts_reads_and_writes():
    (event,) = parse_text(
        "timestamp,model,input_tokens,cache_read_tokens,cache_write_30m_tokens,input_includes_cached\n"
        "2026-03-01T00:00:00Z,gpt-5.6,10000,4000,1000,TRUE\n"
    )
    r = event.record
    assert (r.input_tokens, r.cache_read_tokens, r.cache_write_30m_tokens) == (5000, 4000, 1000)


def test_input_includes_cached_with_too_few_input_tokens_is_an_error():
    events = parse_text(
        "timestamp,model,input_tokens,cache_read_tokens,input_includes_cached\n"
        "2026-03-01T00:00:00Z,gpt-5,100,400,yes\n"
        "2026-03-01T00:00:00Z,gpt-5,100,40,maybe\n"
    )
    assert "exceed input_tokens" in events[0].reason
    assert "true or false" in events[1].reason


def test_rows_without_request_id_key_on_their_values_wherever_they_sit():
    header = "timestamp,model,input_tokens,output_tokens\n"
    row = "2026-03-01T10:00:00Z,claude-haiku-4-5,10,5\n"
    first = parsed(parse_text(header + row))[0]
    later = parsed(parse_text(header + "2026-03-01T09:00:00Z,claude-haiku-4-5,1,1\n" + row))[1]
    assert first.source_key == later.source_key  # an overlapping re-upload maps to the same key
    other = parsed(parse_text(header + row.replace(",5\n", ",6\n")))[0]
    assert other.source_key != first.source_key
    assert first.merge == Merge.LARGEST and not first.aggregate


def test_bucket_end_before_the_start_is_an_error():
    (event,) = parse_text(
        "timestamp,bucket_end,model,input_tokens\n2026-03-02T00:00:00Z,2026-03-01T00:00:00Z,m,1\n"
    )
    assert isinstance(event, LineError) and "bucket_end" in event.reason


def test_unknown_service_tier_is_an_error_listing_the_tiers():
    (event,) = parse_text("timestamp,model,input_tokens,service_tier\n2026-03-01,m,1,turbo\n")
    assert isinstance(event, LineError) and "standard, batch" in event.reason


def test_trailing_empty_cells_are_tolerated():
    (event,) = parse_text("timestamp,model,input_tokens\n2026-03-01,m,1,,\n")
    assert isinstance(event, Parsed)


def test_sniff_needs_model_timestamp_and_a_token_column():
    assert PARSER.sniff(b"\xef\xbb\xbfTimestamp,Model,Output Tokens\n1,2,3\n", "u.csv")
    assert not PARSER.sniff(b"timestamp,model,cost\n", "u.csv")
    assert not PARSER.sniff(b'{"type":"assistant"}\n', "u.jsonl")
    assert not PARSER.sniff(b"\xff\xfe\x00t", "u.csv")
    example = (GENERIC / "example.csv").read_bytes()
    assert detect(example, "example.csv").name == "generic_csv"
