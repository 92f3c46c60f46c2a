"""The two ways an event becomes a stored row agree field for field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from apps.rating.engine import UsageRecord
from apps.usage.formats.base import Merge, Parsed
from apps.usage.imports import rows
from apps.usage.models import ImportJob, Workload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "when",
    [datetime(2026, 2, 12, 15, 36, 39, 123000, tzinfo=UTC), datetime(2026, 2, 12, 15, 36, 39)],
)
@pytest.mark.parametrize("cost", [None, D("0.0123")])
def test_the_direct_row_tuple_equals_the_row_dicts_tuple(when, cost):
    job = ImportJob.objects.create(workload=Workload.objects.create(name="rows"))
    record = UsageRecord(
        provider="anthropic", model="m" * 250, timestamp=when, session_id="s", request_id="r",
        input_tokens=1, cache_read_tokens=2, cache_write_5m_tokens=3, cache_write_30m_tokens=4,
        cache_write_1h_tokens=5, cache_write_12h_tokens=6, cache_write_24h_tokens=7,
        output_tokens=8, reasoning_tokens=9, web_search_calls=10, requests=11,
        service_tier="batch", region="x" * 30, billed_cost_usd=cost, long_context=True,
    )  # fmt: skip
    event = Parsed(record, "claude_code:msg_1:req_1", 3, Merge.LARGEST, True)
    direct = rows.row_tuple_of(job, event)
    assert direct == rows.row_tuple(rows.row_values(job, event))
    assert len(direct) == len(rows.ROW_FIELDS)
    assert direct[rows.ROW_FIELDS.index("timestamp")].tzinfo is not None
