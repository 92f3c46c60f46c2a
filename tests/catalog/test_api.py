"""The read-only JSON API under /api/v1/."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .test_pages import make_catalog


@pytest.fixture
def catalog(db):
    return make_catalog()


def no_floats(text: str) -> float:
    raise AssertionError(f"float in API output: {text}")


def body(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content, parse_float=no_floats)


def get(client, path: str, **params):
    return client.get(f"/api/v1/{path}", params)


# --------------------------------------------------------------------------- /models


def test_models_lists_one_price_object_per_model_with_a_current_version(client, catalog):
    response = get(client, "models", provider="test-prov-a")
    assert response.status_code == HTTPStatus.OK
    models = body(response)["models"]
    assert [m["model"] for m in models] == ["test-model-a", "test-model-b"]
    a = models[0]
    assert a["provider"] == "test-prov-a"
    assert a["name"] == "Test Model A"
    assert a["aliases"] == ["test-model-a-20250101"]
    assert a["context_window"] == 200000
    assert a["prices"] == {
        "input": "2.5",
        "output": "10",
        "cache_read": "0.25",
        "cache_write_5m": "3.125",
        "cache_write_1h": "5",
    }
    assert a["long_context"]["threshold_tokens"] == 200000
    assert a["long_context"]["prices"] == {"input": "5", "output": "15"}
    assert a["service_tier_multipliers"] == {"batch": "0.5"}
    assert a["effective_from"] == "2026-03-01T00:00:00Z"
    assert a["unit"] == "USD per 1M tokens"


def test_models_leaves_out_models_with_only_scheduled_prices(client, catalog):
    models = body(get(client, "models", provider="test-prov-b"))["models"]
    assert [m["model"] for m in models] == ["test-model-c"]
    assert models[0]["prices"]["cache_write_30m"] == "0.5"
    assert models[0]["time_bands"][1] == {
        "label": "off-peak",
        "start": "16:30",
        "end": "24:00",
        "multiplier": "0.5",
    }
    assert models[0]["fees_per_1k_calls"] == {"web_search": "5"}
    assert models[0]["storage_per_mtok_hour"] == "4.5"


def test_models_at_an_instant_gives_the_prices_then(client, catalog):
    models = body(get(client, "models", provider="test-prov-a", at="2025-12-31T12:00:00Z"))
    by_slug = {m["model"]: m for m in models["models"]}
    assert by_slug["test-model-a"]["prices"]["input"] == "3"
    assert by_slug["test-model-b"]["prices"]["input"] == "1"


def test_models_at_before_any_version_lists_nothing(client, catalog):
    assert body(get(client, "models", provider="test-prov-a", at="2024-01-01"))["models"] == []


def test_models_rejects_a_bad_at(client, catalog):
    response = get(client, "models", at="yesterday")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "not an ISO 8601 date-time" in body(response)["error"]


def test_models_query_count_does_not_grow_with_the_number_of_models(
    client, catalog, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as one:
        get(client, "models", provider="test-prov-b")
    with CaptureQueriesContext(connection) as two:
        get(client, "models", provider="test-prov-a")
    assert len(one) == len(two)
    with django_assert_max_num_queries(6):
        get(client, "models")


# --------------------------------------------------------------------------- /models/<model>


def test_one_model_comes_with_its_whole_history(client, catalog):
    data = body(get(client, "models/test-model-a"))
    assert data["model"] == "test-model-a"
    assert data["prices"]["input"] == "2.5"
    history = data["history"]
    assert [h["effective_from"] for h in history] == [
        "2025-01-01T00:00:00Z",
        "2026-03-01T00:00:00Z",
        "2099-01-01T00:00:00Z",
    ]
    assert history[0]["prices"]["input"] == "3"
    assert history[2]["prices"] == {"input": "2", "output": "8", "cache_read": "0.2"}
    assert all(isinstance(h["version_id"], int) for h in history)
    assert history[1]["version_id"] == data["version_id"]


def test_one_model_can_be_named_by_an_alias(client, catalog):
    data = body(get(client, "models/test-b-alias-xyz"))
    assert data["model"] == "test-model-b"
    assert data["prices"] == {"input": "1", "output": "4"}


def test_one_unknown_model_is_404_with_a_reason(client, catalog):
    response = get(client, "models/no-such-model-x")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "unknown model 'no-such-model-x'" in body(response)["error"]


# --------------------------------------------------------------------------- /prices


@pytest.mark.parametrize(
    ("at", "expected_input"),
    [
        ("2026-02-28T23:59:59Z", "3"),
        ("2026-02-28T23:59:59.999999+00:00", "3"),
        # The boundary instant already belongs to the new version.
        ("2026-03-01T00:00:00Z", "2.5"),
        ("2026-03-01", "2.5"),  # a date alone is 00:00 UTC
        ("2026-03-01T00:30:00+01:00", "3"),  # = 2026-02-28T23:30Z
        ("2026-03-01T00:00:00-00:30", "2.5"),
        ("2026-03-01T00:00:00", "2.5"),  # no offset: UTC
        ("2099-01-01T00:00:00Z", "2"),  # a scheduled version
    ],
)
def test_prices_at_picks_the_version_in_effect_at_that_instant(client, catalog, at, expected_input):
    response = get(client, "prices", model="test-model-a", at=at)
    assert response.status_code == HTTPStatus.OK
    assert body(response)["prices"]["input"] == expected_input


def test_prices_accepts_an_offset_whose_plus_arrived_as_a_space(client, catalog):
    # "?at=2026-03-01T00:30:00+01:00" typed unencoded: the "+" is decoded as a space.
    response = client.get("/api/v1/prices?model=test-model-a&at=2026-03-01T00:30:00+01:00")
    assert body(response)["prices"]["input"] == "3"


def test_prices_at_defaults_to_now(client, catalog):
    data = body(get(client, "prices", model="test-model-a"))
    assert data["prices"]["input"] == "2.5"
    assert data["effective_from"] == "2026-03-01T00:00:00Z"
    assert data["at"].endswith("Z")


def test_prices_accepts_an_alias(client, catalog):
    assert body(get(client, "prices", model="TEST-B-ALIAS-XYZ"))["model"] == "test-model-b"


def test_prices_for_an_unknown_model_is_404_saying_so(client, catalog):
    response = get(client, "prices", model="no-such-model-x")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert body(response)["error"].startswith("unknown model 'no-such-model-x'")


def test_prices_before_the_first_version_is_404_saying_so(client, catalog):
    response = get(client, "prices", model="test-model-a", at="2024-12-31T23:59:59Z")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert body(response)["error"] == (
        "model 'test-model-a' has no published price version in effect at "
        "2024-12-31T23:59:59Z; its first version starts at 2025-01-01T00:00:00Z"
    )


def test_prices_for_a_model_with_only_scheduled_prices_is_404_saying_when_they_start(
    client, catalog
):
    error = body(get(client, "prices", model="test-model-d"))["error"]
    assert "no published price version in effect" in error
    assert "first version starts at 2099-06-01T00:00:00Z" in error


def test_prices_without_a_model_is_400(client, catalog):
    response = get(client, "prices")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert body(response)["error"].startswith("model: required")


@pytest.mark.parametrize("at", ["soon", "2026-13-01", "2026-03-01T25:00:00Z", "1740787200"])
def test_prices_with_a_bad_at_is_400(client, catalog, at):
    response = get(client, "prices", model="test-model-a", at=at)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert f"at: {at!r} is not an ISO 8601 date-time" in body(response)["error"]


# --------------------------------------------------------------------------- protocol


@pytest.mark.parametrize("path", ["models", "models/test-model-a", "prices?model=test-model-a"])
def test_the_api_is_public_cacheable_json(client, catalog, path):
    response = client.get(f"/api/v1/{path}")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("path", ["models", "models/test-model-a", "prices?model=test-model-a"])
def test_head_is_allowed(client, catalog, path):
    assert client.head(f"/api/v1/{path}").status_code == HTTPStatus.OK


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["models", "models/test-model-a", "prices?model=test-model-a"])
def test_the_api_has_no_write_methods(client, catalog, method, path):
    response = getattr(client, method)(f"/api/v1/{path}")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "GET, HEAD"
    assert "read-only" in body(response)["error"]


def test_api_errors_are_json_too(client, catalog):
    response = get(client, "prices", model="test-model-a", at="nope")
    assert response["Content-Type"] == "application/json"
