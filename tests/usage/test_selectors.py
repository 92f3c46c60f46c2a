"""The workload summary (the bulk path over stored rows) honours every stored field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from apps.usage.models import UsageRow, Workload
from apps.usage.selectors import workload_columns, workload_summary

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _row(workload: Workload, key: str, **fields) -> UsageRow:
    values = {"provider": "anthropic", "model": "claude-sonnet-4-5", "timestamp": WHEN}
    return UsageRow.objects.create(
        workload=workload, source_format="test", source_key=key, **(values | fields)
    )


def test_the_sources_long_context_flag_prices_the_whole_request_long():
    # An Anthropic report bucket of 10 requests, 1M input tokens in all: 100K each, under
    # Sonnet 4.5's 200K threshold by size, but the report's context_window says "200k-1M".
    w = Workload.objects.create(name="flags")
    _row(w, "long", input_tokens=1_000_000, output_tokens=100_000, requests=10, long_context=True)
    _row(w, "short", input_tokens=1_000_000, output_tokens=100_000, requests=10, long_context=None)
    summary = workload_summary(w)
    # long: 1M x $6/MTok + 100K x $22.50/MTok = 6 + 2.25 = 8.25
    # short (decided by size, 100K < 200K): 1M x $3 + 100K x $15 = 3 + 1.5 = 4.50
    assert D(summary["total_cost_usd"]) == D("12.75")


def test_columns_cover_every_row_across_chunks(monkeypatch):
    from apps.usage import selectors

    monkeypatch.setattr(selectors, "_CHUNK", 2)
    w = Workload.objects.create(name="chunks")
    for i in range(5):
        _row(w, f"k{i}", input_tokens=i + 1, service_tier="batch" if i % 2 else "standard")
    cols = workload_columns(w)
    assert cols.n == 5
    assert sorted(cols.tokens[:, 0].tolist()) == [1, 2, 3, 4, 5]
    assert sorted(cols.tier_code.tolist()) == [0, 0, 0, 1, 1]
    assert cols.long_flag.tolist() == [-1] * 5


def test_an_empty_workload_has_no_columns_and_costs_nothing():
    w = Workload.objects.create(name="empty")
    assert workload_columns(w).n == 0
    assert D(workload_summary(w)["total_cost_usd"]) == 0
