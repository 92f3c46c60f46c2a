"""The front page: the three ways in and a live example priced on the bundled catalog."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


def test_the_front_page_leads_to_prices_compare_and_import(client):
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for url in ("/prices/", "/compare/", "/imports/"):
        assert f'href="{url}"' in html
    assert "Live example" in html


def test_the_live_example_is_the_quick_estimate_of_its_workload(client):
    html = client.get("/").content.decode()
    api = client.post(
        "/api/v1/estimate",
        data={"requests_per_month": 100000, "input_tokens": 3000, "output_tokens": 400,
              "cached_prefix_tokens": 2000, "mean_gap_seconds": 30},
        content_type="application/json",
    ).json()  # fmt: skip
    cheapest = min((r for r in api["results"] if r["monthly_cost_usd"] != "0"),
                   key=lambda r: Decimal(r["monthly_cost_usd"]))  # fmt: skip
    assert cheapest["name"] in html
