"""/compare/?form=conversation: the conversation form priced on every model."""

from __future__ import annotations

import json
import re
from decimal import Decimal as D
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.common.display import usd
from apps.compare.charts import GROWTH_POINTS, growth_figure, thin
from apps.compare.estimate.conversation import growth_series
from apps.compare.estimate.timeline import ConversationWorkload
from apps.compare.sources import candidates, estimate_conversation

pytestmark = pytest.mark.django_db
PAGE = "/compare/"
CONVERSATION = {"form": "conversation"}
HTMX = {"HX-Request": "true"}
SONNET = "claude-sonnet-4-5"  # $3 input, $0.30 cache read, $3.75 5m write, $15 output per 1M

# The page's defaults, as the engine takes them.
DEFAULTS = ConversationWorkload(
    conversations_per_month=1000,
    turns_per_conversation=30,
    system_tokens=8000,
    user_tokens_per_turn=300,
    tool_tokens_per_turn=1500,
    output_tokens_per_turn=500,
    gaps=((60.0, 5.0), (35.0, 90.0), (5.0, 7200.0)),
    context_window=200_000,
    context_strategy="compaction",
    trim_high=0.9,
    trim_low=0.5,
    summary_tokens=2000,
)
# A window that fills: 4,000 prefix + 2,500 tokens a turn pass 50,000 after about 18 turns.
FULL_WINDOW = {**CONVERSATION, "conversations": "200", "turns": "60", "system_tokens": "4000",
               "user_tokens": "500", "tool_tokens": "1500", "turn_output_tokens": "500",
               "context_window": "50000", "model": SONNET}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Results are cached per query for five minutes; every test starts cold.
    cache.clear()
    yield
    cache.clear()


def get(client, params=None, **kwargs):
    return client.get(PAGE, {**CONVERSATION, **(params or {})}, **kwargs)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<span class="field-error" id="error-{name}"[^>]*>([^<]*)</span>', html)
    assert match, f"no error slot for {name}"
    return match.group(1)


def row_of(response, slug):
    return next(r for r in response.context["rows"] if r.model == slug)


