"""However an import stops, its job ends (failed, cancelled or done) and its uploads go.

Rows of a failed job: the batches committed before the failure stay, the batch in flight
is rolled back whole (apps/usage/imports/ending.py says why kept rather than removed).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from apps.usage import services, tasks
from apps.usage.imports import reader
from apps.usage.models import ImportJob, JobStatus, UsageRow
from apps.usage.services import (
    import_job_cancel,
    import_job_create,
    import_job_run,
    workload_get_or_create,
)
from apps.usage.tasks import import_job_task
from pricing_site.celery import app as celery_app
from tests.usage.helpers import BIG_SESSION

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(settings, tmp_path):
    """The big session (217 responses) stored as an upload, as the upload view stores it."""
    settings.UPLOAD_DIR = tmp_path / "uploads"
    folder = settings.UPLOAD_DIR / "abc123"
    folder.mkdir(parents=True)
    shutil.copy(BIG_SESSION, folder / "000.jsonl")
    return folder / "000.jsonl"


@pytest.fixture
def like_a_worker():
    """Task errors stay in the task (a worker does not raise them to a caller), so that
    eager retries run as a worker's would."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    try:
        yield
    finally:
        celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def queued(uploaded, monkeypatch) -> ImportJob:
    monkeypatch.setattr(services, "BATCH_RECORDS", 20)
    monkeypatch.setattr(tasks.import_job_task, "delay_on_commit", lambda *a: None)
    workload = workload_get_or_create(name="endings")
    return import_job_create(workload=workload, files=[("session.jsonl", uploaded, True)])


def rows(job: ImportJob) -> int:
    return UsageRow.objects.filter(workload=job.workload).count()


def test_an_unexpected_error_fails_the_job_with_a_reference_keeping_whole_batches(
    queued, uploaded, monkeypatch, caplog
):
    real = services.write_rows
    calls = {"n": 0}

    def half_then_crash(job, batch):
        calls["n"] += 1
        result = real(job, batch)  # the third batch's rows are written...
        if calls["n"] == 3:
            raise RuntimeError("a bug")  # ...then the transaction fails
        return result

    monkeypatch.setattr(services, "write_rows", half_then_crash)
    with caplog.at_level(logging.ERROR, logger="apps.usage.imports.ending"):
        job = import_job_run(job_id=queued.pk)
    assert job.status == JobStatus.FAILED
    match = re.search(r"internal error, reference ([0-9a-f]{8})\.", job.message)
    assert match, job.message
    (record,) = caplog.records
    assert match.group(1) in record.getMessage() and record.exc_info[0] is RuntimeError
    # the first two batches stay whole; none of the third (its transaction rolled back)
    kept = rows(job)
    assert 0 < kept == job.records_imported < 217
    assert f"The {kept} records imported before it stay in the workload" in job.message
    assert not uploaded.exists() and not uploaded.parent.exists()


def test_an_error_while_reading_fails_the_job_too(queued, uploaded, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a parser bug")

    monkeypatch.setattr(reader, "detect", broken)
    job = import_job_run(job_id=queued.pk)
    assert job.status == JobStatus.FAILED and "internal error, reference" in job.message
    assert "Nothing was imported." in job.message and rows(job) == 0
    assert not uploaded.exists()


def test_a_refused_upload_fails_with_its_reason_and_its_files_are_deleted(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    folder = settings.UPLOAD_DIR / "f"
    folder.mkdir(parents=True)
    upload = folder / "000.txt"
    upload.write_text("not a usage log\n")
    workload = workload_get_or_create(name="refused")
    job = import_job_create(workload=workload, files=[("notes.txt", upload, True)])
    job = import_job_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED and "not a recognised usage log" in job.message
    assert not upload.exists()


def test_cancelling_a_queued_job_deletes_its_uploads(queued, uploaded):
    assert import_job_cancel(job=queued)
    assert not uploaded.exists()
    job = import_job_run(job_id=queued.pk)  # the task arrives later: nothing to do
    assert job.status == JobStatus.CANCELLED and job.attempts == 0


def test_cancelling_a_running_job_stops_it_and_deletes_its_uploads(
    queued, uploaded, monkeypatch, caplog
):
    real = services.write_rows

    def cancel_during_second_batch(job, batch):
        if job.records_imported or ImportJob.objects.get(pk=job.pk).records_imported:
            import_job_cancel(job=job)  # the user clicks Cancel while the batch is written
        return real(job, batch)

    monkeypatch.setattr(services, "write_rows", cancel_during_second_batch)
    with caplog.at_level(logging.ERROR):
        job = import_job_run(job_id=queued.pk)
    assert job.status == JobStatus.CANCELLED
    assert 0 < job.records_imported < 217
    assert not uploaded.exists() and not caplog.records


def test_a_task_past_its_soft_time_limit_continues_from_its_last_commit(
    queued, monkeypatch, like_a_worker
):
    real = services.write_rows
    calls = {"n": 0}

    def slow_once(job, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SoftTimeLimitExceeded()
        return real(job, batch)

    monkeypatch.setattr(services, "write_rows", slow_once)
    import_job_task.apply(args=[queued.pk])
    job = ImportJob.objects.get(pk=queued.pk)
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert job.records_imported == 217 == rows(job)


def test_a_task_always_past_its_time_limit_ends_failed(
    queued, uploaded, monkeypatch, like_a_worker
):
    def always_slow(job, batch):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "write_rows", always_slow)
    import_job_task.apply(args=[queued.pk])
    job = ImportJob.objects.get(pk=queued.pk)
    assert job.status == JobStatus.FAILED and "took too long" in job.message
    assert job.attempts == import_job_task.max_retries + 1
    assert not uploaded.exists()


def test_an_error_the_service_could_not_handle_is_ended_by_the_task(queued, monkeypatch):
    def broken(**kwargs):
        ImportJob.objects.filter(pk=kwargs["job_id"]).update(status=JobStatus.RUNNING)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(tasks, "import_job_run", broken)
    assert import_job_task.apply(args=[queued.pk]).get() == "failed"
    job = ImportJob.objects.get(pk=queued.pk)
    assert job.status == JobStatus.FAILED and "internal error, reference" in job.message


def test_a_job_whose_worker_keeps_dying_is_given_up(queued, uploaded, settings):
    ImportJob.objects.filter(pk=queued.pk).update(
        status=JobStatus.RUNNING, attempts=services.MAX_ATTEMPTS
    )
    job = import_job_run(job_id=queued.pk)  # the broker hands the task out once more
    assert job.status == JobStatus.FAILED
    assert f"given up after {services.MAX_ATTEMPTS} attempts" in job.message
    assert not uploaded.exists()


def test_the_job_report_of_a_failed_import_says_why(queued, monkeypatch):
    monkeypatch.setattr(reader, "detect", lambda *a: 1 / 0)
    job = import_job_run(job_id=queued.pk)
    report = services.job_report(job)
    assert report["status"] == "failed" and "internal error" in json.dumps(report)


def test_paths_given_on_the_command_line_are_never_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "detect", lambda *a: 1 / 0)
    path = tmp_path / "mine.jsonl"
    shutil.copy(BIG_SESSION, path)
    workload = workload_get_or_create(name="cli-fail")
    job = import_job_create(workload=workload, files=[("mine.jsonl", path, False)])
    assert import_job_run(job_id=job.pk).status == JobStatus.FAILED
    assert Path(path).exists()
