"""Celery tasks of the usage app: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(SoftTimeLimitExceeded,),
    retry_backoff=True,
    max_retries=5,
)
def import_job_task(self, job_id: int) -> str:
    """Run or resume an import. Redelivery after a crash resumes from the job's committed point."""
    from .services import import_job_run

    job = import_job_run(job_id=job_id)
    return job.status if job else "missing"
