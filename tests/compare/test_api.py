"""POST /api/v1/estimate on the bundled catalog."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post("/api/v1/estimate", data=json.dumps(body), content_type="application/json")


def test_it_prices_a_workload_on_every_model_with_strategies(client):
    response = post(
        client,
        {
            "requests_per_month": 1000,
            "input_tokens": 2000,
            "output_tokens": 100,
            "cached_prefix_tokens": 1500,
            "mean_gap_seconds": 30,
            "batch_share": 0,
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) >= 60
    for r in results:
        assert {
            "provider",
            "model",
            "monthly_cost_usd",
            "breakdown",
            "cache_hit_rate",
            "strategies",
        } <= set(r)
        names = [s["name"] for s in r["strategies"]]
        assert "none" in names
        assert D(r["monthly_cost_usd"]) == min(D(s["monthly_cost_usd"]) for s in r["strategies"])
    costs = [D(r["monthly_cost_usd"]) for r in results]
    assert costs == sorted(costs)


def test_haiku_45_without_a_prefix_costs_list_price(client):
    body = {
        "requests_per_month": 1000,
        "input_tokens": 2000,
        "output_tokens": 100,
        "models": ["claude-haiku-4-5"],
    }
    (result,) = post(client, body).json()["results"]
    # 1,000 x 2,000 x $1 + 1,000 x 100 x $5, per million tokens
    assert result["monthly_cost_usd"] == "2.5"
    assert result["breakdown"]["uncached_input"] == "2" and result["breakdown"]["output"] == "0.5"


def test_models_accept_aliases_and_report_unknown_ids(client):
    body = {
        "requests_per_month": 10,
        "input_tokens": 10,
        "output_tokens": 10,
        "models": ["claude-haiku-4-5-20251001", "no-such-model"],
    }
    data = post(client, body).json()
    assert [r["model"] for r in data["results"]] == ["claude-haiku-4-5"]
    assert data["unknown_models"] == ["no-such-model"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"requests_per_month": -1, "input_tokens": 10, "output_tokens": 1}, "requests_per_month"),
        ({"requests_per_month": 1, "input_tokens": "x", "output_tokens": 1}, "input_tokens"),
        (
            {
                "requests_per_month": 1,
                "input_tokens": 10,
                "output_tokens": 1,
                "cached_prefix_tokens": 11,
            },
            "cached_prefix_tokens",
        ),
        (
            {"requests_per_month": 1, "input_tokens": 10, "output_tokens": 1, "batch_share": 2},
            "batch_share",
        ),
        (
            {
                "requests_per_month": 1,
                "input_tokens": 10,
                "output_tokens": 1,
                "mean_gap_seconds": 0,
            },
            "mean_gap_seconds",
        ),
        ({"input_tokens": 10, "output_tokens": 1}, "requests_per_month"),
        (
            {"requests_per_month": 1, "input_tokens": 10, "output_tokens": 1, "models": "gpt-5"},
            "models",
        ),
        ([1, 2], "body"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, body, field):
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_invalid_json_and_wrong_method(client):
    assert (
        client.post("/api/v1/estimate", data="{", content_type="application/json").status_code
        == 400
    )
    assert client.get("/api/v1/estimate").status_code == 405


def test_the_conversation_form_replays_a_seeded_timeline(client):
    body = {
        "conversations_per_month": 20,
        "turns_per_conversation": 10,
        "system_tokens": 5000,
        "user_tokens_per_turn": 300,
        "output_tokens_per_turn": 400,
        "gaps": [[1.0, 20]],
        "models": ["claude-sonnet-4-5", "gpt-5"],
    }
    first = post(client, body)
    assert first.status_code == 200, first.content
    data = first.json()
    assert data["workload"]["requests"] == 200
    assert {r["model"] for r in data["results"]} == {"claude-sonnet-4-5", "gpt-5"}
    for r in data["results"]:
        assert any(s["name"] == "none" for s in r["strategies"])
        assert D(r["monthly_cost_usd"]) <= min(D(s["monthly_cost_usd"]) for s in r["strategies"])
    assert post(client, body).json() == data  # the same seed, the same answer


def test_a_bad_conversation_field_is_named(client):
    body = {
        "conversations_per_month": 1,
        "turns_per_conversation": 0,
        "system_tokens": 1,
        "user_tokens_per_turn": 1,
        "output_tokens_per_turn": 1,
    }
    response = post(client, body)
    assert response.status_code == 400 and response.json()["field"] == "turns_per_conversation"
