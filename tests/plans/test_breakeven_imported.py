"""POST /api/v1/breakeven with workload_id: the owner's imported log, judged by its windows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from apps.usage.models import UsageRow

from .conftest import import_sample

pytestmark = pytest.mark.django_db
URL = "/api/v1/breakeven"


def post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def plans(body):
    return {p["plan"]: p for p in body["plans"]}


def test_only_the_owner_gets_the_break_even_of_an_imported_workload(client, bob, django_user_model):
    workload = import_sample(name="sample", owner=bob)
    body = {"workload_id": str(workload.code)}

    anonymous = post(client, body)
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/json"
    assert anonymous.json()["field"] == "workload_id"

    carol = django_user_model.objects.create_user("carol", "c@example.com", "pw-carol-123")
    client.force_login(carol)
    other = post(client, body)
    assert other.status_code == 404 and other.json()["field"] == "workload_id"

    client.force_login(bob)
    response = post(client, body)
    data = response.json()
    assert response.status_code == 200, data
    # the sample: one month (February 2026), 221 requests, $6.1725718 at the prices of the day
    assert (data["form"], data["months"], data["harness"]) == ("imported", 1, "claude-code")
    assert (data["api_monthly_cost_usd"], data["requests_per_month"]) == ("6.172572", "221")
    assert set(data["models"]) == {"claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-4-5"}
    assert data["model"] is None  # three models in the log
    by_plan = plans(data)
    # break-even: $20 over $6.1725718 / 221 a request = 716.07 requests a month
    expected = (D(20) * 221 / D("6.1725718")).quantize(D("0.01"))
    assert by_plan["claude-pro"]["break_even_requests_per_month"] == str(expected)
    # no session went past a mid estimate and $200 > $6.17: the API
    assert by_plan["claude-max-20x"]["verdict"] == "api"
    assert by_plan["claude-max-20x"]["hits"] == {"low": 0, "mid": 0, "high": 0}
    # Claude Enterprise's pool is $0, billed at API rates: any usage is past it
    assert by_plan["claude-enterprise"]["verdict"] == "over_limit"
    assert by_plan["chatgpt-plus"]["covers_model"] is False


def test_a_session_past_the_mid_estimate_is_over_the_limit(client, bob):
    # Opus 4.6 output at $25 per million: 10M tokens in one session = $250, past Max 20x's
    # $200 mid estimate of February (before the doubling), under its $363 high one
    workload = import_sample(name="busy", owner=bob)
    start = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
    UsageRow.objects.bulk_create(
        UsageRow(workload=workload, source_format="claude_code", source_key=f"k{i}", provider="anthropic",
                 model="claude-opus-4-6", timestamp=start + timedelta(minutes=10 * i), session_id="s",
                 output_tokens=5_000_000)
        for i in range(2)
    )  # fmt: skip
    client.force_login(bob)
    data = post(client, {"workload_id": str(workload.code)}).json()
    max20 = plans(data)["claude-max-20x"]
    assert max20["verdict"] == "over_limit" and max20["hits"] == {"low": 1, "mid": 1, "high": 0}
