"""The public catalog pages: /prices/ and /prices/<provider>/<model>/."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.catalog.models import BatchPolicy, CachePolicy, LanguageModel, ModelAlias, Provider
from apps.catalog.services.versions import version_create, version_publish
from apps.catalog.version_data import clean_version_data

PRICES = "/prices/"


def publish(model: LanguageModel, raw: dict) -> None:
    data = clean_version_data(raw, f"test {model.slug}")
    version_publish(version=version_create(model=model, data=data))


def make_catalog() -> dict[str, LanguageModel]:
    """Four models under two test providers, with slugs no bundled model uses.

    test-model-a: three versions (2025-01-01, a cut on 2026-03-01, a scheduled one in 2099),
    long context, batch x0.5, a provider cache policy with a model override.
    test-model-b: no cache prices, one alias. test-model-c: a 30m cache write, and off-peak
    time bands, a region, a fee and storage added by its second version. test-model-d: only a scheduled version, so not listed yet.
    """
    alpha = Provider.objects.create(slug="test-prov-a", name="Test Alpha")
    beta = Provider.objects.create(slug="test-prov-b", name="Test Beta")
    a = LanguageModel.objects.create(
        provider=alpha, slug="test-model-a", name="Test Model A", context_window=200_000
    )
    b = LanguageModel.objects.create(
        provider=alpha, slug="test-model-b", name="Test Model B", context_window=1_048_576
    )
    c = LanguageModel.objects.create(provider=beta, slug="test-model-c", name="Test Model C")
    d = LanguageModel.objects.create(provider=beta, slug="test-model-d", name="Test Model D")
    ModelAlias.objects.create(alias="test-b-alias-xyz", model=b)
    ModelAlias.objects.create(alias="test-model-a-20250101", model=a)
    source = "https://example.com/pricing"
    publish(
        a,
        {
            "effective_from": "2025-01-01T00:00:00Z",
            "source_url": source,
            "checked_on": "2026-01-15",
            "rates": {
                "input": "3",
                "output": "15",
                "cache_read": "0.30",
                "cache_write_5m": "3.75",
                "cache_write_1h": "6",
            },
            "long_context": {"threshold": 200000, "rates": {"input": "6", "output": "22.50"}},
            "tiers": {"batch": "0.5"},
        },
    )
    publish(
        a,
        {
            "effective_from": "2026-03-01T00:00:00Z",
            "source_url": source,
            "checked_on": "2026-03-01",
            "rates": {
                "input": "2.5",
                "output": "10",
                "cache_read": "0.25",
                "cache_write_5m": "3.125",
                "cache_write_1h": "5",
            },
            "long_context": {"threshold": 200000, "rates": {"input": "5", "output": "15"}},
            "tiers": {"batch": "0.5"},
        },
    )
    publish(
        a,
        {
            "effective_from": "2099-01-01T00:00:00Z",
            "source_url": source,
            "rates": {"input": "2", "output": "8", "cache_read": "0.2"},
        },
    )
    publish(b, {"effective_from": "2025-06-01T00:00:00Z", "rates": {"input": "1", "output": "4"}})
    c_rates = {"input": "0.27", "output": "1.10", "cache_read": "0.07", "cache_write_30m": "0.5"}
    publish(c, {"effective_from": "2025-01-15T00:00:00Z", "rates": c_rates})
    publish(
        c,
        {
            "effective_from": "2025-02-01T00:00:00Z",
            "source_url": "javascript:alert(1)",
            "rates": c_rates,
            "regions": {"us": "1.1"},
            "time_bands": [
                {"label": "off-peak", "start": "00:00", "end": "00:30", "multiplier": "0.5"},
                {"label": "off-peak", "start": "16:30", "end": "24:00", "multiplier": "0.5"},
            ],
            "fees": {"web_search": "5"},
            "storage_per_mtok_hour": "4.50",
        },
    )
    publish(d, {"effective_from": "2099-06-01T00:00:00Z", "rates": {"input": "9", "output": "9"}})
    CachePolicy.objects.create(
        provider=alpha,
        kind="explicit",
        ttl_options=["5m", "1h"],
        default_ttl="5m",
        hit_refreshes_ttl=True,
        min_cacheable_tokens=1024,
        source_url="https://example.com/caching",
    )
    CachePolicy.objects.create(
        provider=alpha,
        model=a,
        kind="explicit",
        ttl_options=["5m", "1h"],
        min_cacheable_tokens=4096,
    )
    BatchPolicy.objects.create(provider=alpha, discount="0.5", turnaround_hours=24)
    return {"a": a, "b": b, "c": c, "d": d}


@pytest.fixture
def catalog(db):
    return make_catalog()


def listed_slugs(html: str) -> list[str]:
    return re.findall(r'<span class="slug">([^<]+)</span>', html)


def row_of(html: str, slug: str) -> str:
    match = re.search(rf'<tr>\s*<th scope="row" class="col-name">.*?{slug}.*?</tr>', html, re.S)
    assert match, f"no row for {slug}"
    return match.group(0)


# --------------------------------------------------------------------------- /prices/


def test_the_list_shows_current_prices_and_leaves_out_models_without_one(client, catalog):
    response = client.get(PRICES, {"q": "test-model"})
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert listed_slugs(html) == ["test-model-a", "test-model-b", "test-model-c"]
    assert "<strong>3</strong> models" in html
    row = row_of(html, "test-model-a")
    # The 2026-03-01 cut is in effect, not the first version nor the 2099 one.
    for shown in ("$2.50", "$10.00", "$0.25", "$3.125", "$5.00", "&gt;200K", "×0.5", "2026-03-01"):
        assert shown in row
    assert "$3.00" not in row and "$2.00" not in row
    assert reverse("catalog:model_detail", args=["test-prov-a", "test-model-a"]) in row


def test_missing_prices_show_a_dash_never_zero(client, catalog):
    html = client.get(PRICES, {"q": "test-model-b"}).content.decode()
    row = row_of(html, "test-model-b")
    assert row.count("—") >= 4  # cache read, two cache writes, long context, batch
    assert "$0" not in row
    assert "1,048,576" in row


def test_the_30m_cache_write_column_appears_only_when_a_listed_model_has_it(client, catalog):
    with_30m = client.get(PRICES, {"q": "test-model"}).content.decode()
    without = client.get(PRICES, {"provider": "test-prov-a"}).content.decode()
    assert "Cache write 30m" in with_30m
    assert "$0.50" in row_of(with_30m, "test-model-c")
    assert "Cache write 30m" not in without


def test_the_list_filters_by_provider(client, catalog):
    html = client.get(PRICES, {"provider": "test-prov-b"}).content.decode()
    assert listed_slugs(html) == ["test-model-c"]
    assert '<option value="test-prov-b" selected>' in html


def test_search_finds_a_model_by_alias(client, catalog):
    html = client.get(PRICES, {"q": "b-ALIAS-x"}).content.decode()
    assert listed_slugs(html) == ["test-model-b"]
    assert "<strong>1</strong> model matching" in html


def test_a_search_without_match_says_so(client, catalog):
    html = client.get(PRICES, {"q": "no-such-model-anywhere"}).content.decode()
    assert "<strong>0</strong> models" in html
    assert "No model matches" in html


def test_sorting_ascending_puts_missing_prices_last(client, catalog):
    html = client.get(PRICES, {"q": "test-model", "sort": "cache_read"}).content.decode()
    assert listed_slugs(html) == ["test-model-c", "test-model-a", "test-model-b"]


def test_sorting_descending_still_puts_missing_prices_last(client, catalog):
    html = client.get(PRICES, {"q": "test-model", "sort": "-cache_read"}).content.decode()
    assert listed_slugs(html) == ["test-model-a", "test-model-c", "test-model-b"]


def test_sorting_by_input_and_by_name(client, catalog):
    by_input = client.get(PRICES, {"q": "test-model", "sort": "-input"}).content.decode()
    by_name = client.get(PRICES, {"q": "test-model", "sort": "-name"}).content.decode()
    assert listed_slugs(by_input) == ["test-model-a", "test-model-b", "test-model-c"]
    assert listed_slugs(by_name) == ["test-model-c", "test-model-b", "test-model-a"]


def test_an_unknown_sort_falls_back_to_provider_and_name(client, catalog):
    html = client.get(PRICES, {"q": "test-model", "sort": "price; drop"}).content.decode()
    assert listed_slugs(html) == ["test-model-a", "test-model-b", "test-model-c"]


def test_sort_links_keep_the_filters_and_flip_the_active_column(client, catalog):
    html = client.get(PRICES, {"q": "test-model", "sort": "input"}).content.decode()
    link = re.search(r'<th scope="col" aria-sort="ascending" class="num">(.*?)</th>', html, re.S)
    assert link, "the sorted column is marked aria-sort=ascending"
    assert 'href="?q=test-model&amp;sort=-input"' in link.group(1)
    assert 'hx-get="?q=test-model&amp;sort=-input"' in link.group(1)
    assert 'hx-push-url="true"' in link.group(1)
    assert 'href="?q=test-model&amp;sort=output"' in html


def test_the_filter_form_works_without_javascript(client, catalog):
    html = client.get(PRICES).content.decode()
    assert '<form id="price-filters" class="filters" method="get" action="/prices/"' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert '<button type="submit"' in html
    # The sort in force is submitted with the form although it sits in the table fragment.
    assert '<input type="hidden" name="sort" value="" form="price-filters">' in html


def test_an_htmx_request_gets_only_the_table_fragment(client, catalog):
    response = client.get(PRICES, {"provider": "test-prov-a"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert html.lstrip().startswith('<div id="price-table"')
    assert "<html" not in html and "<form" not in html
    assert listed_slugs(html) == ["test-model-a", "test-model-b"]
    assert "HX-Request" in response["Vary"]


def test_a_full_page_request_also_varies_on_hx_request(client, catalog):
    response = client.get(PRICES)
    assert "HX-Request" in response["Vary"]
    assert "<html" in response.content.decode()


def test_an_htmx_history_restore_gets_the_whole_page(client, catalog):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    html = client.get(PRICES, headers=headers).content.decode()
    assert "<html" in html


def test_the_list_page_takes_the_same_number_of_queries_for_more_models(client, catalog):
    with CaptureQueriesContext(connection) as two:
        client.get(PRICES, {"provider": "test-prov-a"})
    with CaptureQueriesContext(connection) as three:
        client.get(PRICES, {"q": "test-model"})
    assert len(two) == len(three)


def test_the_list_page_query_count_is_bounded(client, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = client.get(PRICES)
    assert response.status_code == HTTPStatus.OK


def test_only_post_free_methods_are_allowed(client, catalog):
    assert client.post(PRICES).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --------------------------------------------------------------------------- layout, CSP


def test_the_layout_has_the_site_name_nav_and_htmx_setup(client, catalog):
    html = client.get(PRICES).content.decode()
    assert '<a class="site-name" href="/">LLM cost</a>' in html
    assert ">Prices</a>" in html
    assert ">Admin</a>" not in html
    assert '"allowEval": false' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/django_htmx/htmx-2.min.js" in html


def test_staff_see_the_admin_link(client, catalog, alice):
    client.force_login(alice)
    assert ">Admin</a>" in client.get(PRICES).content.decode()


@pytest.mark.parametrize(
    "path", [PRICES, "/prices/test-prov-a/test-model-a/", "/prices/test-prov-b/test-model-c/"]
)
def test_pages_send_a_csp_and_no_script_runs_without_a_nonce(client, catalog, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy and "unsafe-eval" not in policy
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    for tag in scripts:
        if 'type="application/json"' in tag:
            continue  # data for json_script: never executed, so CSP does not apply
        assert 'src="/static/' in tag or f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "inline event handlers are blocked by CSP"


def test_plotly_is_loaded_only_on_pages_with_charts(client, catalog):
    assert "plotly-strict.min.js" not in client.get(PRICES).content.decode()
    detail = client.get("/prices/test-prov-a/test-model-a/").content.decode()
    assert '<script src="/static/vendor/plotly-strict.min.js" defer>' in detail
    assert '<script src="/static/js/charts.js" defer>' in detail


# --------------------------------------------------------------------------- detail page


def test_the_detail_page_shows_the_model_and_its_current_prices(client, catalog):
    response = client.get(reverse("catalog:model_detail", args=["test-prov-a", "test-model-a"]))
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "<h1>Test Model A" in html
    assert "<code>test-model-a-20250101</code>" in html
    assert "200,000 tokens" in html
    assert "In effect since 2026-03-01 00:00 UTC" in html
    assert "prompts over 200K tokens" in html
    assert '<td class="num">$5.00</td>' in html  # long-context input
    assert "×0.5 list price" in html
    assert '<a href="https://example.com/pricing" rel="noopener noreferrer">' in html
    assert "checked 2026-03-01" in html


def test_the_detail_page_shows_cache_and_batch_policies(client, catalog):
    html = client.get("/prices/test-prov-a/test-model-a/").content.decode()
    assert "Provider default" in html and "This model" in html
    assert "explicit breakpoints" in html
    assert "<td>4096</td>" not in html and "<td>4,096</td>" in html  # the model's override
    assert "<td>1,024</td>" in html
    assert "A hit refreshes the TTL" in html
    assert "<td>50%</td>" in html and "within 24 h" in html


def test_the_detail_page_shows_bands_in_utc_regions_fees_and_storage(client, catalog):
    html = client.get("/prices/test-prov-b/test-model-c/").content.decode()
    assert "00:00–00:30 UTC, every day" in html
    assert "16:30–24:00 UTC, every day" in html
    assert '>US</th><td class="num">×1.1</td>' in html
    assert "$5.00 per 1,000 calls" in html
    assert "$4.50 per 1M tokens per hour" in html
    assert "No cache policy recorded." in html


def test_a_source_that_is_not_a_web_address_is_not_linked(client, catalog):
    html = client.get("/prices/test-prov-b/test-model-c/").content.decode()
    assert 'href="javascript:' not in html


def test_the_history_lists_every_version_with_what_changed(client, catalog):
    html = client.get("/prices/test-prov-a/test-model-a/").content.decode()
    history = html[html.index('<table class="history">') :]
    rows = re.findall(r'<tr class="history-row history-row--(\w+)">', history)
    assert rows == ["past", "current", "scheduled"]
    for when in ("2025-01-01 00:00", "2026-03-01 00:00", "2099-01-01 00:00"):
        assert when in history
    assert "First published prices" in history
    assert "Input $3.00 → $2.50" in history
    assert "Output $10.00 → $8.00" in history
    assert "Cache write 5m $3.125 → —" in history


def test_a_change_of_time_bands_is_summarised_as_whole_schedules(client, catalog):
    html = client.get("/prices/test-prov-b/test-model-c/").content.decode()
    assert "Time of day none → 00:00–00:30 UTC ×0.5, 16:30–24:00 UTC ×0.5" in html
    assert "Time bands 0" not in html


def test_the_detail_page_ships_the_chart_figure_as_json(client, catalog):
    html = client.get("/prices/test-prov-a/test-model-a/").content.decode()
    assert '<div class="chart" data-figure="price-history-figure"' in html
    assert '<script id="price-history-figure" type="application/json">' in html
    assert "2099-01-01 00:00:00" in html  # the scheduled version is on the chart


def test_a_model_with_only_a_scheduled_version_has_a_page_without_current_prices(client, catalog):
    response = client.get("/prices/test-prov-b/test-model-d/")
    assert response.status_code == HTTPStatus.OK
    assert "No price is in effect yet" in response.content.decode()


def test_an_unknown_model_is_404(client, catalog):
    assert client.get("/prices/test-prov-a/no-such-model-x/").status_code == HTTPStatus.NOT_FOUND


def test_an_unknown_provider_is_404(client, catalog):
    assert client.get("/prices/no-such-prov/test-model-a/").status_code == HTTPStatus.NOT_FOUND


def test_a_model_under_the_wrong_provider_is_404(client, catalog):
    assert client.get("/prices/test-prov-b/test-model-a/").status_code == HTTPStatus.NOT_FOUND


def test_an_alias_in_the_url_redirects_to_the_canonical_url(client, catalog):
    response = client.get("/prices/test-prov-a/test-b-alias-xyz/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/prices/test-prov-a/test-model-b/"


def test_the_detail_page_query_count_is_bounded(client, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = client.get("/prices/test-prov-a/test-model-a/")
    assert response.status_code == HTTPStatus.OK
