"""How an import ends when it does not finish: failed with a message, uploads deleted.

Whatever stops an import, the job ends ``failed`` (or stays ``cancelled``) and its uploads
are deleted, in every terminal state (done, failed, cancelled); an import never stays
"running" after its task ended.

Rows of a failed job: the ones committed are KEPT, the batch in flight is rolled back
whole. Each batch commits in one transaction with the job's counters and resume point
(``services._commit``), so the rows stored are exactly those the job's counters report, up
to its resume point. Removing them instead cannot be done safely: a batch may have updated
rows an earlier import wrote (a later snapshot of the same response, an aggregate bucket
exported again), and deleting those would lose usage that was there before the job.
Importing the same files again is harmless (rows are de-duplicated on their source keys),
so the message tells the user that.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models.functions import Now

from apps.usage.models import ImportFile, ImportJob, JobStatus

log = logging.getLogger(__name__)


def fail(job_id: int, message: str) -> bool:
    """End a running job as failed with ``message``; False if it was no longer running.

    Retried once on a new connection when the database connection itself broke (the
    error that stopped the import may have been that).
    """
    for attempt in (1, 2):
        try:
            done = ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED, message=message, finished_at=Now()
            )
            break
        except DatabaseError:
            if attempt == 2 or connection.in_atomic_block:
                raise
            connection.close()  # the next query opens a fresh one
    delete_uploads(job_id)
    return bool(done)


def fail_internal(job_id: int) -> str:
    """Fail a job on an unexpected error; log it with its traceback and a reference.

    Call from an ``except`` block. The reference is what the user quotes; it is in the log
    line next to the traceback.
    """
    reference = secrets.token_hex(4)
    log.exception("import job %s failed: internal error, reference %s", job_id, reference)
    kept = ImportJob.objects.filter(pk=job_id).values_list("records_imported", flat=True).first()
    fail(job_id, internal_error_message(reference, kept or 0))
    return reference


def internal_error_message(reference: str, kept: int) -> str:
    return (
        f"The import stopped: internal error, reference {reference}. {kept_message(kept)} "
        "If it happens again, please report it quoting the reference."
    )


def kept_message(kept: int) -> str:
    if not kept:
        return "Nothing was imported."
    return (
        f"The {kept:,} record{'s' if kept != 1 else ''} imported before it stay in the "
        "workload; importing the same files again adds only what is missing."
    )


def delete_uploads(job_id: int) -> None:
    """Delete the files we stored for a job (and their folder); paths given on the command
    line are the user's and stay."""
    paths = ImportFile.objects.filter(job_id=job_id, uploaded=True).values_list("path", flat=True)
    delete_uploads_at([Path(p) for p in paths])


def delete_uploads_at(paths: list[Path]) -> None:
    """Delete stored uploads, and their folder under UPLOAD_DIR once it is empty."""
    root = Path(settings.UPLOAD_DIR).resolve()
    for path in paths:
        upload = Path(path)
        try:
            upload.unlink(missing_ok=True)
            folder = upload.parent
            if folder.is_dir() and folder.resolve().parent == root and not any(folder.iterdir()):
                folder.rmdir()  # the upload's own folder (uploads.store_uploads)
        except OSError:  # pragma: no cover - best effort clean-up
            log.warning("could not delete upload %s", path)
