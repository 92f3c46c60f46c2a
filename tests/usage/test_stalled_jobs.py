"""A running job whose worker died says so on its page, and the broker's redelivery fits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.usage.models import ImportJob, JobStatus
from apps.usage.services import import_job_create, workload_get_or_create
from tests.usage.helpers import BIG_SESSION

pytestmark = pytest.mark.django_db


def running_job(owner, heartbeat_age: timedelta) -> ImportJob:
    workload = workload_get_or_create(name="w", owner=owner)
    job = import_job_create(workload=workload, owner=owner, files=[("s", BIG_SESSION, False)])
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now() - heartbeat_age
    )
    return ImportJob.objects.get(pk=job.pk)


def page(user, job: ImportJob) -> str:
    client = Client()
    client.force_login(user)
    url = reverse("usage:import_detail", args=[job.code])
    return client.get(url, headers={"HX-Request": "true"}).content.decode()


def test_a_running_job_without_a_heartbeat_says_it_waits_for_a_worker(bob, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker redelivers the task
    settings.IMPORT_STALLED_AFTER = 120
    job = running_job(bob, timedelta(minutes=10))
    assert job.waiting_for_worker
    html = page(bob, job)
    assert "Waiting for a worker to resume it" in html
    minutes = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] // 60
    assert f"within about {minutes} minutes" in html
    assert 'hx-trigger="every 1s"' in html  # still polled: it resumes by itself


def test_a_job_whose_in_process_import_died_says_to_upload_again(bob, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker: nothing will resume it
    html = page(bob, running_job(bob, timedelta(minutes=10)))
    assert "nothing will resume it" in html and "Cancel it and upload the files again" in html


def test_a_running_job_with_a_recent_heartbeat_is_just_running(bob):
    job = running_job(bob, timedelta(seconds=5))
    assert not job.waiting_for_worker
    assert "Waiting for a worker" not in page(bob, job)


def test_the_broker_redelivers_a_little_after_the_hard_time_limit():
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    hard = django_settings.CELERY_TASK_TIME_LIMIT
    # longer, or a running task would be handed to a second worker; not much longer, or
    # a job whose worker died waits needlessly
    assert hard < visibility <= hard + 10 * 60
    assert hard > django_settings.CELERY_TASK_SOFT_TIME_LIMIT
