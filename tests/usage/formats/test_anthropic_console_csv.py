"""Claude Console token and cost CSV exports (log-formats.md section 3.4). Pure."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from apps.usage.formats import (
    anthropic_usage_report,
    litellm_spend_logs,
    openai_dashboard_csv,
    openai_usage_api,
    openrouter,
)
from apps.usage.formats.anthropic_console_csv import PARSER, model_id
from apps.usage.formats.base import LineError, Merge, Parsed, Skipped

DATA = Path(__file__).resolve().parents[2] / "data" / "usage" / "anthropic_console_csv"
TOKENS = DATA / "claude_api_tokens_2026_02.csv"
COST_DAY = DATA / "claude_api_cost_2026_02_01_to_2026_02_01.csv"
COST_WEEK = DATA / "claude_api_cost_2026_02_08_to_2026_02_15.csv"
NEWER = DATA / "claude_api_tokens_2026_03_newer_columns.csv"
OTHERS = [
    m.PARSER
    for m in (
        openai_usage_api,
        openai_dashboard_csv,
        anthropic_usage_report,
        openrouter,
        litellm_spend_logs,
    )
]
CENT = Decimal("0.01")
MTOK = Decimal(1_000_000)
# List prices, USD per million tokens (Anthropic pricing page), per Console token_type.
PRICES = {
    "claude-haiku-4-5": {
        "input_no_cache": Decimal("1"),
        "output": Decimal("5"),
        "input_cache_read": Decimal("0.10"),
        "input_cache_write_5m": Decimal("1.25"),
        "input_cache_write_1h": Decimal("2"),
    },
    "claude-opus-4-5": {
        "input_no_cache": Decimal("5"),
        "output": Decimal("25"),
        "input_cache_read": Decimal("0.50"),
        "input_cache_write_5m": Decimal("6.25"),
        "input_cache_write_1h": Decimal("10"),
    },
}
TOKEN_HEADER = (
    "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,"
    "usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,"
    "usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,"
    "web_search_count"
)


def parse_file(path: Path) -> list:
    with path.open("rb") as fh:
        return list(PARSER.parse(fh, path.name))


def parse_text(text: str) -> list:
    return list(PARSER.parse(text.encode().splitlines(keepends=True), "claude_api.csv"))


def parsed(events: list) -> list[Parsed]:
    return [e for e in events if isinstance(e, Parsed)]


def test_it_is_registered_under_its_format_name():
    assert PARSER.name == "anthropic_console_csv"
    assert PARSER.description


def test_it_reads_the_real_token_export_with_exact_totals():
    events = parse_file(TOKENS)
    records = [p.record for p in parsed(events)]
    assert len(events) == len(records) == 2
    assert [r.model for r in records] == ["claude-haiku-4-5-20251001", "claude-opus-4-5-20251101"]
    assert sum(r.input_tokens for r in records) == 16_765 + 43
    assert sum(r.cache_write_5m_tokens for r in records) == 302_527
    assert sum(r.cache_write_1h_tokens for r in records) == 0
    assert sum(r.cache_read_tokens for r in records) == 3_301_672
    assert sum(r.output_tokens for r in records) == 1_702 + 32_676
    assert {r.timestamp for r in records} == {datetime(2026, 2, 1, tzinfo=UTC)}
    assert {(r.provider, r.service_tier, r.requests) for r in records} == {
        ("anthropic", "standard", 0)
    }
    assert all(p.aggregate and p.merge == Merge.SUM for p in parsed(events))


def test_it_reads_the_real_cost_export_as_billed_dollars_with_catalog_model_ids():
    events = parse_file(COST_DAY)
    records = [p.record for p in parsed(events)]
    assert len(events) == len(records) == 6
    assert [r.model for r in records] == ["claude-haiku-4-5"] * 2 + ["claude-opus-4-5"] * 4
    assert sum(r.billed_cost_usd for r in records) == Decimal("4.39")
    # A cost row never says how many tokens: it carries dollars only.
    assert all(r.prompt_tokens == 0 and r.output_tokens == 0 and r.requests == 0 for r in records)


def test_the_same_day_token_and_cost_exports_reconcile_to_the_cent_at_list_price():
    tokens = [p.record for p in parsed(parse_file(TOKENS))]
    cost_rows = {}
    for line in COST_DAY.read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split(",")
        cost_rows[(model_id(cells[1]), cells[6])] = Decimal(cells[7])

    computed = {}
    for record in tokens:
        model = re.sub(r"-\d{8}$", "", record.model)  # the catalog's alias for the snapshot
        quantities = {
            "input_no_cache": record.input_tokens,
            "output": record.output_tokens,
            "input_cache_read": record.cache_read_tokens,
            "input_cache_write_5m": record.cache_write_5m_tokens,
            "input_cache_write_1h": record.cache_write_1h_tokens,
        }
        for token_type, quantity in quantities.items():
            if quantity:
                computed[(model, token_type)] = quantity * PRICES[model][token_type] / MTOK

    # By hand: Haiku 4.5 16,765 x $1 and 1,702 x $5; Opus 4.5 43 x $5, 3,301,672 x $0.50,
    # 302,527 x $6.25 and 32,676 x $25 (per million tokens).
    assert computed == {
        ("claude-haiku-4-5", "input_no_cache"): Decimal("0.016765"),
        ("claude-haiku-4-5", "output"): Decimal("0.00851"),
        ("claude-opus-4-5", "input_no_cache"): Decimal("0.000215"),
        ("claude-opus-4-5", "input_cache_read"): Decimal("1.650836"),
        ("claude-opus-4-5", "input_cache_write_5m"): Decimal("1.89079375"),
        ("claude-opus-4-5", "output"): Decimal("0.8169"),
    }
    # The Console rounds each row to the cent: every row matches, and so does the total.
    rounded = {k: v.quantize(CENT, rounding=ROUND_HALF_UP) for k, v in computed.items()}
    assert rounded == cost_rows
    billed = sum(p.record.billed_cost_usd for p in parsed(parse_file(COST_DAY)))
    assert sum(rounded.values()) == billed == Decimal("4.39")
    # Unrounded, the day is $4.38401975: per-row rounding moves it by at most $0.005 a row.
    assert sum(computed.values()) == Decimal("4.38401975")
    assert abs(billed - sum(computed.values())) <= Decimal("0.005") * len(cost_rows)


def test_identical_cost_rows_share_a_key_and_are_summed_not_deduplicated():
    events = parse_file(COST_WEEK)
    assert Counter(type(e).__name__ for e in events) == {"Parsed": 23, "Skipped": 1}
    records = parsed(events)
    assert sum(p.record.billed_cost_usd for p in records) == Decimal("19.90")  # $19.97 - web
    keys = Counter(p.source_key for p in records)
    (twice,) = [k for k, n in keys.items() if n == 2]
    pair = [p for p in records if p.source_key == twice]
    assert [p.line for p in pair] == [9, 10]
    assert sum(p.record.billed_cost_usd for p in pair) == Decimal("1.91")
    assert all(p.merge == Merge.SUM for p in pair)
    assert {p.record.model for p in records} == {"claude-haiku-4-5", "claude-sonnet-4-5"}


def test_web_search_cost_rows_without_a_model_are_skipped_with_the_amount():
    skipped = next(e for e in parse_file(COST_WEEK) if isinstance(e, Skipped))
    assert skipped.line == 2
    assert "web_search" in skipped.reason and "$0.07" in skipped.reason


def test_display_names_become_catalog_model_ids():
    assert model_id("Claude Haiku 4.5") == "claude-haiku-4-5"
    assert model_id("Claude Sonnet 4") == "claude-sonnet-4"
    assert model_id("Claude 3.5 Sonnet 2024-10-22") == "claude-3-5-sonnet-20241022"
    assert model_id("Claude 3 Haiku") == "claude-3-haiku"
    assert model_id("claude-opus-4-5-20251101") == "claude-opus-4-5-20251101"


def test_the_newer_token_export_keeps_geo_fast_mode_batch_and_sums_identical_rows():
    events = parse_file(NEWER)
    records = parsed(events)
    assert len(events) == len(records) == 4
    assert sum(p.record.input_tokens for p in records) == 311_012
    assert sum(p.record.cache_write_5m_tokens for p in records) == 200
    assert sum(p.record.cache_write_1h_tokens for p in records) == 51_234
    assert sum(p.record.cache_read_tokens for p in records) == 882_421
    assert sum(p.record.output_tokens for p in records) == 13_570
    assert sum(p.record.web_search_calls for p in records) == 4
    opus, sonnet, haiku_a, haiku_b = (p.record for p in records)
    assert (opus.service_tier, opus.region) == ("fast", "us")
    assert (sonnet.service_tier, sonnet.region) == ("batch", "")  # "not_available"
    assert records[2].source_key == records[3].source_key
    assert records[0].source_key == (
        'anthropic_console_csv:tokens:["2026-03-02", "claude-opus-4-6", "Claude Code", '
        '"claude_code_key_user_a1b2", "standard", "≤ 200k", "us", "fast"]'
    )
    assert haiku_a.input_tokens + haiku_b.input_tokens == 1_000


def test_bad_rows_are_errors_with_their_line_and_parsing_goes_on():
    text = (
        f"{TOKEN_HEADER}\n"
        "2026-02-31,claude-haiku-4-5,k,Default,standard,≤ 200k,1,0,0,0,1,0\n"
        "2026-02-01,claude-haiku-4-5,k,Default,standard,≤ 200k,-1,0,0,0,1,0\n"
        "2026-02-01,claude-haiku-4-5,k,Default,standard,≤ 200k,1,0,0,0,1.5,0\n"
        "2026-02-01,,k,Default,standard,≤ 200k,1,0,0,0,1,0\n"
        "2026-02-01,claude-haiku-4-5,k,Default,turbo,≤ 200k,1,0,0,0,1,0\n"
        "2026-02-01,claude-haiku-4-5,k,Default,standard,≤ 200k,1,0,0,0,1,0\n"
    )
    events = parse_text(text)
    assert [type(e) for e in events] == [LineError] * 5 + [Parsed]
    assert [e.line for e in events] == [2, 3, 4, 5, 6, 7]
    reasons = [e.reason for e in events[:5]]
    assert "usage_date_utc" in reasons[0]
    assert "usage_input_tokens_no_cache" in reasons[1]
    assert "usage_output_tokens" in reasons[2]
    assert "model_version" in reasons[3]
    assert "service tier" in reasons[4]


def test_a_bad_cost_amount_is_an_error():
    text = (
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,"
        "cost_usd,cost_type\n"
        "2026-02-01,Claude Haiku 4.5,Default,k,message,≤ 200k,output,n/a,token\n"
    )
    (event,) = parse_text(text)
    assert isinstance(event, LineError) and "cost_usd" in event.reason


def test_it_recognises_its_samples_and_nothing_else_claims_them():
    for path in (TOKENS, COST_DAY, COST_WEEK, NEWER):
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name)
        assert [p.name for p in OTHERS if p.sniff(head, path.name)] == []


def test_it_does_not_claim_other_csv_files():
    assert not PARSER.sniff(b"date,model,cost_usd\n", "claude_api_cost.csv")
    assert not PARSER.sniff(b'{"usage_date_utc": "2026-02-01"}', "x.json")
