"""/compare/workload/<code>/: what imported logs cost, and what they would cost elsewhere."""

from __future__ import annotations

import json
import re
from decimal import Decimal as D
from http import HTTPStatus
from pathlib import Path
from uuid import uuid4

import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.common.display import usd
from apps.compare.charts import (
    CHEAPER_COLOUR,
    DEARER_COLOUR,
    YOURS_COLOUR,
    CostBar,
    your_cost_figure,
)
from apps.compare.sources import estimate_imported
from apps.usage.models import JobStatus
from apps.usage.services import import_job_create, import_job_run, workload_get_or_create

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
PROJECTS = Path(__file__).resolve().parents[1] / "data" / "usage" / "claude_code" / "projects"
# The sample's models (tests/usage/test_imports.py prices them by hand: $6.17 in all).
SOURCE_MODELS = {"claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-4-5"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch):
    # The test runs the job in-process, as the worker would; nothing is enqueued.
    monkeypatch.setattr("apps.usage.tasks.import_job_task.delay_on_commit", lambda *a, **k: None)


def import_sample(owner, name="Claude Code sample"):
    workload = workload_get_or_create(name=name, owner=owner)
    job = import_job_create(workload=workload, files=[("projects", PROJECTS, False)], owner=owner)
    return import_job_run(job_id=job.pk)


@pytest.fixture
def job(bob):
    done = import_sample(bob)
    assert done.status == JobStatus.DONE
    return done


def url(job) -> str:
    return reverse("compare:workload", args=[job.workload.code])


def figure(html: str, figure_id: str) -> dict:
    pattern = rf'<script id="{figure_id}" type="application/json">(.*?)</script>'
    return json.loads(re.search(pattern, html, re.S).group(1))


# --------------------------------------------------------------------------- who sees it


def test_the_url_names_the_workload_by_its_code(job):
    assert url(job) == f"/compare/workload/{job.workload.code}/"


def test_the_owner_sees_what_the_logs_cost_at_the_prices_of_their_day(client, bob, job):
    client.force_login(bob)
    response = client.get(url(job))
    assert response.status_code == HTTPStatus.OK
    logs = response.context["logs"]
    assert logs.total == D(job.summary["total_cost_usd"])
    assert round(logs.total, 2) == D("6.17")  # 1.42012235 + 4.66578575 + 0.0866637
    assert {m.model for m in logs.models} == SOURCE_MODELS
    assert sum(m.cost for m in logs.models) == logs.total
    html = response.content.decode()
    assert f'<strong class="logs-total">{usd(logs.total)}</strong>' in html
    assert "anthropic / claude-opus-4-6" in html
    assert "Token counts are carried over as they are" in html


def test_another_user_gets_a_404(client, alice, job):
    client.force_login(alice)  # staff, but not the owner
    assert client.get(url(job)).status_code == HTTPStatus.NOT_FOUND


def test_anonymous_visitors_are_sent_to_sign_in(client, job):
    response = client.get(url(job))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/accounts/login/?next={url(job)}"


def test_an_unknown_code_is_a_404(client, bob):
    client.force_login(bob)
    response = client.get(reverse("compare:workload", args=[uuid4()]))
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_workload_without_a_finished_import_says_so(client, bob):
    workload = workload_get_or_create(name="empty", owner=bob)
    client.force_login(bob)
    response = client.get(reverse("compare:workload", args=[workload.code]))
    assert response.status_code == HTTPStatus.OK
    assert "No import of this workload has finished yet" in response.content.decode()
    assert response.context.get("rows") is None


def test_the_finished_import_links_here(client, bob, job):
    client.force_login(bob)
    html = client.get(reverse("usage:import_detail", args=[job.code])).content.decode()
    assert f'<a href="{url(job)}">Compare this usage on every model →</a>' in html


# --------------------------------------------------------------------------- elsewhere


def test_every_other_model_prices_the_same_traffic(client, bob, job):
    client.force_login(bob)
    response = client.get(url(job))
    rows = response.context["rows"]
    slugs = {r.model for r in rows}
    assert len(rows) > 40
    assert slugs >= SOURCE_MODELS
    assert {r.provider for r in rows} >= {"anthropic", "openai", "google"}
    # the same numbers as the replay itself, for models of other providers
    _, estimates, _ = estimate_imported(job.workload, models=["gpt-5-mini", "gemini-2.5-flash"])
    by_slug = {r.model: r for r in rows}
    for e in estimates:
        assert by_slug[e.model].monthly_cost == e.best.cost
        assert by_slug[e.model].cost_per_request == e.best.cost / 221
    html = response.content.decode()
    assert html.count("in your logs</span>") == len(SOURCE_MODELS)
    assert '<a class="sort" href="?sort=-monthly_cost"' in html  # the cost column sorts
    assert ">Cost <span aria-hidden" in html  # all the traffic, not a month


