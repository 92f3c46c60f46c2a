"""Importing usage logs: create a job, run it (resumably, idempotently), cancel it.

The run streams every source through its parser and writes in short transactions. Each
transaction stores a batch of rows AND the job's counters and resume point (source index
and line), so a worker killed at any moment leaves a consistent job that the redelivered
task continues from, without losing or double-counting anything (house style 6-7).

Whatever else stops a run, the job ends ``failed`` with a message the user can act on: a
refused upload or an aggregate too large to store says why; anything unexpected is logged
with its traceback and shown as "internal error, reference <id>". The rows committed
before the failure are kept and the batch in flight is rolled back whole (``ending``
explains why kept rather than removed); the uploads are deleted in every terminal state.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from .formats import get_parser
from .formats.base import Parsed, Skipped
from .imports import ending
from .imports.bounds import SumTooLarge, record_problem
from .imports.quotas import UploadRefused, upload_refusal
from .imports.reader import SourceReader
from .imports.rows import write_rows
from .models import ACTIVE_STATUSES, ImportFile, ImportJob, JobStatus, Workload
from .selectors import workload_summary
from .sources import Limits, SourceError

log = logging.getLogger(__name__)

# rows per transaction: short writes, frequent progress, little to redo after a crash
BATCH_RECORDS = getattr(settings, "IMPORT_BATCH_RECORDS", 5_000)
BATCH_EVENTS = 50_000  # commit progress at least this often on lines without usage
MAX_ERROR_SAMPLES = 100
# Runs of one job (first run, resumes after a lost worker, continuations after a time
# limit) before it is given up as failed: a file that kills its worker every time must not
# be handed out again forever.
MAX_ATTEMPTS = getattr(settings, "IMPORT_MAX_ATTEMPTS", 10)


class ImportRejected(ValueError):
    """The import as a whole cannot run (e.g. no file of a known format, a zip bomb)."""


# Errors that end a run with their own message (the user can act on it); the rest are
# internal errors shown with a reference.
_REJECTIONS = (ImportRejected, SourceError, SumTooLarge, UploadRefused)


# --------------------------------------------------------------------------- create


def workload_get_or_create(*, name: str, owner=None) -> Workload:
    workload, _ = Workload.objects.get_or_create(name=name, owner=owner)
    return workload


@transaction.atomic
def import_job_create(
    *, workload: Workload, files: Iterable[tuple[str, Path, bool]], owner=None, format: str = ""
) -> ImportJob:
    """A queued job over ``files`` = (display name, path, uploaded-by-us); enqueued on commit."""
    if format:
        get_parser(format)  # raises UnknownFormatError naming the known formats
    sized = [(name, path, uploaded, _size(Path(path))) for name, path, uploaded in files]
    if owner is not None:
        # one upload of this user at a time past this point, so both limits hold exactly
        list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk"))
        refusal = upload_refusal(owner, sum(size for *_, ours, size in sized if ours))
        if refusal is not None:
            raise refusal
    job = ImportJob.objects.create(workload=workload, owner=owner, format=format)
    rows = [
        ImportFile(job=job, position=position, name=name, path=str(path), size=size, uploaded=ours)
        for position, (name, path, ours, size) in enumerate(sized)
    ]
    if not rows:
        raise ImportRejected("no files to import")
    ImportFile.objects.bulk_create(rows)
    ImportJob.objects.filter(pk=job.pk).update(bytes_total=sum(r.size for r in rows))
    job.refresh_from_db()
    # the task module imports this one at its top: importing it here breaks the cycle
    from .tasks import import_job_task

    import_job_task.delay_on_commit(job.pk)
    return job


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


def import_job_cancel(*, job: ImportJob) -> bool:
    """Ask a queued or running job to stop; it stops at its next batch. Rows written stay.

    The uploads are deleted now: a queued job will never run, and a running one either has
    its files open (deleting unlinks them, the reading goes on to the next commit, which
    sees the cancel) or stops on the missing file as cancelled.
    """
    changed = ImportJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.CANCELLED, finished_at=Now()
    )
    if changed:
        ending.delete_uploads(job.pk)
    return bool(changed)


# --------------------------------------------------------------------------- run


@dataclass
class _Progress:
    """Counters not yet committed; flushed with each batch."""

    lines_read: int = 0
    lines_skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    bytes_done: int = 0  # absolute: bytes of the upload's files read (reader.SourceReader)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # archive members, in order

    def reset(self) -> None:
        self.lines_read = self.lines_skipped = self.error_count = 0
        self.errors = []

    def error(self, job: ImportJob, name: str, line: int, reason: str) -> None:
        self.error_count += 1
        if len(job.error_samples) + len(self.errors) < MAX_ERROR_SAMPLES:
            self.errors.append({"file": name, "line": line, "reason": reason})


def import_job_run(*, job_id: int, passthrough: tuple[type[BaseException], ...] = ()):
    """Run (or resume) a job. Safe to call twice: a finished or cancelled job is left alone.

    Never leaves the job running when it returns: done, failed (any exception) or
    cancelled. Exceptions in ``passthrough`` (the task's time limit) are raised instead,
    the job still running at its last commit, for the caller to continue or fail it.
    """
    active = ImportJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES)
    claimed = active.filter(attempts__lt=MAX_ATTEMPTS).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), Now()),
        heartbeat_at=Now(),
    )
    if not claimed:
        if active.update(status=JobStatus.RUNNING):  # active, but out of attempts
            kept = ImportJob.objects.get(pk=job_id).records_imported
            ending.fail(
                job_id,
                f"The import was given up after {MAX_ATTEMPTS} attempts: the worker running "
                "it stopped each time (the file may be too large for it). "
                + ending.kept_message(kept),
            )
        return ImportJob.objects.filter(pk=job_id).first()
    job = ImportJob.objects.select_related("workload").get(pk=job_id)
    try:
        with _fewer_collections():
            if _run(job):
                _finish(job)
    except passthrough:
        raise
    except Exception as exc:
        if not ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).exists():
            # cancelled meanwhile (its uploads deleted under it): nothing to tell the user
            log.info("import job %s stopped after its cancel", job_id, exc_info=True)
        elif isinstance(exc, _REJECTIONS):
            kept = ImportJob.objects.get(pk=job_id).records_imported
            reason = str(exc).rstrip(".") + "."
            ending.fail(job_id, f"{reason} {ending.kept_message(kept)}" if kept else reason)
        else:
            ending.fail_internal(job_id)
    return ImportJob.objects.get(pk=job_id)


@contextlib.contextmanager
def _fewer_collections():
    """Run the import with the cyclic GC's young generation collected 50x less often.

    An import allocates millions of short-lived objects (records, events, rows) that are
    freed by reference counting; with the default threshold (2,000) the collector runs
    every few hundred lines for nothing. Memory stays bounded: batches are flushed and
    dropped as before, and the collector still runs.
    """
    before = gc.get_threshold()
    gc.set_threshold(100_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _finish(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=Now())  # the summary takes a while
    try:
        summary = workload_summary(job.workload)
    except OverflowError as exc:  # the bulk path's exact sums stop at 9e15 tokens per price
        raise ImportRejected(
            "the workload's token counts are too large to price exactly (more than 9 "
            "million billion tokens of one model at one price); check the counts in the file"
        ) from exc
    ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE, finished_at=Now(), summary=summary, bytes_done=F("bytes_total")
    )
    ending.delete_uploads(job.pk)


def _limits() -> Limits:
    return Limits(
        max_members=getattr(settings, "IMPORT_MAX_ARCHIVE_MEMBERS", Limits.max_members),
        max_total_bytes=getattr(settings, "IMPORT_MAX_DECOMPRESSED_BYTES", Limits.max_total_bytes),
        max_ratio=getattr(settings, "IMPORT_MAX_COMPRESSION_RATIO", Limits.max_ratio),
    )


class _Pending:
    """Records and progress not yet committed, carried across files.

    Committing per batch rather than per file keeps transactions few (a Claude Code folder
    holds thousands of small files). The resume point committed with a batch is the source
    and line of the last event it covers.
    """

    def __init__(self) -> None:
        self.batch: list[Parsed] = []
        self.events = 0
        self.position = (0, 0)
        self.source_name = ""

    def due(self) -> bool:
        return len(self.batch) >= BATCH_RECORDS or self.events >= BATCH_EVENTS


def _run(job: ImportJob) -> bool:
    """Process every source from the job's resume point. False if the job was cancelled."""
    paths = [Path(f.path) for f in job.files.all()]
    progress = _Progress(bytes_done=job.bytes_done)
    pending = _Pending()
    start = pending.position = (job.sources_done, job.current_line)
    parsed_any = job.sources_done > 0
    unknown: list[str] = []
    with SourceReader(job.pk, job.format, start, _limits(), paths) as reader:
        progress.skipped = reader.skipped
        for index, name, resume_line, problem, chunks in reader.sources():
            if problem is not None:  # not a format we know
                unknown.append(problem)
                progress.error(job, name, 0, problem)
                pending.position, pending.source_name = (index + 1, 0), name
                continue
            parsed_any = True
            if not _import_source(job, name, chunks, index, resume_line, progress, pending):
                return False
    for name, reason in progress.skipped:
        log.info("skipped archive member %s: %s", name, reason)
    if not _flush(job, pending, progress):
        return False
    if not parsed_any and unknown:
        raise ImportRejected("; ".join(unknown))
    return True


def _flush(job: ImportJob, pending: _Pending, progress: _Progress) -> bool:
    sources_done, line = pending.position
    ok = _commit(job, pending.batch, progress, sources_done, line, pending.source_name)
    pending.batch, pending.events = [], 0
    return ok


def _import_source(
    job, name: str, chunks, index: int, resume_line: int, progress: _Progress, pending: _Pending
) -> bool:
    """Account one source's events (as ``SourceReader`` hands them over) and commit as due."""
    pending.source_name = name
    line = 0  # the last line accounted for
    for events, read in chunks:
        if read > progress.bytes_done:
            progress.bytes_done = read
        for event in events:
            if type(event) is int:
                # a stretch of `event` lines without usage (parse_runs): accounted exactly
                # as that many Skipped events one by one
                first = line + 1
                line += event
                if line <= resume_line:
                    continue
                left = line - max(first, resume_line + 1) + 1
                while left:
                    # as far as the next commit at most, so that commits fall where they
                    # would one event at a time (a full batch of records commits at once)
                    room = (
                        1 if len(pending.batch) >= BATCH_RECORDS else BATCH_EVENTS - pending.events
                    )
                    take = min(left, max(room, 1))
                    left -= take
                    pending.position = (index, line - left)
                    pending.events += take
                    progress.lines_read += take
                    progress.lines_skipped += take
                    if pending.due() and not _flush(job, pending, progress):
                        return False
                continue
            line = event.line
            if line <= resume_line:
                continue
            pending.position = (index, line)
            pending.events += 1
            progress.lines_read += 1
            if isinstance(event, Parsed):
                problem = record_problem(event.record)
                if problem is None:
                    pending.batch.append(event)
                else:  # a parser let an out-of-range value through: a line error all the same
                    progress.error(job, name, line, problem)
            elif isinstance(event, Skipped):
                progress.lines_skipped += 1
            else:
                progress.error(job, name, event.line, event.reason)
            if pending.due() and not _flush(job, pending, progress):
                return False
    # this source is finished: a commit from here on resumes at the next one
    pending.position = (index + 1, 0)
    return True


def _commit(
    job: ImportJob,
    batch: list[Parsed],
    progress: _Progress,
    sources_done: int,
    current_line: int,
    current_source: str,
) -> bool:
    """Write a batch and the progress that covers it in ONE transaction; False if cancelled."""
    with transaction.atomic():
        locked = (
            ImportJob.objects.select_for_update()
            .only("status", "error_samples", "warnings", "warning_count")
            .get(pk=job.pk)
        )
        if locked.status != JobStatus.RUNNING:
            return False
        if connection.vendor == "postgresql":
            # A batch need not wait for its WAL flush: rows and resume point commit together,
            # so a database crash can only lose a suffix of batches, and the redelivered task
            # re-reads exactly that suffix (never a half-written batch).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            # one writer per workload at a time: concurrent imports into it queue here
            Workload.objects.select_for_update().only("pk").get(pk=job.workload_id)
        inserted, duplicates = write_rows(job, batch)
        samples = (locked.error_samples + progress.errors)[:MAX_ERROR_SAMPLES]
        # archive members skipped: the walk is the same on every attempt, so the ones past
        # the count already stored are new (a resumed job does not record them twice)
        skipped = progress.skipped[locked.warning_count : len(progress.skipped)]
        warnings = locked.warnings + [
            {"file": name, "reason": reason}
            for name, reason in skipped[: max(MAX_ERROR_SAMPLES - len(locked.warnings), 0)]
        ]
        bytes_done = max(job.bytes_done, progress.bytes_done)
        ImportJob.objects.filter(pk=job.pk).update(
            lines_read=F("lines_read") + progress.lines_read,
            lines_skipped=F("lines_skipped") + progress.lines_skipped,
            error_count=F("error_count") + progress.error_count,
            error_samples=samples,
            records_imported=F("records_imported") + inserted,
            duplicates_skipped=F("duplicates_skipped") + duplicates,
            bytes_done=bytes_done,
            sources_done=sources_done,
            current_line=current_line,
            current_source=current_source[:500],
            warning_count=locked.warning_count + len(skipped),
            warnings=warnings,
            heartbeat_at=Now(),
        )
    job.error_samples = samples
    job.bytes_done = bytes_done
    job.sources_done, job.current_line = sources_done, current_line
    progress.reset()
    return True


def job_report(job: ImportJob) -> dict[str, Any]:
    """The `import_usage --json` object for a job (summary filled in when it is done)."""
    summary = job.summary or {}
    return {
        "job": str(job.code),
        "workload": job.workload.name,
        "status": job.status,
        "message": job.message,
        "lines_read": job.lines_read,
        "records_imported": job.records_imported,
        "duplicates_skipped": job.duplicates_skipped,
        "lines_skipped": job.lines_skipped,
        "errors": {"count": job.error_count, "samples": job.error_samples[:MAX_ERROR_SAMPLES]},
        "by_model": summary.get("by_model", []),
        "total_cost_usd": summary.get("total_cost_usd", "0"),
        "unpriced": summary.get(
            "unpriced", {"requests": 0, "records": 0, "tokens": 0, "models": [], "reasons": {}}
        ),
        "reconciliation": summary.get("reconciliation", []),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "generated_at": timezone.now().isoformat(),
    }
