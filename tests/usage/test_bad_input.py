"""Out-of-range numbers and dates in uploads: a counted line error with its file and line.

Each of these was a 500 in the default set-up (or a job stuck "running" with a worker), a
database error on PostgreSQL, or seconds to minutes of CPU: now the import reads the rest
of the file and ends done, the bad line reported where it is.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from apps.usage.formats import claude_code
from apps.usage.formats.base import Merge, Parsed
from apps.usage.models import ImportJob, JobStatus, UsageRow
from apps.usage.services import import_job_create, import_job_run, workload_get_or_create

pytestmark = pytest.mark.django_db

GOOD_TS = "2026-03-01T09:30:00Z"


def claude_line(n: int, timestamp: str = GOOD_TS, cost=None) -> str:
    line = {
        "type": "assistant",
        "sessionId": "s1",
        "uuid": f"u{n}",
        "requestId": f"req_{n}",
        "timestamp": timestamp,
        "message": {
            "id": f"msg_{n}",
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 1000, "output_tokens": 100},
        },
    }
    if cost is not None:
        line["costUSD"] = cost
    return json.dumps(line)


def run(tmp_path: Path, name: str, text: str) -> ImportJob:
    path = tmp_path / name
    path.write_text(text)
    workload = workload_get_or_create(name=f"bad-{name}")
    job = import_job_create(workload=workload, files=[(name, path, False)])
    return import_job_run(job_id=job.pk)


def assert_one_line_error(job: ImportJob, name: str, line: int, field: str) -> None:
    assert job.status == JobStatus.DONE, job.message
    assert job.error_count == 1
    (sample,) = job.error_samples
    assert (sample["file"], sample["line"]) == (name, line)
    assert sample["reason"].startswith(field), sample["reason"]


CSV_HEAD = "timestamp,model,input_tokens,requests,web_search_calls,billed_cost_usd\n"
GOOD_ROW = f"{GOOD_TS},gpt-4o,1000,5,,\n"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        # aggregate rows (requests 5) whose counts overflowed the bigint column on insert
        (f"{GOOD_TS},gpt-4o,9223372036854775807,5,,", "input_tokens"),
        (f"{GOOD_TS},gpt-4o,1e23,5,,", "input_tokens"),
        (f"{GOOD_TS},gpt-4o,1e400000,5,,", "input_tokens"),  # seconds of CPU as an int
        (f"{GOOD_TS},gpt-4o,1,1,1e30,", "web_search_calls"),
        ("99999999999999,gpt-4o,1,1,,", "timestamp"),  # far past any date
        # a database error on PostgreSQL (numeric field overflow), minutes of CPU as an int
        (f"{GOOD_TS},gpt-4o,1,1,,1e999999999", "billed_cost_usd"),
    ],
)
def test_an_out_of_range_generic_csv_cell_is_a_line_error_and_the_rest_is_imported(
    tmp_path, row, field
):
    started = time.monotonic()
    job = run(tmp_path, "usage.csv", CSV_HEAD + GOOD_ROW + row + "\n" + GOOD_ROW)
    assert time.monotonic() - started < 5
    assert_one_line_error(job, "usage.csv", 3, field)
    assert job.records_imported == 1  # the two good rows are one bucket, added up
    assert UsageRow.objects.get(workload=job.workload).input_tokens == 2000


@pytest.mark.parametrize(
    ("line", "field"),
    [
        # the offset moves the instant past year 9999: it overflowed converting to UTC
        (claude_line(2, "9999-12-31T23:59:59-23:59"), "timestamp"),
        # UTC already, so the parser's fast path took it as it was
        (claude_line(2, "9999-12-31T23:59:59Z"), "timestamp"),
        (claude_line(2, "1970-01-01T00:00:00Z"), "timestamp"),
        # numeric field overflow on PostgreSQL: the job stayed "running"
        (claude_line(2, cost=1e300), "costUSD"),
    ],
)
def test_an_out_of_range_claude_code_line_is_a_line_error(tmp_path, line, field):
    text = "\n".join([claude_line(1), line, claude_line(3)]) + "\n"
    job = run(tmp_path, "session.jsonl", text)
    assert_one_line_error(job, "session.jsonl", 2, field)
    assert job.records_imported == 2


def test_a_claude_code_cost_is_kept_exactly(tmp_path):
    job = run(tmp_path, "session.jsonl", claude_line(1, cost=0.0123) + "\n")
    assert UsageRow.objects.get(workload=job.workload).billed_cost_usd == D("0.0123")


def test_an_openrouter_count_with_a_huge_exponent_is_refused_at_once(tmp_path):
    """int(Decimal("1e999999999")) ran for minutes inside the OpenRouter parser."""
    usage = {"prompt_tokens": 1532, "completion_tokens": 33}
    good = {"id": "gen-1", "model": "openai/gpt-4o", "object": "chat.completion"}
    good |= {"created": 1772360130, "usage": usage}
    bad = {**good, "id": "gen-2", "usage": {**usage, "prompt_tokens_details": {"cached_tokens": 0}}}
    text = json.dumps(good) + "\n" + json.dumps(bad).replace('"cached_tokens": 0', '"cached_tokens": 1e999999999') + "\n"  # fmt: skip
    started = time.monotonic()
    job = run(tmp_path, "generations.jsonl", text)
    assert time.monotonic() - started < 5
    assert_one_line_error(job, "generations.jsonl", 2, "usage: cached_tokens")


def test_an_openai_usage_export_with_absurd_numbers_is_line_errors(tmp_path):
    bucket = {"object": "bucket", "start_time": 1772323200, "end_time": 1772409600}
    result = {"object": "organization.usage.completions.result", "model": "gpt-4o"}
    result |= {"input_tokens": 1000, "output_tokens": 10, "num_model_requests": 2}
    pages = [
        {"object": "page", "data": [{**bucket, "results": [result]}]},
        # a year-33658 start: datetime.fromtimestamp raised ValueError out of the parser
        {"object": "page", "data": [{**bucket, "start_time": 999999999999, "results": [result]}]},
        # 5,000 digits: Python's int() refused it with a ValueError out of the JSON decoder
        {"object": "page", "data": [{**bucket, "results": [{**result, "input_tokens": 7}]}]},
    ]
    text = "\n".join(json.dumps(p) for p in pages).replace(
        '"input_tokens": 7', '"input_tokens": ' + "9" * 5000
    )
    job = run(tmp_path, "usage.jsonl", text + "\n")
    assert job.status == JobStatus.DONE, job.message
    assert job.error_count == 2
    reasons = {s["line"]: s["reason"] for s in job.error_samples}
    assert "start_time" in reasons[2] and "input_tokens" in reasons[3]
    assert job.records_imported == 1


def test_a_console_csv_day_out_of_range_is_a_line_error(tmp_path):
    sample = Path(__file__).parent.parent / "data/usage/anthropic_console_csv"
    head, first, *_ = (sample / "claude_api_tokens_2026_02.csv").read_text().splitlines()
    text = "\n".join([head, first, first.replace("2026-02-01", "9999-12-31")]) + "\n"
    job = run(tmp_path, "claude_api_tokens_2026_02.csv", text)
    assert_one_line_error(job, "claude_api_tokens_2026_02.csv", 3, "usage_date_utc")


def test_a_record_a_parser_lets_through_out_of_range_is_still_a_line_error(tmp_path, monkeypatch):
    """The importer checks every record before the writer, whatever the parser did."""
    real = claude_code.ClaudeCodeParser._line

    def too_big(self, number, line, filename):
        event = real(self, number, line, filename)
        if number == 2:
            record = dataclasses.replace(event.record, input_tokens=10**13)
            return Parsed(record, event.source_key, number, Merge.LARGEST)
        return event

    monkeypatch.setattr(claude_code.ClaudeCodeParser, "_line", too_big)
    job = run(tmp_path, "session.jsonl", "\n".join(claude_line(n) for n in (1, 2, 3)) + "\n")
    assert_one_line_error(job, "session.jsonl", 2, "input_tokens")
    assert job.records_imported == 2


def test_aggregate_rows_adding_up_past_a_column_stop_the_import_with_a_clear_message(tmp_path):
    """Ten rows of $99,999,999,999 in one bucket: each is in range, their sum is not."""
    head = "timestamp,model,input_tokens,requests,billed_cost_usd\n"
    rows = "".join(f"{GOOD_TS},gpt-4o,1,2,99999999999\n" for _ in range(11))
    job = run(tmp_path, "costs.csv", head + rows)
    assert job.status == JobStatus.FAILED
    assert "add up to $1,000,000,000,000 or more of billed_cost_usd" in job.message
    assert "'gpt-4o' at 2026-03-01 09:30" in job.message
    assert not UsageRow.objects.filter(workload=job.workload).exists()  # nothing half-written


def test_a_workload_too_large_to_price_exactly_fails_with_a_clear_message(tmp_path):
    """10,000 buckets of 10**12 tokens each: every row is in range, the total is not priceable."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = "".join(
        f"{(start + timedelta(minutes=i)).isoformat()},gpt-4o,{10**12},2\n" for i in range(10_000)
    )
    job = run(tmp_path, "huge.csv", "timestamp,model,input_tokens,requests\n" + rows)
    assert job.status == JobStatus.FAILED
    assert "too large to price exactly" in job.message
    assert f"The {10_000:,} records imported before it stay" in job.message
