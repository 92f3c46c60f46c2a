"""Upload pages: ownership, CSRF, size cap, progress polling, cancel."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.usage.models import ImportJob, JobStatus, UsageRow
from apps.usage.services import import_job_create, workload_get_or_create

pytestmark = pytest.mark.django_db

SESSION = next(
    p
    for p in (Path(__file__).resolve().parent.parent / "data/usage/claude_code/projects").rglob(
        "*.jsonl"
    )
    if "subagents" not in p.parts
)


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, name: str = "session.jsonl", content: bytes | None = None):
    data = content if content is not None else SESSION.read_bytes()
    return client.post(
        reverse("usage:import_create"),
        {"workload": "my usage", "files": [SimpleUploadedFile(name, data)], "format": ""},
    )


def test_anonymous_visitors_are_asked_to_sign_in():
    response = Client().get(reverse("usage:imports"))
    assert response.status_code == HTTPStatus.FOUND and "/accounts/login/" in response["Location"]
    assert Client().post(reverse("usage:import_create")).status_code == HTTPStatus.FOUND


def test_an_upload_is_imported_and_ends_on_the_summary(bob, django_capture_on_commit_callbacks):
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client)
    assert response.status_code == HTTPStatus.FOUND
    job = ImportJob.objects.get(owner=bob)
    assert job.status == JobStatus.DONE and job.records_imported == 217
    page = client.get(response["Location"]).content.decode()
    assert "What it cost" in page and "claude-opus-4-6" in page
    assert not list(Path(job.files.get().path).parent.glob("*"))  # the stored upload is deleted


def test_progress_polling_stops_when_the_job_is_done(bob, django_capture_on_commit_callbacks):
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client)
    poll = client.get(response["Location"], headers={"HX-Request": "true"})
    assert poll.status_code == 286  # htmx: stop polling
    assert 'id="progress"' in poll.content.decode() and "<html" not in poll.content.decode()


def test_a_running_job_keeps_polling(bob):
    workload = workload_get_or_create(name="w", owner=bob)
    job = import_job_create(workload=workload, owner=bob, files=[("s", SESSION, False)])
    response = client_for(bob).get(
        reverse("usage:import_detail", args=[job.code]), headers={"HX-Request": "true"}
    )
    assert response.status_code == HTTPStatus.OK
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_nobody_else_sees_or_cancels_an_import(alice, bob):
    workload = workload_get_or_create(name="w", owner=bob)
    job = import_job_create(workload=workload, owner=bob, files=[("s", SESSION, False)])
    other = client_for(alice)
    assert (
        other.get(reverse("usage:import_detail", args=[job.code])).status_code
        == HTTPStatus.NOT_FOUND
    )
    assert (
        other.post(reverse("usage:import_cancel", args=[job.code])).status_code
        == HTTPStatus.NOT_FOUND
    )
    anonymous = Client().get(reverse("usage:import_detail", args=[job.code]))
    assert anonymous.status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_the_owner_can_cancel_a_queued_import(bob):
    workload = workload_get_or_create(name="w", owner=bob)
    job = import_job_create(workload=workload, owner=bob, files=[("s", SESSION, False)])
    response = client_for(bob).post(reverse("usage:import_cancel", args=[job.code]))
    assert response.status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    from apps.usage.services import import_job_run

    assert import_job_run(job_id=job.pk).status == JobStatus.CANCELLED  # a late task does nothing
    assert not UsageRow.objects.filter(workload=workload).exists()


def test_uploads_need_a_csrf_token(bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    response = upload(client)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not ImportJob.objects.exists()


def test_an_upload_over_the_size_limit_is_refused_without_a_500(bob, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = upload(client_for(bob))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "larger than the limit" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_upload_without_files_is_a_form_error(bob):
    response = client_for(bob).post(reverse("usage:import_create"), {"workload": "x"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not ImportJob.objects.exists()


def test_the_stored_file_name_is_ours_not_the_users(bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        upload(client_for(bob), name="../../etc/passwd.jsonl")
    stored = ImportJob.objects.get().files.get()
    assert Path(stored.path).name == "000.jsonl"
    assert stored.name == "passwd.jsonl"
