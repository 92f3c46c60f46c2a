"""The plans pages, the windows page (owner only) and ``usage_windows --json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command

from apps.plans.history import build_history
from apps.usage.models import UsageRow

from .conftest import import_sample

pytestmark = pytest.mark.django_db


def test_the_plans_page_lists_every_plan_with_price_windows_and_capacity(
    client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = client.get("/plans/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Claude Max 20x" in html and "$200.00" in html
    assert "$132.00 – $726.00 (mid $400.00)" in html  # today's 5-hour range, doubled
    assert "20 – 80 prompts" in html and "dollar range unknown" in html  # Claude Pro
    assert "1,500 credits" in html and "≈ $15.00" in html  # Copilot Pro
    assert "Cursor Ultra" in html and "$400.00" in html


def test_the_plans_page_filters_by_vendor_and_answers_htmx_with_the_table(client):
    html = client.get("/plans/?vendor=cursor").content.decode()
    assert "Cursor Pro" in html and "Claude Max 20x" not in html
    fragment = client.get("/plans/?vendor=openai", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="plan-table"') and "ChatGPT Plus" in body
    assert "Vary" in fragment and "HX-Request" in fragment["Vary"]
    # an unknown vendor is no filter
    assert "Cursor Pro" in client.get("/plans/?vendor=acme").content.decode()


def test_a_plan_page_shows_its_history_and_sources(client):
    html = client.get("/plans/claude-max-20x/").content.decode()
    assert "5-hour session $66.00 – $363.00 (mid $200.00) → $132.00 – $726.00 (mid $400.00)" in html
    assert "New: Agent SDK credit $200.00" in html
    assert "rhombus.so" in html and "2026-01-12" in html
    assert client.get("/plans/no-such-plan/").status_code == 404
    html = client.get("/plans/google-ai-ultra/").content.decode()
    assert "Monthly price $249.99 → $199.99" in html


def test_the_windows_page_is_the_owner_s_only(client, bob, django_user_model):
    workload = import_sample(name="sample", owner=bob)
    url = f"/plans/windows/{workload.code}/"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    carol = django_user_model.objects.create_user("carol", "c@example.com", "pw-carol-123")
    client.force_login(carol)
    assert client.get(url).status_code == 404
    client.force_login(bob)
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "2026-02-12 14:12" in html and "$6.17" in html  # one session, its API cost
    assert "Cheapest way to buy this usage: <strong>API at list prices</strong>" in html
    assert 'id="windows-figure"' in html and "Claude Max 20x" in html
    assert "unknown capacity" in html  # Claude Pro: prompts only
    assert "The ten most expensive resumes" in html
    # the list page links the signed-in user's workloads
    assert url in client.get("/plans/").content.decode()


def test_usage_windows_prints_the_windows_and_plans_as_json(db):
    import_sample(name="cli sample")
    out = StringIO()
    call_command("usage_windows", workload="cli sample", json=True, stdout=out)
    body = json.loads(out.getvalue())
    [window] = body["windows"]
    # the sample: 221 responses between 14:12:02.971 and 15:05 UTC on 2026-02-12
    assert window == {
        "start": "2026-02-12T14:12:02.971000Z", "end": "2026-02-12T19:12:02.971000Z",
        "requests": 221, "input_tokens": 2653, "cache_read_tokens": 16600744,
        "cache_write_tokens": 377624, "output_tokens": 49482, "api_cost_usd": "6.1725718",
        "unpriced_requests": 0,
        "models": ["claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-4-5"],
    }  # fmt: skip
    plans = {p["plan"]: p for p in body["plans"]}
    # February 2026: before the doubling, $6.1725718 / $66 = 0.093524 of the low estimate
    assert plans["claude-max-20x"]["windows"][0]["share"]["low"] == "0.093524"
    assert (
        plans["claude-max-20x"]["status"] == "fits" and plans["claude-pro"]["status"] == "unknown"
    )
    assert plans["cursor-pro"]["total_usd"]["mid"] == "20"
    assert "chatgpt-plus" not in plans
    assert body["cheapest"] == {
        "option": "api",
        "name": "API at list prices",
        "total_usd": "6.1725718",
    }


def test_windows_of_a_busy_log_hit_the_limit_and_count_resumes(bob):
    # Opus 4.6 output at $25 per million tokens: 10M output tokens in a session = $250,
    # over Max 20x's $200 mid estimate (February: before the doubling)
    workload = import_sample(name="busy", owner=bob)
    start = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
    UsageRow.objects.bulk_create(
        UsageRow(workload=workload, source_format="claude_code", source_key=f"k{i}", provider="anthropic",
                 model="claude-opus-4-6", timestamp=start + timedelta(minutes=10 * i), session_id="s",
                 output_tokens=5_000_000)
        for i in range(2)
    )  # fmt: skip
    history = build_history(workload)
    assert [w.cost for w in history.groups.sessions.windows][-1] == D("250")
    verdict = next(v for v in history.verdicts if v.plan == "claude-max-20x")
    assert verdict.status == "hits" and verdict.mid_hits == 1
    assert (verdict.hits("low"), verdict.hits("high")) == (1, 0)  # $250 < $363
