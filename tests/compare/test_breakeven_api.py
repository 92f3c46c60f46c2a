"""POST /api/v1/breakeven with a described workload: amounts worked by hand, 400s by field."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db
URL = "/api/v1/breakeven"
# Claude Haiku 4.5 at $1 input and $5 output per million tokens, no shared prefix (no cache):
# 1,000 x $1 / 1M + 200 x $5 / 1M = $0.001 + $0.001 = $0.002 a request.
HAIKU = {"model": "claude-haiku-4-5", "input_tokens": 1000, "output_tokens": 200}
CONVERSATION = {
    "model": "claude-haiku-4-5",
    "conversations_per_month": 10,
    "turns_per_conversation": 5,
    "system_tokens": 1000,
    "user_tokens_per_turn": 100,
    "output_tokens_per_turn": 100,
}


def post(client, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def plans(body):
    return {p["plan"]: p for p in body["plans"]}


def test_break_even_of_a_quick_workload_worked_by_hand(client):
    response = post(client, {**HAIKU, "requests_per_month": 10_000})
    body = response.json()
    assert response.status_code == 200, body
    # 10,000 requests x $0.002 = $20 a month on the API
    assert (body["model"], body["api_monthly_cost_usd"]) == ("claude-haiku-4-5", "20")
    assert (body["cost_per_request_usd"], body["strategy"]) == ("0.002", "none")
    by_plan = plans(body)
    # break-even = plan price / $0.002 a request
    assert by_plan["claude-pro"]["break_even_requests_per_month"] == "10000"  # $20
    assert by_plan["copilot-pro"]["break_even_requests_per_month"] == "5000"  # $10
    assert by_plan["claude-max-20x"]["break_even_requests_per_month"] == "100000"  # $200
    assert by_plan["copilot-pro-plus"]["break_even_requests_per_month"] == "19500"  # $39

    pro = by_plan["claude-pro"]
    assert pro == {**pro, "vendor": "anthropic", "monthly_price_usd": "20", "covers_model": True,
                   "capacity_usd": {"low": None, "mid": None, "high": None},
                   "capacity_known": False, "verdict": "api"}  # fmt: skip
    assert "unknown capacity" in pro["note"]  # prompts only: the verdict compares prices

    # Max 20x: 5-hour $132 / $400 / $726 x 144 against weekly $492 / - / $1,900 x 30 / 7
    max20 = by_plan["claude-max-20x"]
    assert max20["capacity_usd"] == {"low": "2108.571429", "mid": None, "high": "8142.857143"}
    # it stops covering at 2,108.571428... / 0.002 = 1,054,285.71 requests (low estimate)
    assert max20["covers_requests_per_month"]["low"] == "1054285.71"
    assert max20["verdict"] == "api"  # $200 > $20

    # Copilot Pro: 1,500 credits x $0.01 = $15 a month, under the $20 month: over the limit
    copilot = by_plan["copilot-pro"]
    assert copilot["capacity_usd"] == {"low": "15", "mid": "15", "high": "15"}
    assert copilot["covers_requests_per_month"]["mid"] == "7500"  # 15 / 0.002
    assert copilot["verdict"] == "over_limit"
    # Cursor Pro: a $20 pool covers exactly the $20 month; at $20 each, a tie is the API
    assert (by_plan["cursor-pro"]["verdict"], by_plan["cursor-pro"]["note"]) == ("api", "")
    assert by_plan["claude-enterprise"]["verdict"] == "over_limit"  # a $0 pool

    # plans that do not cover Claude models come last, without a break-even
    chatgpt = by_plan["chatgpt-plus"]
    assert chatgpt["covers_model"] is False and chatgpt["break_even_requests_per_month"] is None
    assert chatgpt["verdict"] == "api"
    covers = [p["covers_model"] for p in body["plans"]]
    assert covers == sorted(covers, reverse=True)


def test_a_plan_pays_off_between_its_break_even_and_its_capacity(client):
    # 75,000 requests x $0.002 = $150: Copilot Max at $100 holds $200 (20,000 credits x $0.01)
    body = post(client, {**HAIKU, "requests_per_month": 75_000}).json()
    copilot_max = plans(body)["copilot-max"]
    assert body["api_monthly_cost_usd"] == "150"
    assert copilot_max["break_even_requests_per_month"] == "50000"  # 100 / 0.002
    assert copilot_max["covers_requests_per_month"]["mid"] == "100000"  # 200 / 0.002
    assert copilot_max["verdict"] == "plan"
    assert plans(body)["claude-pro"]["verdict"] == "plan"  # $20 < $150, capacity unknown


def test_a_conversation_workload_gives_the_break_even_in_requests_and_conversations(client):
    response = post(client, CONVERSATION)
    body = response.json()
    assert response.status_code == 200, body
    # Each conversation: 5 turns, each sending the 1,000-token prefix, every earlier turn
    # (100 user + 100 output tokens each) and its own 100 user tokens:
    # input 5 x 1,000 + 100 x (1+2+3+4+5) + 100 x (0+1+2+3+4) = 7,500 tokens, output 500.
    # 7,500 x $1 / 1M + 500 x $5 / 1M = $0.01 a conversation (the prefix is under Haiku's
    # minimum cacheable length: no cache), 10 conversations = $0.10, 50 requests.
    assert (body["form"], body["api_monthly_cost_usd"]) == ("conversation", "0.1")
    assert (body["requests_per_month"], body["cost_per_conversation_usd"]) == (50, "0.01")
    pro = plans(body)["claude-pro"]
    # $20 / $0.01 = 2,000 conversations; $20 / ($0.10 / 50) = 10,000 requests
    assert pro["break_even_conversations_per_month"] == "2000"
    assert pro["break_even_requests_per_month"] == "10000"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"requests_per_month": 10, "input_tokens": 10, "output_tokens": 1}, 400, "model"),
        ({**HAIKU, "model": "", "requests_per_month": 10}, 400, "model"),
        ({**HAIKU, "model": ["claude-haiku-4-5"], "requests_per_month": 10}, 400, "model"),
        ({**HAIKU, "model": "no-such-model", "requests_per_month": 10}, 400, "model"),
        (HAIKU, 400, "requests_per_month"),
        ({**HAIKU, "requests_per_month": -1}, 400, "requests_per_month"),
        ({**HAIKU, "requests_per_month": 10, "input_tokens": "1e400000"}, 400, "input_tokens"),
        ({**CONVERSATION, "system_tokens": "x"}, 400, "system_tokens"),
        ({**CONVERSATION, "seed": -1}, 400, "seed"),
        ({"workload_id": "not-a-code"}, 400, "workload_id"),
        ({"workload_id": 12}, 400, "workload_id"),
        ({"workload_id": "6f1c0a4e-8a1b-4c55-9a37-5d1e3c2b1a00", "model": "x"}, 400, "model"),
        (
            {"workload_id": "6f1c0a4e-8a1b-4c55-9a37-5d1e3c2b1a00", "requests_per_month": 1},
            400,
            "workload_id",
        ),
        ("[1, 2]", 400, "body"),
        ("{not json", 400, "body"),
    ],
)
def test_bad_input_is_a_json_error_naming_the_field(client, body, status, field):
    response = post(client, body)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["field"] == field and response.json()["error"]


def test_only_post_is_allowed(client):
    response = client.get(URL)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "error" in response.json()
