"""In a real browser: upload a Claude Code log, watch the progress bar, read the summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.usage.models import ImportJob, JobStatus
from apps.usage.services import import_job_run

SESSION = next(
    p
    for p in (Path(__file__).resolve().parents[1] / "data/usage/claude_code/projects").rglob(
        "*.jsonl"
    )
    if "subagents" not in p.parts
)


@pytest.mark.django_db(transaction=True)
def test_upload_then_the_progress_bar_follows_the_job_to_its_summary(
    live_server, page, django_user_model, monkeypatch, settings, tmp_path
):
    settings.UPLOAD_DIR = tmp_path
    call_command("load_catalog", verbosity=0)
    django_user_model.objects.create_user("erin", "e@example.com", "pw-erin-12345")
    # hold the task back so the page shows a queued job, then run it as a worker would
    monkeypatch.setattr("apps.usage.tasks.import_job_task.delay_on_commit", lambda *a, **k: None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "erin")
    page.fill("input[name=password]", "pw-erin-12345")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/imports/")
    page.fill("input[name=workload]", "browser upload")
    page.set_input_files("input[name=files]", str(SESSION))
    page.click("#upload-form button[type=submit]")

    page.wait_for_url(re.compile(r"/imports/[0-9a-f-]+/$"))
    assert "queued" in page.inner_text("#progress")
    job = ImportJob.objects.get()
    assert import_job_run(job_id=job.pk).status == JobStatus.DONE

    # htmx polls every second and swaps the fragment in place; polling stops when done
    page.wait_for_selector("text=What it cost", timeout=10_000)
    assert page.get_attribute("#progress progress", "value") == "100"
    summary = page.inner_text("#progress")
    assert "claude-opus-4-6" in summary and "217" in summary.replace(",", "")
    assert not [e for e in page.csp_errors if "Content Security Policy" in e]
