"""/compare/: the quick workload priced on every model of the bundled catalog."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal as D
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from apps.common.display import usd
from apps.compare.chartsets import _pricers, volume_series
from apps.compare.forms import quick_workload
from apps.compare.rows import comparison_rows
from apps.compare.sources import estimate
from apps.rating.adapter import catalog_generation

pytestmark = pytest.mark.django_db
PAGE = "/compare/"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Results are cached per query for five minutes; every test starts cold.
    cache.clear()
    yield
    cache.clear()


def slugs(response) -> list[str]:
    return [r.model for r in response.context["rows"]]


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<span class="field-error" id="error-{name}"[^>]*>([^<]*)</span>', html)
    assert match, f"no error slot for {name}"
    return match.group(1)


# --------------------------------------------------------------------------- the page


def test_the_page_lists_every_priced_model(client):
    response = client.get(PAGE)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "<h1>Compare models for your workload</h1>" in html
    results, _ = estimate(quick_workload({}))
    assert len(results) > 40
    assert sorted(slugs(response)) == sorted(e.model for e in results)
    assert html.count('<span class="slug">') == len(results)


def test_the_url_is_the_compare_page():
    assert reverse("compare:page") == PAGE


def test_the_cheapest_row_is_estimates_first_result_and_is_highlighted(client):
    response = client.get(PAGE)
    first = estimate(quick_workload({}))[0][0]
    assert response.context["cheapest"].model == first.model
    assert response.context["rows"][0].model == first.model  # default sort: cheapest first
    html = response.content.decode()
    row = re.search(r'<tr class="row--cheapest">(.*?)</tr>', html, re.S).group(1)
    assert f'href="/prices/{first.provider}/{first.model}/"' in row
    assert f"<strong>{usd(first.best.cost)}</strong>" in row
    assert "cheapest</span>" in row
    assert html.count("row--cheapest") == 1


def test_a_row_shows_its_breakdown_and_dashes_what_does_not_apply(client):
    response = client.get(PAGE, {"provider": "mistral"})
    html = response.content.decode()
    row = response.context["rows"][0]
    assert row.strategy == "none"  # Mistral offers no prompt cache
    assert row.parts["cache_reads"] is None and row.hit_rate is None
    assert row.parts["uncached_input"] + row.parts["output"] == row.monthly_cost
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    first = re.search(r"<tr[^>]*>(.*?)</tr>", body, re.S).group(1)
    assert '<td class="num missing">—</td>' in first
    assert "No caching" in first


def test_the_page_without_parameters_uses_the_api_defaults(client):
    html = client.get(PAGE).content.decode()
    assert 'name="requests_per_month" id="id_requests_per_month"' in html
    assert re.search(r'id="id_requests_per_month"[^>]*value="100000"', html, re.S)
    assert re.search(r'id="id_mean_gap_seconds"[^>]*value="30"', html, re.S)


# --------------------------------------------------------------------------- htmx


def test_htmx_gets_only_the_results_fragment_and_the_response_varies_on_it(client):
    response = client.get(PAGE, {"requests_per_month": "5000"}, headers=HTMX)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html and 'id="compare-form"' not in html
    assert "<table" in html
    assert "HX-Request" in response["Vary"]
    assert "HX-Request" in client.get(PAGE)["Vary"]


def test_a_history_restore_gets_the_whole_page(client):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    html = client.get(PAGE, headers=headers).content.decode()
    assert "<html" in html and 'id="compare-form"' in html


def test_the_form_recomputes_with_htmx_as_it_changes_and_pushes_the_url(client):
    html = client.get(PAGE).content.decode()
    form = re.search(r'<form id="compare-form"[^>]*>', html, re.S).group(0)
    assert 'method="get"' in form and 'action="/compare/"' in form
    assert 'hx-get="/compare/"' in form
    assert 'hx-trigger="input changed delay:400ms, change' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#results"' in form


def test_htmx_errors_refresh_the_message_next_to_each_field(client):
    response = client.get(PAGE, {"requests_per_month": "-3"}, headers=HTMX)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert re.search(r'id="error-requests_per_month" hx-swap-oob="true">must be 0 or more<', html)
    # the other fields' slots are cleared
    assert 'id="error-input_tokens" hx-swap-oob="true"></span>' in html


# --------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"requests_per_month": "-5"}, "requests_per_month", "must be 0 or more"),
        ({"requests_per_month": "abc"}, "requests_per_month", "must be a whole number"),
        ({"requests_per_month": "1.5"}, "requests_per_month", "must be a whole number"),
        ({"requests_per_month": ""}, "requests_per_month", "enter a value"),
        ({"requests_per_month": "1e400"}, "requests_per_month", "must be at most"),
        ({"input_tokens": "100", "cached_prefix_tokens": "500"}, "cached_prefix_tokens",
         "between 0 and input tokens"),
        ({"mean_gap_seconds": "0"}, "mean_gap_seconds", "must be more than 0"),
        ({"mean_gap_seconds": "NaN"}, "mean_gap_seconds", "finite"),
        # Issue 9: a gap past 30 days caches nothing; 1e308 and 1e400 were "valid" and
        # 1e400 put a bare Infinity in the API's JSON.
        ({"mean_gap_seconds": "1e308"}, "mean_gap_seconds", "at most 2,592,000"),
        ({"mean_gap_seconds": "1e400"}, "mean_gap_seconds", "at most 2,592,000"),
        ({"min_context": "²"}, "min_context", "whole number"),
        ({"min_context": "9" * 4400}, "min_context", "whole number"),
        ({"arrival": "bursty"}, "arrival", "must be poisson or fixed"),
        ({"batch_percent": "150"}, "batch_percent", "between 0 and 100"),
        ({"batch_percent": "x"}, "batch_percent", "must be a number"),
        ({"min_context": "-1"}, "min_context", "whole number"),
        ({"min_output": "lots"}, "min_output", "whole number"),
        ({"max_cost": "-2"}, "max_cost", "0 or more"),
        ({"max_cost": "Infinity"}, "max_cost", "0 or more"),
        ({"model": "no-such-model"}, "model", "no priced model"),
    ],
)  # fmt: skip
def test_invalid_input_is_a_400_naming_the_field(client, params, field, message):
    response = client.get(PAGE, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert message in field_error(html, field)
    assert f'<a href="#id_{field}">' in html  # the summary links to the field
    assert re.search(rf'id="id_{field}"[^>]*aria-invalid="true"', html, re.S)


def test_an_invalid_workload_keeps_the_rest_of_the_form(client):
    params = {"requests_per_month": "-5", "provider": ["anthropic"], "min_context": "100000",
              "model": "claude-haiku-4-5", "sort": "-hit_rate"}  # fmt: skip
    html = client.get(PAGE, params).content.decode()
    assert re.search(r'value="anthropic" checked', html)
    assert re.search(r'id="id_min_context"[^>]*value="100000"', html, re.S)
    assert '<input type="hidden" name="model" value="claude-haiku-4-5" form="compare-form">' in html
    assert '<input type="hidden" name="sort" value="-hit_rate" form="compare-form">' in html
    assert "<table" not in html


@pytest.mark.parametrize(
    "params",
    [
        {"mean_gap_seconds": "1e-320"},
        {"mean_gap_seconds": "2592000", "arrival": "fixed"},
        {"requests_per_month": "0"},
        {"requests_per_month": "1"},
        {"cached_prefix_tokens": "0"},
        {"batch_percent": "100"},
        {"sort": "nonsense"},
        {"provider": ["nobody"]},
        {"max_cost": "0"},
        {"model": ""},
    ],
)
def test_odd_but_valid_input_never_fails(client, params):
    response = client.get(PAGE, params)
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "params",
    [
        {"input_tokens": "1e30", "cached_prefix_tokens": "0"},
        {"input_tokens": "1e400", "output_tokens": "1e400"},
        {"output_tokens": "99999999999999999999"},
    ],
)
def test_absurd_token_counts_are_a_form_error_not_a_500(client, params):
    response = client.get(PAGE, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "100,000,000" in response.content.decode()


# --------------------------------------------------------------------------- filters and sort


def test_it_filters_by_one_or_more_providers(client):
    only = client.get(PAGE, {"provider": "anthropic"}).context["rows"]
    assert only and {r.provider for r in only} == {"anthropic"}
    two = client.get(PAGE, {"provider": ["anthropic", "google"]}).context["rows"]
    assert {r.provider for r in two} == {"anthropic", "google"}
    assert len(two) > len(only)


def test_it_filters_by_context_window_max_output_and_price(client):
    every = client.get(PAGE).context["rows"]
    rows = client.get(PAGE, {"min_context": "400000"}).context["rows"]
    assert rows and len(rows) < len(every)
    assert all(r.context_window >= 400_000 for r in rows)
    rows = client.get(PAGE, {"min_output": "100000"}).context["rows"]
    assert rows and all(r.max_output_tokens >= 100_000 for r in rows)
    rows = client.get(PAGE, {"max_cost": "100"}).context["rows"]
    assert rows and all(r.monthly_cost <= D(100) for r in rows)
    assert len(rows) == sum(1 for r in every if r.monthly_cost <= D(100))


def test_nothing_matching_says_so_and_offers_to_clear_the_filters(client):
    response = client.get(PAGE, {"max_cost": "0.0001", "requests_per_month": "7"})
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "No model matches the filters." in html
    assert 'href="?requests_per_month=7">Clear the filters</a>' in html


@pytest.mark.parametrize(
    "key", ["monthly_cost", "cost_per_request", "hit_rate", "cache_reads", "context_window",
            "provider", "model"],
)  # fmt: skip
def test_every_column_sorts_both_ways_with_missing_values_last(client, key):
    for descending in (False, True):
        sort = f"-{key}" if descending else key
        rows = client.get(PAGE, {"sort": sort}).context["rows"]
        values = [r.value(key) for r in rows]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=descending)
        assert values[len(present) :] == [None] * (len(values) - len(present))


def test_sort_links_keep_the_state_and_flip_the_active_column(client):
    html = client.get(PAGE, {"requests_per_month": "5000", "sort": "hit_rate"}).content.decode()
    assert 'href="?requests_per_month=5000&amp;sort=-hit_rate"' in html
    assert 'href="?requests_per_month=5000&amp;sort=provider"' in html
    assert re.search(r'aria-sort="ascending"[^>]*><a class="sort" [^>]*>Hit rate', html)


# --------------------------------------------------------------------------- URL state


def test_the_form_is_filled_from_the_query(client):
    params = {
        "requests_per_month": "25000",
        "input_tokens": "8000",
        "output_tokens": "250",
        "cached_prefix_tokens": "6000",
        "mean_gap_seconds": "600",
        "arrival": "fixed",
        "batch_percent": "40",
        "provider": ["anthropic", "openai"],
        "min_context": "128000",
        "min_output": "8000",
        "max_cost": "900",
        "model": "claude-haiku-4-5",
        "sort": "-cache_reads",
    }
    response = client.get(PAGE, params)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for name in (
        "requests_per_month",
        "input_tokens",
        "output_tokens",
        "cached_prefix_tokens",
        "mean_gap_seconds",
        "batch_percent",
        "min_context",
        "min_output",
        "max_cost",
    ):
        assert re.search(rf'id="id_{name}"[^>]*value="{params[name]}"', html, re.S), name  # fmt: skip
    assert '<option value="fixed" selected>' in html
    assert 'value="anthropic" checked' in html and 'value="openai" checked' in html
    assert 'value="google" checked' not in html
    assert '<option value="claude-haiku-4-5" selected>' in html
    assert '<input type="hidden" name="sort" value="-cache_reads" form="compare-form">' in html
    # and it is what got priced
    workload = response.context["form"].workload
    assert workload.arrival == "fixed" and workload.batch_share == D("0.4")
    assert workload.mean_gap_seconds == 600 and workload.cached_prefix_tokens == 6000


def test_the_chosen_model_defaults_to_the_cheapest_row(client):
    response = client.get(PAGE, {"provider": "anthropic"})
    assert response.context["chosen"].model == response.context["rows"][0].model
    html = response.content.decode()
    assert "Expired caches and the cheapest TTL for" in html
    assert '<option value="">Cheapest in the table' in html


# --------------------------------------------------------------------------- charts


def test_the_page_ships_four_figures_as_json(client):
    response = client.get(PAGE, {"model": "claude-haiku-4-5"})
    html = response.content.decode()
    for figure in ("monthly-cost", "cost-volume", "caching-savings", "cache-ttl"):
        assert f'<script id="{figure}-figure" type="application/json">' in html
        assert f'data-figure="{figure}-figure"' in html
    chart_set = response.context["chart_set"]
    assert [c.id for c in chart_set.charts] == ["monthly-cost", "cost-volume", "caching-savings"]
    ttl_names = [t["name"] for t in chart_set.ttl.figure["data"]]
    assert ttl_names == ["No caching", "5m TTL", "1h TTL", "5m TTL + keep-alive"]


def test_the_ttl_detail_names_the_cheapest_strategy_break_evens_and_lost_dollars(client):
    # Haiku 4.5 caches prefixes of 4,096 tokens or more (tests/compare/test_quick.py)
    params = {"model": "claude-haiku-4-5", "input_tokens": "6000", "cached_prefix_tokens": "5000"}
    response = client.get(PAGE, {**params, "mean_gap_seconds": "120"})
    detail = response.context["chart_set"].detail
    html = response.content.decode()
    assert detail.gap == "2 min"
    assert detail.cheapest_label == "1h TTL"
    assert detail.break_evens  # 5m TTL below a minute or so, no caching at hours
    assert [b[1] for b in detail.break_evens][0] == "5m TTL"
    assert "Dollars lost to expired caches" in html
    assert f"<strong>{detail.lost}</strong> a month" in html


def test_caches_that_never_expire_lose_nothing(client):
    # Evenly spaced requests a minute apart: every request after the first reads the cache.
    params = {"model": "claude-haiku-4-5", "input_tokens": "6000", "cached_prefix_tokens": "5000",
              "mean_gap_seconds": "60", "arrival": "fixed"}  # fmt: skip
    detail = client.get(PAGE, params).context["chart_set"].detail
    assert detail.lost == "$0.00"
    assert detail.cheapest_label == "5m TTL"


def test_a_model_without_caching_says_nothing_can_expire(client):
    response = client.get(PAGE, {"model": "mistral-small-3.2"})
    detail = response.context["chart_set"].detail
    assert not detail.offers_caching and detail.lost == "$0.00" and detail.break_evens == ()
    assert "offers no prompt caching" in response.content.decode()


def test_a_prefix_under_the_minimum_says_why_caching_changes_nothing(client):
    response = client.get(PAGE, {"model": "claude-haiku-4-5", "cached_prefix_tokens": "2000"})
    detail = response.context["chart_set"].detail
    assert detail.cheapest_label == "No caching" and detail.lost == "$0.00"
    assert "below the minimum cacheable length (4096)" in detail.notes[0]
    assert "Caching changes nothing for this workload" in response.content.decode()


def test_cost_vs_volume_at_100_percent_is_the_tables_monthly_cost():
    # The selector prices volumes with estimate_model directly; it must agree with estimate().
    workload = quick_workload({})
    rows = comparison_rows(workload, generation=catalog_generation())[:5]
    when = timezone.now()
    volumes, series = volume_series(workload, rows, _pricers([r.model for r in rows], when))
    at = volumes.index(workload.requests_per_month)
    for row, line in zip(rows, series, strict=True):
        assert line.values[at] == row.monthly_cost
    # and at 10% it is what estimate() says for a tenth of the requests
    tenth = replace(workload, requests_per_month=workload.requests_per_month // 10)
    expected = {e.model: e.best.cost for e in estimate(tenth, models=[r.model for r in rows])[0]}
    at = volumes.index(tenth.requests_per_month)
    assert {s.name: s.values[at] for s in series} == expected


# --------------------------------------------------------------------------- cost and safety


def test_the_page_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    # Cold: catalog generation, providers, the estimate (book, models, policies) and the
    # chart sheets, whatever the number of models. Warm: the generation and the providers.
    with django_assert_max_num_queries(20):
        assert client.get(PAGE).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(3):
        assert client.get(PAGE).status_code == HTTPStatus.OK
    # A new sort reuses everything; a new filter reuses the rows and redraws the charts.
    with django_assert_max_num_queries(3):
        client.get(PAGE, {"sort": "-hit_rate"})
    with django_assert_max_num_queries(8):
        client.get(PAGE, {"provider": "openai"})


def test_results_are_cached_per_workload(client, django_assert_max_num_queries):
    client.get(PAGE, {"requests_per_month": "1234"})
    with django_assert_max_num_queries(3):
        client.get(PAGE, {"requests_per_month": "1234"}, headers=HTMX)


def test_the_page_sends_a_csp_and_no_script_runs_without_a_nonce(client):
    response = client.get(PAGE)
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy and "unsafe-eval" not in policy
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) >= 7  # htmx, plotly, charts.js, compare.js and four figures
    for tag in scripts:
        if 'type="application/json"' in tag:
            continue  # json_script data is never executed
        assert 'src="/static/' in tag or f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "inline event handlers are blocked by CSP"


def test_plotly_and_the_page_scripts_load_on_this_page(client):
    html = client.get(PAGE).content.decode()
    assert '<script src="/static/vendor/plotly-strict.min.js" defer>' in html
    assert '<script src="/static/js/charts.js" defer>' in html
    assert '<script src="/static/js/compare.js" defer>' in html


def test_the_nav_links_to_compare_and_imports(client):
    html = client.get(PAGE).content.decode()
    assert '<a href="/compare/" aria-current="page">Compare</a>' in html
    assert '<a href="/imports/">Import</a>' in html