def test_it_says_how_much_the_cheapest_alternative_saves(client, bob, job):
    client.force_login(bob)
    response = client.get(url(job))
    cheapest, logs = response.context["cheapest"], response.context["logs"]
    assert cheapest.monthly_cost < logs.total
    versus = response.context["versus"]
    assert versus.cheaper and versus.amount == usd(logs.total - cheapest.monthly_cost)
    assert f"<strong>{versus.amount} less</strong> than your logs" in response.content.decode()


def test_filters_and_sort_work_as_on_the_comparison_page(client, bob, job):
    client.force_login(bob)
    rows = client.get(url(job), {"provider": "openai"}).context["rows"]
    assert rows and {r.provider for r in rows} == {"openai"}
    rows = client.get(url(job), {"sort": "-monthly_cost"}).context["rows"]
    costs = [r.monthly_cost for r in rows]
    assert costs == sorted(costs, reverse=True)
    response = client.get(url(job), {"max_cost": "-1"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'id="error-max_cost">must be a number, 0 or more<' in response.content.decode()


def test_the_chart_puts_your_cost_first_then_the_cheapest_alternatives(client, bob, job):
    client.force_login(bob)
    response = client.get(url(job))
    assert [c.id for c in response.context["chart_set"].charts] == ["your-cost"]
    data = figure(response.content.decode(), "your-cost-figure")["data"][0]
    assert data["y"][0] == "Your logs (prices of their day)"
    assert data["x"][0] == float(response.context["logs"].total)
    cheapest = sorted(response.context["rows"], key=lambda r: r.monthly_cost)[:15]
    assert data["x"][1:] == [float(r.monthly_cost) for r in cheapest]
    assert len(data["y"]) == 16


def test_cheaper_alternatives_are_green_and_dearer_ones_red():
    yours = CostBar("Your logs", D("10"), {}, "as logged")
    alternatives = [CostBar("B", D("12"), {}, "5m TTL"), CostBar("A", D("4"), {}, "Automatic")]
    built = your_cost_figure(yours, alternatives)
    bars = built["data"][0]
    assert bars["y"] == ["Your logs", "A", "B"]  # yours first, then the cheapest first
    assert bars["x"] == [10.0, 4.0, 12.0]
    assert bars["marker"]["color"] == [YOURS_COLOUR, CHEAPER_COLOUR, DEARER_COLOUR]
    assert built["layout"]["shapes"][0]["x0"] == 10.0  # a line at your cost
    assert "Decimal" not in json.dumps(built)
    assert your_cost_figure(yours, [])["data"] == []


def test_htmx_gets_the_results_fragment_and_the_response_varies_on_it(client, bob, job):
    client.force_login(bob)
    response = client.get(url(job), {"provider": "anthropic"}, headers=HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html and 'id="compare-form"' not in html
    assert "<table" in html


# --------------------------------------------------------------------------- cost


def reads_usage_rows(queries) -> bool:
    return any('FROM "usage_record"' in q["sql"] for q in queries.captured_queries)


def test_the_page_runs_a_bounded_number_of_queries(client, bob, job, django_assert_max_num_queries):
    client.force_login(bob)
    # Cold: session, user, workload, last import, generation, providers, the usage rows and
    # the candidates (book, models, policies, provider names), whatever the number of rows.
    with django_assert_max_num_queries(20) as cold:
        assert client.get(url(job)).status_code == HTTPStatus.OK
    assert reads_usage_rows(cold)
    # Warm: the replay comes from the cache; a new sort or filter reuses it.
    with django_assert_max_num_queries(7) as warm:
        assert client.get(url(job), {"sort": "-hit_rate"}).status_code == HTTPStatus.OK
    assert not reads_usage_rows(warm)


def test_a_new_import_replays_the_workload_again(client, bob, job, django_assert_max_num_queries):
    client.force_login(bob)
    client.get(url(job))
    again = import_sample(bob)  # the same files: nothing new, but a new last import
    assert again.pk != job.pk and again.status == JobStatus.DONE
    with django_assert_max_num_queries(20) as queries:
        response = client.get(url(job))
    assert reads_usage_rows(queries)
    assert response.context["job"].pk == again.pk
    assert response.context["logs"].total == D(again.summary["total_cost_usd"])
