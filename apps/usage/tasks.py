"""Celery tasks of the usage app: they take ids and call one service.

``import_job_task`` ends its job whatever happens: ``import_job_run`` fails it on any
error; past the soft time limit the task continues in a fresh task (the job resumes from
its last commit) until ``max_retries``, then fails it. A worker killed outright (the hard
time limit, out of memory) leaves the task unacknowledged, and the broker hands it out
again after its visibility timeout (settings: a little longer than the hard limit); the
job page says the job is waiting for a worker meanwhile, and ``import_job_run`` gives up
after ``IMPORT_MAX_ATTEMPTS`` runs.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings

from .imports import ending
from .models import ImportJob
from .services import import_job_run

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def import_job_task(self, job_id: int) -> str:
    """Run or resume an import. Redelivery after a crash resumes from the job's committed point."""
    try:
        job = import_job_run(job_id=job_id, passthrough=(SoftTimeLimitExceeded,))
    except SoftTimeLimitExceeded as exc:
        if self.request.retries < self.max_retries:
            try:
                raise self.retry(exc=exc, countdown=1)  # resumes at the last commit
            except Retry:
                raise
            except Exception:  # noqa: BLE001 - the broker refused the retry: fail below
                log.exception("import job %s: could not schedule its continuation", job_id)
        limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
        kept = ImportJob.objects.filter(pk=job_id).values_list("records_imported", flat=True)
        ending.fail(
            job_id,
            f"The import took too long: it was stopped after {self.request.retries + 1} runs "
            f"of {limit // 60} minutes. Split the upload into smaller files. "
            + ending.kept_message(kept.first() or 0),
        )
        return "failed"
    except Exception:
        # import_job_run fails the job on any error itself; this is an error in doing so
        # (the database went away): try once more, else retry the task so that it ends
        # the job (or resumes it) once the database is back
        try:
            ending.fail_internal(job_id)
        except Exception as exc:  # noqa: BLE001
            raise self.retry(exc=exc, countdown=60) from exc
        return "failed"
    return job.status if job else "missing"
