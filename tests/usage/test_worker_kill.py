"""A real Celery worker killed with SIGKILL mid-import: nothing lost, nothing counted twice.

Needs PostgreSQL and Redis (CI runs it); skipped with a reason elsewhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from apps.usage.models import ImportJob, JobStatus, UsageRow
from apps.usage.services import import_job_create, import_job_run, workload_get_or_create
from pricing_site.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
SESSION = next(
    p
    for p in (ROOT / "tests/data/usage/claude_code/projects").rglob("*.jsonl")
    if "subagents" not in p.parts
)
VISIBILITY_TIMEOUT = 5


def make_corpus(folder: Path, copies: int) -> Path:
    """Copies of a real session with fresh response ids, so each copy adds 217 new responses."""
    folder.mkdir(parents=True)
    text = SESSION.read_text()
    for i in range(copies):
        unique = text.replace('"msg_', f'"msg_{i:04d}_').replace(
            '"requestId":"req_', f'"requestId":"req_{i:04d}_'
        )
        (folder / f"session-{i:04d}.jsonl").write_text(unique)
    return folder


def start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
        f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "IMPORT_BATCH_RECORDS": "200",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pricing_site",
            "worker",
            "--concurrency=1",
            "-P",
            "prefork",
            "--loglevel=warning",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.postgres
@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_sigkill_of_the_worker_mid_import_loses_and_doubles_nothing(tmp_path):
    call_command("load_catalog", verbosity=0)
    corpus = make_corpus(tmp_path / "projects", copies=80)
    celery_app.control.purge()

    control = workload_get_or_create(name="control")
    control_job = ImportJob.objects.create(workload=control)
    control_job.files.create(position=0, name="projects", path=str(corpus), size=0)
    expected = import_job_run(job_id=control_job.pk)  # in-process, for the expected numbers
    assert expected.status == JobStatus.DONE and expected.records_imported == 80 * 217

    worker = start_worker()
    try:
        workload = workload_get_or_create(name="killed")
        job = import_job_create(workload=workload, files=[("projects", corpus, False)])
        wait_for(
            lambda: ImportJob.objects.get(pk=job.pk).records_imported > 0, 120, "a first commit"
        )
        os.killpg(worker.pid, signal.SIGKILL)  # the whole worker, as the OOM killer would
        worker.wait(timeout=10)
        killed_at = ImportJob.objects.get(pk=job.pk)
        assert killed_at.status == JobStatus.RUNNING and killed_at.records_imported < 80 * 217
        time.sleep(VISIBILITY_TIMEOUT + 1)  # Redis hands unacked tasks out again after this
        worker = start_worker()
        done = wait_for(
            lambda: (j := ImportJob.objects.get(pk=job.pk)).status != JobStatus.RUNNING and j,
            180,
            "the redelivery",
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert done.status == JobStatus.DONE, done.message
    assert done.attempts >= 2
    assert done.records_imported == expected.records_imported
    assert done.duplicates_skipped == expected.duplicates_skipped
    assert done.lines_read == expected.lines_read
    assert UsageRow.objects.filter(workload=workload).count() == expected.records_imported
    assert done.summary["total_cost_usd"] == expected.summary["total_cost_usd"]
