"""Per-user upload limits (stored bytes waiting, uploads per hour) and upload clean-up.

Over a limit the upload page says why, with nothing stored and no job; an import's stored
files are deleted whatever its end (done, failed or cancelled).
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.usage.imports.quotas import UploadRefused
from apps.usage.models import ImportJob, JobStatus
from apps.usage.services import import_job_create, workload_get_or_create
from tests.usage.helpers import BIG_SESSION

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, content: bytes, name: str = "session.jsonl"):
    return client.post(
        reverse("usage:import_create"),
        {"workload": "mine", "files": [SimpleUploadedFile(name, content)], "format": ""},
    )


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.UPLOAD_DIR).rglob("*") if p.is_file()]


def test_an_upload_past_the_storage_quota_is_a_form_error_with_nothing_stored(bob, settings):
    settings.UPLOAD_QUOTA_BYTES = 1000
    response = upload(client_for(bob), b"x" * 1001)
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    page = response.content.decode()
    assert "more than the" in page and "Wait for your imports to finish" in page
    assert not ImportJob.objects.exists() and not stored_files(settings)


def test_the_quota_counts_uploads_still_waiting_and_frees_them_when_done(
    bob, settings, django_capture_on_commit_callbacks
):
    size = BIG_SESSION.stat().st_size
    settings.UPLOAD_QUOTA_BYTES = size + size // 2
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=False):  # queued, never run
        assert upload(client, BIG_SESSION.read_bytes()).status_code == HTTPStatus.FOUND
    refused = upload(client, BIG_SESSION.read_bytes())  # 2 x size waiting: over
    assert refused.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert ImportJob.objects.count() == 1 and len(stored_files(settings)) == 1
    ImportJob.objects.update(status=JobStatus.DONE)  # imported: no longer waiting
    with django_capture_on_commit_callbacks(execute=False):
        assert upload(client, BIG_SESSION.read_bytes()).status_code == HTTPStatus.FOUND


def test_uploads_past_the_hourly_rate_are_refused(bob, alice, settings):
    settings.UPLOADS_PER_HOUR = 2
    workload = workload_get_or_create(name="w", owner=bob)
    for _ in range(2):
        import_job_create(workload=workload, owner=bob, files=[("s", BIG_SESSION, False)])
    response = upload(client_for(bob), b'{"a": 1}\n')
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "(2 an hour)" in response.content.decode()
    assert ImportJob.objects.count() == 2 and not stored_files(settings)
    # counted per user, over the last hour only
    with_others = upload(client_for(alice), b"not a log\n")
    assert with_others.status_code == HTTPStatus.FOUND
    ImportJob.objects.filter(owner=bob).update(created_at=timezone.now() - timedelta(hours=2))
    assert upload(client_for(bob), b"not a log\n").status_code == HTTPStatus.FOUND


def test_the_service_itself_refuses_past_a_limit(bob, settings):
    """Two requests at once both pass the page's check: the job's transaction checks again."""
    settings.UPLOADS_PER_HOUR = 1
    workload = workload_get_or_create(name="w", owner=bob)
    import_job_create(workload=workload, owner=bob, files=[("s", BIG_SESSION, False)])
    with pytest.raises(UploadRefused):
        import_job_create(workload=workload, owner=bob, files=[("s", BIG_SESSION, False)])
    # the command line (no owner) has no such limits
    import_job_create(
        workload=workload_get_or_create(name="cli"), files=[("s", BIG_SESSION, False)]
    )


def test_a_failed_import_deletes_its_upload(bob, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(bob), b"not a usage log\n", name="notes.txt")
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED and "not a recognised" in job.message
    assert not stored_files(settings)
    page = client_for(bob).get(response["Location"]).content.decode()
    assert "not a recognised" in page


def test_a_cancelled_import_deletes_its_upload(bob, settings, django_capture_on_commit_callbacks):
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=False):
        upload(client, BIG_SESSION.read_bytes())
    assert len(stored_files(settings)) == 1
    job = ImportJob.objects.get()
    client.post(reverse("usage:import_cancel", args=[job.code]))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and not stored_files(settings)
