"""Every column docs/generic-csv.md documents reaches the engine through an import.

``cache_storage_token_hours`` was dropped on the way into the database: the same record
cost $0.00125 through ``import_usage`` and $4.50125 through ``rate_usage``. Here one row
per documented column goes through both, and the totals agree to the last digit.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.usage.formats.base import Parsed
from apps.usage.formats.generic_csv import PARSER
from apps.usage.models import UsageRow

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "generic-csv.md"
T = "2026-12-01T10:00:00Z"
COLUMNS = (
    "timestamp,provider,model,request_id,session_id,input_tokens,cache_read_tokens,"
    "cache_write_5m_tokens,cache_write_30m_tokens,cache_write_1h_tokens,"
    "cache_write_12h_tokens,cache_write_24h_tokens,output_tokens,reasoning_tokens,"
    "service_tier,region,web_search_calls,cache_storage_token_hours,billed_cost_usd,"
    "requests,input_includes_cached,aggregate,bucket_end"
)
# one row for each column (the first cells name it), blank cells elsewhere
ROWS = {
    "input_tokens": f"{T},anthropic,claude-sonnet-4-6,,,1000,,,,,,,,,,,,,,,,,",
    "request_id, session_id, output_tokens": f"{T},anthropic,claude-sonnet-4-6,req_1,sess_1,,,,,,,,100,,,,,,,,,,",
    "cache_read_tokens": f"{T},anthropic,claude-sonnet-4-6,req_2,,,10000,,,,,,,,,,,,,,,,",
    "cache_write_5m_tokens": f"{T},anthropic,claude-sonnet-4-6,req_3,,,,1000,,,,,,,,,,,,,,,",
    "cache_write_1h_tokens": f"{T},anthropic,claude-sonnet-4-6,req_4,,,,,,1000,,,,,,,,,,,,,",
    "cache_write_30m_tokens": f"{T},openai,gpt-6.2-sol,req_5,,,,,1000,,,,,,,,,,,,,,",
    "cache_write_12h_tokens": f"{T},openai,gpt-6.2-sol,req_6,,,,,,,1000,,,,,,,,,,,,",
    "cache_write_24h_tokens (no model prices it: unpriced)": f"{T},openai,gpt-6.2-sol,req_7,,,,,,,,1000,,,,,,,,,,,",
    "reasoning_tokens": f"{T},openai,gpt-6.2-sol,req_8,,,,,,,,,500,200,,,,,,,,,",
    "service_tier": f"{T},anthropic,claude-sonnet-4-6,req_9,,2000,,,,,,,,,batch,,,,,,,,",
    "region": f"{T},anthropic,claude-sonnet-4-6,req_10,,2000,,,,,,,,,,us,,,,,,,",
    "web_search_calls": f"{T},anthropic,claude-sonnet-4-6,req_11,,10,,,,,,,,,,,2,,,,,,",
    "cache_storage_token_hours": f"{T},google,gemini-2.5-pro,req_12,,1000,,,,,,,,,,,,1000000,,,,,",
    "billed_cost_usd": f"{T},anthropic,claude-sonnet-4-6,req_13,,1000,,,,,,,,,,,,,0.0031,,,,",
    "requests": f"{T},openai,gpt-6.2-sol,,,5000,,,,,,,100,,,,,,,10,,,",
    "input_includes_cached": f"{T},openai,gpt-6.2-sol,req_15,,9463,8320,,,,,,660,,,,,,,,true,,",
    "aggregate (two rows of one bucket, storage added up)": f"{T},google,gemini-2.5-pro,,s,,,,,,,,,,,,,250000,,,,true,",
    "aggregate, second row": f"{T},google,gemini-2.5-pro,,s,,,,,,,,,,,,,250000,,,,true,",
    "bucket_end": f"{T},anthropic,claude-sonnet-4-6,,,3000,,,,,,,,,,,,,,,,,2026-12-02T00:00:00Z",
}  # fmt: skip


def documented_columns() -> set[str]:
    """The column names of the table in docs/generic-csv.md."""
    table = DOC.read_text().split("## Columns", 1)[1].split("\n\n", 2)[1]
    names = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        names.update(re.findall(r"`([a-z0-9_]+)`", first))
    return names


def test_the_csv_here_has_a_column_for_everything_the_doc_lists():
    assert documented_columns() == set(COLUMNS.split(","))


def as_jsonl(csv_text: str) -> str:
    """The records the generic parser reads from the CSV, as normalized JSON Lines."""
    lines = []
    for event in PARSER.parse(csv_text.encode().splitlines(keepends=True), "usage.csv"):
        assert isinstance(event, Parsed), event
        record = dataclasses.asdict(event.record)
        record["timestamp"] = event.record.timestamp.isoformat()
        record = {k: str(v) if isinstance(v, D) else v for k, v in record.items()}
        lines.append(json.dumps({k: v for k, v in record.items() if v is not None}))
    return "\n".join(lines) + "\n"


def test_every_documented_column_is_priced_the_same_by_import_and_by_rate_usage(tmp_path):
    text = COLUMNS + "\n" + "\n".join(ROWS.values()) + "\n"
    csv_path = tmp_path / "usage.csv"
    csv_path.write_text(text)
    jsonl = tmp_path / "usage.jsonl"
    jsonl.write_text(as_jsonl(text))

    out = StringIO()
    call_command("import_usage", str(csv_path), "--workload", "columns", "--json", stdout=out)
    imported = json.loads(out.getvalue())
    out = StringIO()
    call_command("rate_usage", str(jsonl), "--json", stdout=out)
    rated = json.loads(out.getvalue())

    assert imported["errors"]["count"] == 0 and rated["errors"]["count"] == 0
    assert imported["records_imported"] == len(ROWS) - 1  # the two bucket rows are one
    assert imported["total_cost_usd"] == rated["total_cost_usd"]
    cost = {r["model"]: r["cost_usd"] for r in imported["by_model"]}
    assert cost == {r["model"]: r["cost_usd"] for r in rated["by_model"]}
    assert imported["unpriced"]["records"] == rated["unpriced"]["records"] == 1  # the 24h write
    # Gemini 2.5 Pro ($1.25 input, $4.50 storage per MTok-hour): 1,000 x 1.25 / 1M
    # + (1,000,000 + 250,000 + 250,000) token-hours x 4.50 / 1M = 0.00125 + 6.75
    assert cost["gemini-2.5-pro"] == "6.75125"
    stored = UsageRow.objects.filter(workload__name="columns", model="gemini-2.5-pro")
    assert sorted(r.cache_storage_token_hours for r in stored) == [D(500_000), D(1_000_000)]


def test_the_issue_record_costs_the_same_both_ways(tmp_path):
    """$0.00125 through import_usage and $4.50125 through rate_usage, before the fix."""
    csv_path = tmp_path / "one.csv"
    csv_path.write_text(
        f"timestamp,model,input_tokens,cache_storage_token_hours\n{T},gemini-2.5-pro,1000,1000000\n"
    )
    out = StringIO()
    call_command("import_usage", str(csv_path), "--workload", "one", "--json", stdout=out)
    # 1,000 x $1.25 / 1M + 1,000,000 token-hours x $4.50 / 1M
    assert json.loads(out.getvalue())["total_cost_usd"] == "4.50125"
