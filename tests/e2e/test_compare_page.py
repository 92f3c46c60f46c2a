"""In a real browser: the comparison page draws its charts under the CSP and recomputes
in place (htmx, debounced) as the form changes, keeping the whole state in the URL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

QUERY = (
    "requests_per_month=10000&input_tokens=3000&output_tokens=300"
    "&cached_prefix_tokens=2000&mean_gap_seconds=600&batch_share=0"
)


@pytest.mark.django_db(transaction=True)
def test_charts_draw_and_the_table_follows_the_form(live_server, page):
    call_command("load_catalog", verbosity=0)
    page.goto(f"{live_server.url}/compare/?{QUERY}")

    # every model of the catalog priced in the table; the strict Plotly bundle drew charts
    rows = page.locator("#results table.compare-table tbody tr")
    assert rows.count() >= 60
    page.wait_for_selector(".chart .main-svg", timeout=10_000)
    assert page.locator(".chart .main-svg").count() >= 3
    first_cost = page.inner_text("#results table.compare-table tbody tr >> nth=0 >> td.num")

    # a change recomputes in place (no reload) and the URL holds the new state
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    page.fill("#id_requests_per_month", "20000")
    page.wait_for_url(re.compile(r"requests_per_month=20000"), timeout=10_000)
    page.wait_for_function(
        "old => document.querySelector("
        "'#results table.compare-table tbody tr td.num').innerText !== old",
        arg=first_cost,
        timeout=10_000,
    )
    assert page.evaluate("window.__same_page") is True
    state = parse_qs(urlsplit(page.url).query)
    assert state["requests_per_month"] == ["20000"] and state["input_tokens"] == ["3000"]
    page.wait_for_selector(".chart .main-svg", timeout=10_000)

    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
    assert not [e for e in page.csp_errors if "Plotly" in e or "htmx" in e], page.csp_errors
