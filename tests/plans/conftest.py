"""The real Claude Code sample imported into a workload, as the import page would."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.usage.models import JobStatus
from apps.usage.services import import_job_create, import_job_run, workload_get_or_create

PROJECTS = Path(__file__).resolve().parents[1] / "data" / "usage" / "claude_code" / "projects"


def import_sample(*, name: str, owner=None):
    workload = workload_get_or_create(name=name, owner=owner)
    job = import_job_create(
        workload=workload, owner=owner, files=[(PROJECTS.name, PROJECTS, False)]
    )
    assert import_job_run(job_id=job.pk).status == JobStatus.DONE
    return workload


@pytest.fixture
def bobs_sample(bob):
    return import_sample(name="claude code sample", owner=bob)
