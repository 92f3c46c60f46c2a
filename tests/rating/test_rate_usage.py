"""`manage.py rate_usage FILE --json`: the catalog-backed entry point of the engine."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.catalog.factories import make_model, make_provider, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    prov = make_provider("ratetest")
    model = make_model("rt-haiku", prov, aliases=["rt-haiku-20251001", "ratetest/rt-haiku"])
    v1 = make_version(
        model,
        "2026-01-01T00:00:00Z",
        rates={
            "input": "1",
            "output": "5",
            "cache_read": "0.10",
            "cache_write_5m": "1.25",
            "cache_write_1h": "2",
        },
        tiers={"batch": "0.5"},
    )
    v2 = make_version(
        model,
        "2026-06-01T00:00:00Z",
        rates={
            "input": "0.5",
            "output": "2.5",
            "cache_read": "0.05",
            "cache_write_5m": "0.625",
            "cache_write_1h": "1",
        },
    )
    return {"model": model, "v1": v1, "v2": v2}


def run(tmp_path, lines, *args) -> dict:
    path = tmp_path / "usage.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = StringIO()
    call_command("rate_usage", str(path), "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def line(**kw) -> str:
    kw.setdefault("provider", "ratetest")
    kw.setdefault("timestamp", "2026-03-01T00:00:00Z")
    return json.dumps(kw)


def test_it_prices_each_record_at_its_own_day_and_sums_per_model(tmp_path, catalog):
    result = run(
        tmp_path,
        [
            # March, v1: 1,000 x $1 + 2,000 x $2 (1h write) + 10,000 x $0.10 + 500 x $5
            #          = 0.001 + 0.004 + 0.001 + 0.0025 = 0.0085
            line(
                model="rt-haiku-20251001",
                request_id="a",
                input_tokens=1000,
                cache_write_1h_tokens=2000,
                cache_read_tokens=10000,
                output_tokens=500,
            ),
            # July, v2: 1,000,000 x $0.50 = 0.5
            line(
                model="ratetest/rt-haiku",
                request_id="b",
                timestamp="2026-07-01T00:00:00Z",
                input_tokens=1_000_000,
            ),
        ],
    )
    assert result["total_cost_usd"] == "0.5085"
    (row,) = result["by_model"]
    assert (row["provider"], row["model"], row["requests"]) == ("ratetest", "rt-haiku", 2)
    assert row["cost_usd"] == "0.5085"
    assert row["input_tokens"] == 1_001_000 and row["cache_write_1h_tokens"] == 2000
    assert row["price_versions"] == sorted([str(catalog["v1"].pk), str(catalog["v2"].pk)])
    assert result["unpriced"]["records"] == 0


def test_at_reprices_everything_at_one_instant(tmp_path, catalog):
    lines = [
        line(model="rt-haiku", input_tokens=1_000_000),
        line(model="rt-haiku", timestamp="2026-07-01T00:00:00Z", input_tokens=1_000_000),
    ]
    assert run(tmp_path, lines)["total_cost_usd"] == "1.5"  # $1 in March + $0.50 in July
    assert run(tmp_path, lines, "--at", "2026-12-01T00:00:00Z")["total_cost_usd"] == "1"
    assert run(tmp_path, lines, "--version", str(catalog["v1"].pk))["total_cost_usd"] == "2"


def test_batch_tier_halves_the_bill(tmp_path, catalog):
    result = run(
        tmp_path,
        [
            line(
                model="rt-haiku",
                input_tokens=1_000_000,
                output_tokens=100_000,
                service_tier="batch",
            )
        ],
    )
    # (1,000,000 x $1 + 100,000 x $5) x 0.5 = (1 + 0.5) / 2
    assert result["total_cost_usd"] == "0.75"


def test_unknown_models_and_malformed_lines_are_reported_not_priced(tmp_path, catalog):
    result = run(
        tmp_path,
        [
            line(model="rt-haiku", input_tokens=1_000_000),
            line(model="no-such-model", input_tokens=7),
            "{not json",
            line(model="rt-haiku", input_tokens=-3),
            line(model="rt-haiku", timestamp="2025-01-01T00:00:00Z", input_tokens=1),
        ],
    )
    assert result["total_cost_usd"] == "1"
    assert result["unpriced"]["records"] == 2
    assert result["unpriced"]["models"] == ["no-such-model", "rt-haiku"]
    assert result["unpriced"]["reasons"] == {
        "unknown model": 1,
        "before the first price version": 1,
    }
    assert result["errors"]["count"] == 2
    assert any(":3: invalid JSON" in s for s in result["errors"]["samples"])
    assert any(
        ":4:" in s and "input_tokens: must not be negative" in s
        for s in result["errors"]["samples"]
    )
    assert result["lines_read"] == 5


def test_billed_costs_are_reconciled(tmp_path, catalog):
    result = run(tmp_path, [line(model="rt-haiku", input_tokens=1_000_000, billed_cost_usd="1.01")])
    assert result["reconciliation"] == [
        {
            "provider": "ratetest",
            "model": "rt-haiku",
            "requests": 1,
            "computed_usd": "1",
            "billed_usd": "1.01",
            "difference_usd": "-0.01",
        }
    ]


def test_bad_options_fail_with_a_clear_message(tmp_path, catalog):
    path = tmp_path / "u.jsonl"
    path.write_text(line(model="rt-haiku") + "\n")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("rate_usage", str(path), "--version", "999999", stdout=StringIO())
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("rate_usage", str(path), "--at", "soon", stdout=StringIO())
    with pytest.raises(CommandError, match="cannot read"):
        call_command("rate_usage", str(tmp_path / "missing.jsonl"), stdout=StringIO())