def figure(html: str, figure_id: str) -> dict:
    match = re.search(
        rf'<script id="{figure_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no figure {figure_id}"
    return json.loads(match.group(1))


# --------------------------------------------------------------------------- the form


def test_the_conversation_form_prices_every_model_of_the_bundled_catalog(client):
    response = get(client)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    timeline, estimates, _ = estimate_conversation(DEFAULTS)
    assert len(estimates) > 40
    assert sorted(r.model for r in response.context["rows"]) == sorted(e.model for e in estimates)
    assert html.count('<span class="slug">') == len(estimates)
    # 1,000 conversations x 30 turns, the window never reached at the defaults
    assert timeline.n == 30_000
    assert (
        "<strong>30,000</strong> requests a month: 1,000 conversations of up to 30 turns." in html
    )


def test_a_models_monthly_cost_is_what_estimate_conversation_says(client):
    response = get(client, {"seed": "7"})
    _, estimates, _ = estimate_conversation(DEFAULTS, models=[SONNET], seed=7)
    expected = estimates[0]
    row = row_of(response, SONNET)
    assert row.monthly_cost == expected.best.cost
    assert row.strategy == expected.best.name
    assert {s.name: s.cost for s in row.strategies} == {s.name: s.cost for s in expected.strategies}
    assert row.cost_per_request == expected.best.cost / 30_000
    html = response.content.decode()
    cells = re.search(rf"{SONNET}</span>.*?</tr>", html, re.S).group(0)
    assert f"<strong>{usd(expected.best.cost)}</strong>" in cells


def test_the_seed_changes_the_gaps_and_so_the_bill(client):
    # Automatic caches draw their best-effort hits and the gaps from the seed.
    one = row_of(get(client, {"seed": "1"}), SONNET).monthly_cost
    two = row_of(get(client, {"seed": "2"}), SONNET).monthly_cost
    assert one != two


def test_the_form_is_filled_from_the_query_and_that_is_what_got_priced(client):
    params = {"conversations": "250", "turns": "12", "system_tokens": "3000", "user_tokens": "200",
              "tool_tokens": "800", "turn_output_tokens": "300", "gap1_percent": "70",
              "gap1_seconds": "4", "gap2_percent": "30", "gap2_seconds": "120",
              "gap3_percent": "0", "gap3_seconds": "3600", "arrival": "fixed",
              "context_window": "100000", "context_strategy": "hysteresis",
              "trim_high_percent": "80", "trim_low_percent": "40", "summary_tokens": "1500",
              "seed": "3"}  # fmt: skip
    response = get(client, params)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for name, value in params.items():
        if name in ("arrival", "context_strategy"):
            assert f'<option value="{value}" selected>' in html
        else:
            assert re.search(rf'id="id_{name}"[^>]*value="{value}"', html, re.S), name
    priced = response.context["form"].conversation
    assert priced == ConversationWorkload(
        conversations_per_month=250,
        turns_per_conversation=12,
        system_tokens=3000,
        user_tokens_per_turn=200,
        tool_tokens_per_turn=800,
        output_tokens_per_turn=300,
        gaps=((70.0, 4.0), (30.0, 120.0)),  # a component without a share is left out
        arrival="fixed",
        context_window=100_000,
        context_strategy="hysteresis",
        trim_high=0.8,
        trim_low=0.4,
        summary_tokens=1500,
    )
    assert response.context["form"].seed == 3


def test_each_mean_gap_is_also_said_in_words(client):
    html = get(client).content.decode()
    assert '<small class="hint" id="hint-gap1_seconds">= 5 s</small>' in html
    assert '<small class="hint" id="hint-gap2_seconds">= 1.5 min</small>' in html
    assert '<small class="hint" id="hint-gap3_seconds">= 2 h</small>' in html


# --------------------------------------------------------------------------- tabs and URL state


def test_the_quick_form_stays_the_default_and_the_tabs_keep_every_parameter(client):
    html = client.get(PAGE, {"requests_per_month": "5000"}).content.decode()
    assert 'id="id_requests_per_month"' in html and 'id="id_conversations"' not in html
    assert '<a class="tab" href="?requests_per_month=5000" aria-current="page">Quick' in html
    assert 'href="?requests_per_month=5000&amp;form=conversation">Conversations</a>' in html
    html = get(client, {"turns": "12"}).content.decode()
    assert 'id="id_conversations"' in html and 'id="id_requests_per_month"' not in html
    assert '<a class="tab" href="?turns=12">Quick estimate</a>' in html
    assert 'href="?form=conversation&amp;turns=12" aria-current="page">Conversations</a>' in html


def test_the_other_forms_values_travel_as_hidden_inputs(client):
    # Editing one form must not drop what the other holds: the URL keeps the whole state.
    html = get(client, {"requests_per_month": "5000", "mean_gap_seconds": "60"}).content.decode()
    form = re.search(r'<form id="compare-form".*?</form>', html, re.S).group(0)
    assert '<input type="hidden" name="form" value="conversation">' in form
    assert '<input type="hidden" name="requests_per_month" value="5000">' in form
    assert '<input type="hidden" name="mean_gap_seconds" value="60">' in form
    html = client.get(PAGE, {"turns": "12", "seed": "4"}).content.decode()
    form = re.search(r'<form id="compare-form".*?</form>', html, re.S).group(0)
    assert '<input type="hidden" name="turns" value="12">' in form
    assert '<input type="hidden" name="seed" value="4">' in form
    assert 'name="form"' not in form


def test_the_quick_form_carries_nothing_it_was_not_given(client):
    html = client.get(PAGE).content.decode()
    form = re.search(r'<form id="compare-form".*?</form>', html, re.S).group(0)
    assert 'type="hidden"' not in form


def test_reset_keeps_the_conversation_form(client):
    html = get(client, {"turns": "12"}).content.decode()
    assert '<a href="/compare/?form=conversation">Reset to defaults</a>' in html


# --------------------------------------------------------------------------- htmx


def test_htmx_gets_the_results_fragment_with_the_tabs_and_hints_out_of_band(client):
    response = get(client, {"turns": "12", "gap3_seconds": "600"}, headers=HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "HX-Request" in response["Vary"]
    assert "HX-Request" in get(client)["Vary"]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html and 'id="compare-form"' not in html
    assert "<table" in html
    assert re.search(r'<nav id="form-tabs"[^>]*hx-swap-oob="true"', html)
    assert 'href="?form=conversation&amp;turns=12&amp;gap3_seconds=600"' in html
    assert '<small class="hint" id="hint-gap3_seconds" hx-swap-oob="true">= 10 min</small>' in html
    assert 'id="error-turns" hx-swap-oob="true"></span>' in html


def test_htmx_errors_refresh_the_message_next_to_each_field(client):
    response = get(client, {"turns": "0"}, headers=HTMX)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert 'id="error-turns" hx-swap-oob="true">must be at least 1<' in html
    assert 'id="error-conversations" hx-swap-oob="true"></span>' in html


def test_the_form_recomputes_with_htmx_as_it_changes(client):
    html = get(client).content.decode()
    form = re.search(r'<form id="compare-form"[^>]*>', html, re.S).group(0)
    assert 'method="get"' in form and 'hx-get="/compare/"' in form
    assert 'hx-trigger="input changed delay:400ms, change' in form
    assert 'hx-push-url="true"' in form


# --------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"turns": "0"}, "turns", "must be at least 1"),
        ({"turns": "abc"}, "turns", "must be a whole number"),
        ({"turns": "2.5"}, "turns", "must be a whole number"),
        ({"turns": "10001"}, "turns", "must be at most 10,000"),
        ({"conversations": "-1"}, "conversations", "must be 0 or more"),
        ({"conversations": ""}, "conversations", "enter a value"),
        ({"conversations": "100000", "turns": "100"}, "conversations", "1,000,000 requests"),
        ({"system_tokens": "1e400"}, "system_tokens", "must be at most 100,000,000"),
        ({"tool_tokens": "Infinity"}, "tool_tokens", "must be a whole number"),
        ({"context_window": "5000"}, "context_window", "must hold the system prefix"),
        ({"gap2_seconds": "1e308"}, "gap2_seconds", "(30 days)"),
        ({"gap2_seconds": "0"}, "gap2_seconds", "must be more than 0"),
        ({"gap1_seconds": "NaN"}, "gap1_seconds", "must be a number"),
        ({"gap1_percent": "150"}, "gap1_percent", "between 0 and 100"),
        ({"gap3_percent": "-5"}, "gap3_percent", "between 0 and 100"),
        ({"gap1_percent": "0", "gap2_percent": "0", "gap3_percent": "0"}, "gap1_percent",
         "must add up to more than 0"),
        ({"trim_low_percent": "95"}, "trim_low_percent", "below the high mark"),
        ({"trim_low_percent": "90"}, "trim_low_percent", "below the high mark"),
        ({"trim_high_percent": "0"}, "trim_high_percent", "more than 0 and at most 100"),
        ({"trim_high_percent": "120"}, "trim_high_percent", "more than 0 and at most 100"),
        ({"context_strategy": "magic"}, "context_strategy", "must be one of none, sliding"),
        ({"arrival": "bursty"}, "arrival", "must be one of poisson, fixed"),
        ({"summary_tokens": "195000"}, "summary_tokens", "must fit the window"),
        ({"seed": "-1"}, "seed", "must be 0 or more"),
        ({"seed": "99999999999"}, "seed", "must be at most 4,294,967,295"),
        ({"model": "no-such-model"}, "model", "no priced model"),
        ({"min_context": "-1"}, "min_context", "whole number"),
    ],
)  # fmt: skip
def test_invalid_input_is_a_400_naming_the_field(client, params, field, message):
    response = get(client, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert message in field_error(html, field)
    assert f'<a href="#id_{field}">' in html  # the summary links to the field
    assert re.search(rf'id="id_{field}"[^>]*aria-invalid="true"', html, re.S)


def test_an_invalid_field_keeps_the_rest_of_the_form(client):
    params = {"turns": "-3", "system_tokens": "6000", "provider": ["anthropic"],
              "sort": "-hit_rate", "model": SONNET}  # fmt: skip
    html = get(client, params).content.decode()
    assert re.search(r'id="id_system_tokens"[^>]*value="6000"', html, re.S)
    assert 'value="anthropic" checked' in html
    assert f'<input type="hidden" name="model" value="{SONNET}" form="compare-form">' in html
    assert '<input type="hidden" name="sort" value="-hit_rate" form="compare-form">' in html
    assert "<table" not in html


@pytest.mark.parametrize(
    "params",
    [
        {"conversations": "0"},
        {"turns": "1"},
        {"tool_tokens": "0", "user_tokens": "0", "turn_output_tokens": "0"},
        {"gap2_percent": "0", "gap3_percent": "0"},
        {"gap1_seconds": "1e-300"},
        {"gap3_seconds": "2592000", "arrival": "fixed"},
        {"seed": "4294967295"},
        {"context_strategy": "none", "context_window": "20000"},
        {"context_strategy": "sliding", "context_window": "10000", "turns": "200"},
        {"context_strategy": "compaction", "context_window": "10000", "summary_tokens": "0"},
        {"system_tokens": "0"},
        {"sort": "nonsense", "provider": ["nobody"], "max_cost": "0"},
        {"form": "something-else"},  # unknown: the quick form
    ],
)
def test_odd_but_valid_input_never_fails(client, params):
    response = get(client, params)
    assert response.status_code == HTTPStatus.OK


# --------------------------------------------------------------------------- context strategies


def test_hysteresis_beats_a_sliding_window_with_caching_on_the_page(client):
    """Once the window is full a sliding window cuts at every turn, so each prompt is written
    to the cache again past the 4,000-token prefix (1.25x input); hysteresis cuts down to 50%
    at once and then reads the growing history from the cache (0.1x) for several turns."""
    response = get(client, {**FULL_WINDOW, "context_strategy": "sliding"})
    detail = response.context["chart_set"].context
    costs = {c.strategy: c for c in detail.choices}
    assert costs["sliding"].current and not costs["hysteresis"].current
    assert costs["hysteresis"].best_label == "5m TTL" and costs["sliding"].best_label == "5m TTL"
    assert costs["hysteresis"].cost < costs["sliding"].cost
    # both months send every turn; only the cuts differ
    assert costs["hysteresis"].requests == costs["sliding"].requests == 200 * 60
    html = response.content.decode()
    for strategy in ("sliding", "hysteresis"):
        row = re.search(rf'<tr data-strategy="{strategy}".*?</tr>', html, re.S).group(0)
        assert f"<strong>{costs[strategy].cost_display}</strong>" in row
    # the table agrees: the same model with the form set to each strategy
    sliding = row_of(response, SONNET)
    cache.clear()
    hysteresis = row_of(get(client, {**FULL_WINDOW, "context_strategy": "hysteresis"}), SONNET)
    assert hysteresis.monthly_cost < sliding.monthly_cost
    assert sliding.monthly_cost == costs["sliding"].cost
    assert hysteresis.monthly_cost == costs["hysteresis"].cost


def test_refused_turns_and_compactions_are_noted_above_the_table(client):
    html = get(client, {**FULL_WINDOW, "context_strategy": "none"}).content.decode()
    # turns 1-18 fit (4,000 + 17 x 2,500 + 2,000 = 48,500); 42 of 60 are refused
    assert "8,400 turns refused: the prompt would pass the 50,000-token window" in html
    assert "<strong>3,600</strong> requests a month" in html
    html = get(client, {**FULL_WINDOW, "context_strategy": "compaction"}).content.decode()
    assert '<ul class="timeline-notes"><li>' in html
    assert "compaction requests summarize the history" in html


def test_a_model_whose_window_is_too_small_says_so_in_its_row(client):
    # prompts grow to about 250,000 tokens: past a 200K model, within a 1M one
    params = {"turns": "100", "context_window": "400000", "context_strategy": "none"}
    response = get(client, params)
    rows = {r.model: r for r in response.context["rows"]}
    small = [r for r in rows.values() if r.context_window and r.context_window < 250_000]
    big = [r for r in rows.values() if r.context_window and r.context_window >= 1_000_000]
    assert small and big
    assert all(any("context window" in n for n in r.notes) for r in small)
    assert not any(any("context window" in n for n in r.notes) for r in big)
    assert '<span class="row-note">Prompts reach' in response.content.decode()


# --------------------------------------------------------------------------- the growth chart


def test_the_growth_chart_follows_the_general_charts(client):
    response = get(client, {"model": SONNET})
    chart_set = response.context["chart_set"]
    assert [c.id for c in chart_set.charts] == [
        "monthly-cost",
        "caching-savings",
        "conversation-growth",
    ]
    html = response.content.decode()
    for figure_id in ("monthly-cost", "caching-savings", "conversation-growth"):
        assert f'<script id="{figure_id}-figure" type="application/json">' in html
        assert f'data-figure="{figure_id}-figure"' in html
    assert "Context strategies for Claude Sonnet 4.5" in html


def test_the_no_cache_curve_is_convex_and_caching_stays_below_it(client):
    html = get(client, {"model": SONNET}).content.decode()
    data = {t["name"]: t for t in figure(html, "conversation-growth-figure")["data"]}
    assert set(data) == {"No caching", "5m TTL", "Prompt tokens (right axis)"}
    plain = data["No caching"]["y"]
    assert data["No caching"]["x"] == list(range(1, 31))
    steps = [b - a for a, b in zip(plain, plain[1:], strict=False)]
    assert all(b > a for a, b in zip(steps, steps[1:], strict=False))  # increasing differences
    assert data["5m TTL"]["y"][-1] < plain[-1]
    assert data["Prompt tokens (right axis)"]["y"][0] == 8000 + 1800


def test_each_turn_costs_its_new_tokens_more_than_the_last_without_caching():
    """Turn k sends 8,000 + (k-1) x 2,300 + 1,800 tokens: each turn's uncached bill grows by
    2,300 x $3/M = $0.0069 (Sonnet 4.5), which makes the cumulative cost quadratic.
    Turn 1: 9,800 x $3/M + 500 x $15/M = $0.0294 + $0.0075 = $0.0369."""
    found, _ = candidates([SONNET])
    sheet, policy = found[0].sheet, found[0].policy
    growth = growth_series(DEFAULTS, sheet, policy, timezone.now())
    totals = growth.cumulative_uncached
    assert totals[0] == D("0.0369")
    per_turn = [totals[0]] + [b - a for a, b in zip(totals, totals[1:], strict=False)]
    assert {b - a for a, b in zip(per_turn, per_turn[1:], strict=False)} == {D("0.0069")}


def test_a_model_without_caching_draws_only_the_no_cache_line(client):
    response = get(client, {"model": "mistral-small-3.2"})
    data = figure(response.content.decode(), "conversation-growth-figure")["data"]
    assert [t["name"] for t in data] == ["No caching", "Prompt tokens (right axis)"]
    assert response.context["chart_set"].context.cached_label == ""


def test_long_conversations_are_drawn_from_evenly_spaced_turns_ending_on_the_last():
    assert thin(5) == [0, 1, 2, 3, 4]
    kept = thin(10_000)
    assert len(kept) <= GROWTH_POINTS and kept[-1] == 9_999
    # even spacing keeps a convex curve convex on the page
    assert len({b - a for a, b in zip(kept, kept[1:], strict=False)}) == 1


def test_the_growth_figure_puts_the_prompt_on_its_own_axis():
    built = growth_figure(
        [1, 2, 3],
        [D("0.04"), D("0.09"), D("0.15")],
        [D("0.04"), D("0.05"), D("0.06")],
        cached_name="cache_1h",
        prompt_tokens=[9800, 12100, 14400],
    )
    assert [t["name"] for t in built["data"]] == [
        "No caching",
        "1h TTL",
        "Prompt tokens (right axis)",
    ]
    assert built["data"][0]["y"] == [0.04, 0.09, 0.15]
    assert built["data"][2]["yaxis"] == "y2" and built["layout"]["yaxis2"]["overlaying"] == "y"
    assert "Decimal" not in json.dumps(built)


def test_a_conversation_without_a_turn_draws_a_message():
    built = growth_figure([], [], None)
    assert built["data"] == []
    assert "No turn" in built["layout"]["annotations"][0]["text"]


# --------------------------------------------------------------------------- cost and safety


def test_results_are_cached_and_the_queries_bounded(client, django_assert_max_num_queries):
    # Cold: generation, providers, the estimate (book, models, policies, provider names) and
    # the chosen model's candidate, whatever the number of models. Warm: generation, providers.
    with django_assert_max_num_queries(25):
        assert get(client).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(3):
        assert get(client, headers=HTMX).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(3):
        get(client, {"sort": "-hit_rate"})


def test_the_page_sends_no_inline_script_or_handler(client):
    response = get(client)
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        if 'type="application/json"' in tag:
            continue
        assert 'src="/static/' in tag or f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<[^>]+\son[a-z]+=", html)
