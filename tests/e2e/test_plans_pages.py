"""In a real browser: the plans list filters in place, a plan page shows its history, and
the windows page of the real Claude Code sample draws its chart under the CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.usage.models import JobStatus
from apps.usage.services import import_job_create, import_job_run, workload_get_or_create

PROJECTS = Path(__file__).resolve().parents[1] / "data" / "usage" / "claude_code" / "projects"


def no_csp_errors(page) -> None:
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors


@pytest.mark.django_db(transaction=True)
def test_plans_pages_and_the_windows_of_the_claude_code_sample(
    live_server, page, django_user_model, monkeypatch
):
    call_command("load_catalog", verbosity=0)
    call_command("load_plans", verbosity=0)
    # the import runs here, as a worker would; nothing is queued
    monkeypatch.setattr("apps.usage.tasks.import_job_task.delay_on_commit", lambda *a, **k: None)
    erin = django_user_model.objects.create_user("erin", "e@example.com", "pw-erin-12345")
    workload = workload_get_or_create(name="my claude code", owner=erin)
    job = import_job_create(workload=workload, owner=erin, files=[(PROJECTS.name, PROJECTS, False)])
    assert import_job_run(job_id=job.pk).status == JobStatus.DONE

    # the list, filtered in place by vendor (htmx), the URL keeping the filter
    page.goto(f"{live_server.url}/plans/")
    assert page.locator("#plan-table tbody tr").count() >= 20
    page.evaluate("window.__same_page = true")
    page.select_option("#vendor-filter", "cursor")
    page.wait_for_url(re.compile(r"vendor=cursor"), timeout=10_000)
    page.wait_for_function(
        "document.querySelectorAll('#plan-table tbody tr').length === 4", timeout=10_000
    )
    assert page.evaluate("window.__same_page") is True
    assert "Cursor Ultra" in page.inner_text("#plan-table")

    # a plan page: current terms with sources, and its dated history
    page.click("text=Cursor Ultra")
    page.wait_for_url(re.compile(r"/plans/cursor-ultra/$"))
    page.goto(f"{live_server.url}/plans/claude-max-20x/")
    history = page.inner_text("table.history")
    assert "2026-05-06" in history and "$132.00 – $726.00" in history

    # the windows page, signed in: the chart is drawn, the verdict and the session are there
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "erin")
    page.fill("input[name=password]", "pw-erin-12345")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/plans/")
    page.click("text=my claude code")
    page.wait_for_url(re.compile(r"/plans/windows/[0-9a-f-]+/$"))
    page.wait_for_selector(".chart .main-svg", timeout=10_000)
    assert "API at list prices" in page.inner_text(".verdict")
    assert "2026-02-12 14:12" in page.inner_text("body") and "$6.17" in page.inner_text("body")
    no_csp_errors(page)
