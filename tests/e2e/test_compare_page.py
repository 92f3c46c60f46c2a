"""In a real browser: the comparison page draws its charts under the CSP and recomputes
in place (htmx, debounced) as the form changes, keeping the whole state in the URL."""

from __future__ import annotations

import os
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


@pytest.mark.django_db(transaction=True)
def test_the_subscription_section_draws_its_chart_and_follows_the_form(live_server, page):
    call_command("load_catalog", verbosity=0)
    call_command("load_plans", verbosity=0)
    # Claude Sonnet 4.5, no prefix: 1,000 x $3 / 1M + 200 x $15 / 1M = $0.006 a request
    query = ("requests_per_month=10000&input_tokens=1000&output_tokens=200"
             "&cached_prefix_tokens=0&mean_gap_seconds=30&model=claude-sonnet-4-5")  # fmt: skip
    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(f"{live_server.url}/compare/?{query}")

    section = page.locator("#subscriptions")
    assert "Subscription or pay-per-token?" in section.inner_text()
    page.wait_for_selector("#subscriptions .chart .main-svg", timeout=10_000)
    # the API line, each plan's flat line and the break-even dots are drawn
    assert page.locator("#subscriptions .chart .scatterlayer .trace").count() >= 10
    pro = page.locator('#subscriptions tr[data-plan="claude-pro"] td.num strong')
    assert pro.inner_text() == "3,333"  # $20 / $0.006
    assert page.locator('#subscriptions tr[data-plan="chatgpt-plus"]').count() == 0

    # a dearer request recomputes the section in place (htmx), with its chart
    page.evaluate("window.__same_page = true")
    page.fill("#id_output_tokens", "400")  # $0.003 + $0.006 = $0.009: $20 / $0.009 = 2,222
    page.wait_for_url(re.compile(r"output_tokens=400"), timeout=10_000)
    page.wait_for_function(
        "document.querySelector('#subscriptions tr[data-plan=\"claude-pro\"] td.num strong')"
        ".innerText === '2,222'",
        timeout=10_000,
    )
    assert page.evaluate("window.__same_page") is True
    page.wait_for_selector("#subscriptions .chart .main-svg", timeout=10_000)
    page.wait_for_function("!document.querySelector('.htmx-request')", timeout=10_000)
    if os.environ.get("SCREENSHOTS"):
        section.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "subscriptions.png"))
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
