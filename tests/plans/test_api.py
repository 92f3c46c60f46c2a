"""GET /api/v1/plans and POST /api/v1/resume-cost: decimal strings, 400s naming the field."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db
RESUME = "/api/v1/resume-cost"


def post(client, body, **extra):
    return client.post(RESUME, json.dumps(body), content_type="application/json", **extra)


def plan(body, slug):
    return next(p for p in body["plans"] if p["plan"] == slug)


def test_plans_at_an_instant_give_the_capacity_of_the_version_in_effect(client):
    before = client.get("/api/v1/plans?at=2026-05-05T23:59:59Z").json()
    after = client.get("/api/v1/plans?at=2026-05-06T00:00:00Z").json()
    window = lambda body: plan(body, "claude-max-20x")["windows"][0]  # noqa: E731
    assert window(before)["capacity_usd"] == {"low": "66", "mid": "200", "high": "363"}
    assert window(after)["capacity_usd"] == {"low": "132", "mid": "400", "high": "726"}
    assert window(after)["capacity"]["high"]["source_url"].startswith("https://claude-meter.com")
    assert plan(after, "claude-max-20x")["monthly_price_usd"] == "200"
    assert plan(after, "claude-max-20x")["covers_api"] is False


def test_plans_now_and_by_vendor(client):
    response = client.get("/api/v1/plans?vendor=github")
    body = response.json()
    assert response.status_code == 200 and "max-age=300" in response["Cache-Control"]
    assert {p["vendor"] for p in body["plans"]} == {"github"}
    pro = plan(body, "copilot-pro")
    # $100 a year is $8.33 a month to the cent; 1,500 credits of $0.01 are $15
    assert (pro["annual_price_usd"], pro["annual_price_per_month_usd"]) == ("100", "8.33")
    assert pro["windows"][0]["capacity_usd"]["mid"] == "15"


def test_a_plan_not_yet_offered_is_not_listed(client):
    body = client.get("/api/v1/plans?at=2026-03-01").json()
    assert "copilot-max" not in {p["plan"] for p in body["plans"]}


@pytest.mark.parametrize(("query", "field"), [("at=yesterday", "at"), ("at=9999-12-31T23:59:59-23:59", "at"),
                                              ("vendor=acme", "vendor")])  # fmt: skip
def test_bad_plan_queries_are_400_naming_the_field(client, query, field):
    response = client.get(f"/api/v1/plans?{query}")
    assert response.status_code == 400 and response.json()["field"] == field


def test_resume_cost_on_a_150k_context_after_6_minutes_with_a_5_minute_ttl(client):
    # Sonnet 4.5: write 150,000 x $3.75 = $0.5625 + 1,000 output x $15 = $0.015
    response = post(client, {"model": "claude-sonnet-4-5", "context_tokens": 150000,
                             "output_tokens": 1000, "idle_seconds": 360, "ttl": "5m"})  # fmt: skip
    body = response.json()
    assert response.status_code == 200, body
    assert (body["cost_usd"], body["cache"]) == ("0.5775", "expired")
    assert (body["warm_cost_usd"], body["expired_cost_usd"]) == ("0.06", "0.5775")
    assert body["keepalive_cost_usd"] == "0.105018"
    shares = {s["plan"]: s for s in body["window_share"]}
    # Max 20x today (doubled): 0.5775 / 132 = 0.004375, / 400 = 0.0014437..., / 726
    assert shares["claude-max-20x"]["low"] == "0.004375"
    assert shares["claude-max-20x"]["mid"].startswith("0.00144375")
    assert shares["claude-pro"]["mid"] is None and "unknown" in shares["claude-pro"]["note"]
    assert "chatgpt-plus" not in shares  # does not cover Claude models


def test_resume_cost_after_2_hours_with_a_1_hour_ttl_and_after_4_minutes(client):
    base = {"model": "claude-sonnet-4-5", "context_tokens": 150000, "output_tokens": 1000}
    expired = post(client, {**base, "idle_seconds": 7200, "ttl": "1h"}).json()
    warm = post(client, {**base, "idle_seconds": 240, "ttl": "5m"}).json()
    # 150,000 x $6 = $0.90 + $0.015; warm: 150,000 x $0.30 = $0.045 + $0.015
    assert (expired["cost_usd"], expired["cache"]) == ("0.915", "expired")
    assert (warm["cost_usd"], warm["cache"]) == ("0.06", "warm")


def test_resume_cost_with_dropped_tokens(client):
    body = post(client, {"model": "claude-sonnet-4-5", "context_tokens": 150000, "output_tokens": 1000,
                         "idle_seconds": 360, "ttl": "5m", "drop_tokens": 50000}).json()  # fmt: skip
    assert (body["drop_cost_usd"], body["drop_saving_usd"]) == ("0.39", "0.1875")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": None}, "model"),
        ({"model": "no-such-model"}, "model"),
        ({"context_tokens": -1}, "context_tokens"),
        ({"context_tokens": "1e40"}, "context_tokens"),
        ({"context_tokens": 1.5}, "context_tokens"),
        ({"output_tokens": None}, "output_tokens"),
        ({"idle_seconds": "soon"}, "idle_seconds"),
        ({"ttl": "30m"}, "ttl"),
        ({"new_input_tokens": True}, "new_input_tokens"),
        ({"drop_tokens": 200000}, "drop_tokens"),
        ({"model": "gpt-4o"}, "ttl"),  # no 5-minute cache-write price
    ],
)
def test_bad_resume_input_is_400_naming_the_field(client, change, field):
    body = {"model": "claude-sonnet-4-5", "context_tokens": 150000, "output_tokens": 10,
            "idle_seconds": 60, "ttl": "5m", **change}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    response = post(client, body)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field and response.json()["error"]


def test_resume_cost_refuses_other_methods_and_bad_bodies(client):
    response = client.get(RESUME)
    assert response.status_code == 405 and response["Allow"] == "POST"
    response = client.post(RESUME, "[1]", content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "body"
    response = client.post(RESUME, "x" * 10_000, content_type="application/json")
    assert response.status_code == 413


def test_resume_cost_spends_the_compute_budget(client, settings):
    settings.COMPUTE_UNITS_PER_MINUTE_ANON = 1
    body = {"model": "claude-sonnet-4-5", "context_tokens": 1000, "output_tokens": 10,
            "idle_seconds": 60, "ttl": "5m"}  # fmt: skip
    assert post(client, body, REMOTE_ADDR="203.0.113.9").status_code == 200
    response = post(client, body, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
