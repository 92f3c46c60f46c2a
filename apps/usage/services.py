"""Importing usage logs: create a job, run it (resumably, idempotently), cancel it.

The run streams every source through its parser and writes in short transactions. Each
transaction stores a batch of rows AND the job's counters and resume point (source index
and line), so a worker killed at any moment leaves a consistent job that the redelivered
task continues from, without losing or double-counting anything (house style 6-7).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from .formats import UnknownFormatError, detect, get_parser
from .formats.base import Merge, Parsed, Skipped
from .models import ACTIVE_STATUSES, ImportFile, ImportJob, JobStatus, UsageRow, Workload
from .sources import Limits, OversizedLine, SourceError, iter_sources

log = logging.getLogger(__name__)

# rows per transaction: short writes, frequent progress, little to redo after a crash
BATCH_RECORDS = getattr(settings, "IMPORT_BATCH_RECORDS", 5_000)
BATCH_EVENTS = 50_000  # commit progress at least this often on lines without usage
MAX_ERROR_SAMPLES = 100

ROW_FIELDS = (
    "workload_id", "source_format", "source_key", "job_id", "provider", "model", "timestamp",
    "aggregate", "session_id", "request_id", "input_tokens", "cache_read_tokens",
    "cache_write_5m_tokens", "cache_write_30m_tokens", "cache_write_1h_tokens",
    "cache_write_12h_tokens", "cache_write_24h_tokens", "output_tokens", "reasoning_tokens",
    "web_search_calls", "requests", "service_tier", "region", "billed_cost_usd", "long_context",
)  # fmt: skip
SUMMED = (
    "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_30m_tokens",
    "cache_write_1h_tokens", "cache_write_12h_tokens", "cache_write_24h_tokens", "output_tokens",
    "reasoning_tokens", "web_search_calls", "requests",
)  # fmt: skip


class ImportRejected(ValueError):
    """The import as a whole cannot run (e.g. no file of a known format, a zip bomb)."""


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
    job = ImportJob.objects.create(workload=workload, owner=owner, format=format)
    rows = []
    for position, (name, path, uploaded) in enumerate(files):
        size = _size(Path(path))
        rows.append(
            ImportFile(
                job=job, position=position, name=name, path=str(path), size=size, uploaded=uploaded
            )
        )
    if not rows:
        raise ImportRejected("no files to import")
    ImportFile.objects.bulk_create(rows)
    ImportJob.objects.filter(pk=job.pk).update(bytes_total=sum(r.size for r in rows))
    job.refresh_from_db()
    from .tasks import import_job_task  # the task module imports this one

    import_job_task.delay_on_commit(job.pk)
    return job


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


def import_job_cancel(*, job: ImportJob) -> bool:
    """Ask a queued or running job to stop; it stops at its next batch. Rows written stay."""
    changed = ImportJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.CANCELLED, finished_at=Now()
    )
    return bool(changed)


# --------------------------------------------------------------------------- run


@dataclass
class _Progress:
    """Counters not yet committed; flushed with each batch."""

    lines_read: int = 0
    lines_skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    bytes_done: int = 0

    def reset(self) -> None:
        self.lines_read = self.lines_skipped = self.error_count = self.bytes_done = 0
        self.errors = []


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run (or resume) a job. Safe to call twice: a finished or cancelled job is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), Now()),
    )
    if not claimed:
        return ImportJob.objects.filter(pk=job_id).first()
    job = ImportJob.objects.select_related("workload").get(pk=job_id)
    try:
        finished = _run(job)
    except (ImportRejected, SourceError) as exc:
        _fail(job, str(exc))
        return ImportJob.objects.get(pk=job_id)
    if finished:
        _finish(job)
    return ImportJob.objects.get(pk=job_id)


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, message=message, finished_at=Now()
    )


def _finish(job: ImportJob) -> None:
    from .selectors import workload_summary

    summary = workload_summary(job.workload)
    ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE, finished_at=Now(), summary=summary, bytes_done=F("bytes_total")
    )
    _delete_uploads(job)


def _delete_uploads(job: ImportJob) -> None:
    for f in job.files.filter(uploaded=True):
        try:
            Path(f.path).unlink(missing_ok=True)
        except OSError:  # pragma: no cover - best effort clean-up
            log.warning("could not delete upload %s", f.path)


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
    progress = _Progress()
    pending = _Pending()
    pending.position = (job.sources_done, job.current_line)
    skipped_members: list[tuple[str, str]] = []
    parsed_any = job.sources_done > 0
    unknown: list[str] = []
    sources = iter_sources(paths, _limits(), lambda n, r: skipped_members.append((n, r)))
    for index, source in enumerate(sources):
        if index < job.sources_done:
            continue  # finished before a restart
        resume_line = job.current_line if index == job.sources_done else 0
        try:
            parser = (
                get_parser(job.format) if job.format else detect(source.head(), source.filename)
            )
        except UnknownFormatError as exc:
            unknown.append(str(exc))
            progress.error_count += 1
            progress.errors.append({"file": source.name, "line": 0, "reason": str(exc)})
            pending.position, pending.source_name = (index + 1, 0), source.name
            continue
        parsed_any = True
        if not _import_source(job, parser, source, index, resume_line, progress, pending):
            return False
    for name, reason in skipped_members:
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
    job, parser, source, index: int, resume_line: int, progress: _Progress, pending: _Pending
) -> bool:
    lines = _guard_oversized(source.open_lines(), progress)
    pending.source_name = source.name
    for event in parser.parse(lines, source.name):
        if event.line <= resume_line:
            continue
        pending.position = (index, event.line)
        pending.events += 1
        progress.lines_read += 1
        if isinstance(event, Parsed):
            pending.batch.append(event)
        elif isinstance(event, Skipped):
            progress.lines_skipped += 1
        else:
            progress.error_count += 1
            if len(job.error_samples) + len(progress.errors) < MAX_ERROR_SAMPLES:
                progress.errors.append(
                    {"file": source.name, "line": event.line, "reason": event.reason}
                )
        if pending.due() and not _flush(job, pending, progress):
            return False
    # this source is finished: a commit from here on resumes at the next one
    pending.position = (index + 1, 0)
    return True


def _guard_oversized(lines, progress: _Progress):
    """Count bytes as they stream; oversized lines reach the parser as a marker it reports."""
    for line in lines:
        progress.bytes_done += len(line) if not isinstance(line, OversizedLine) else line.length
        yield line


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
            ImportJob.objects.select_for_update().only("status", "error_samples").get(pk=job.pk)
        )
        if locked.status != JobStatus.RUNNING:
            return False
        if connection.vendor == "postgresql":
            # one writer per workload at a time: concurrent imports into it queue here
            Workload.objects.select_for_update().only("pk").get(pk=job.workload_id)
        inserted, duplicates = _write_rows(job, batch)
        samples = (locked.error_samples + progress.errors)[:MAX_ERROR_SAMPLES]
        ImportJob.objects.filter(pk=job.pk).update(
            lines_read=F("lines_read") + progress.lines_read,
            lines_skipped=F("lines_skipped") + progress.lines_skipped,
            error_count=F("error_count") + progress.error_count,
            error_samples=samples,
            records_imported=F("records_imported") + inserted,
            duplicates_skipped=F("duplicates_skipped") + duplicates,
            bytes_done=F("bytes_done") + progress.bytes_done,
            sources_done=sources_done,
            current_line=current_line,
            current_source=current_source[:500],
        )
    job.error_samples = samples
    job.sources_done, job.current_line = sources_done, current_line
    progress.reset()
    return True


# --------------------------------------------------------------------------- rows


def _row_values(job: ImportJob, p: Parsed) -> dict[str, Any]:
    r = p.record
    return {
        "workload_id": job.workload_id,
        "source_format": p.source_key.split(":", 1)[0][:32],
        "source_key": p.source_key[:255],
        "job_id": job.pk,
        "provider": r.provider[:40],
        "model": r.model[:200],
        "timestamp": r.timestamp,
        "aggregate": p.aggregate,
        "session_id": r.session_id[:200],
        "request_id": r.request_id[:200],
        "input_tokens": r.input_tokens,
        "cache_read_tokens": r.cache_read_tokens,
        "cache_write_5m_tokens": r.cache_write_5m_tokens,
        "cache_write_30m_tokens": r.cache_write_30m_tokens,
        "cache_write_1h_tokens": r.cache_write_1h_tokens,
        "cache_write_12h_tokens": r.cache_write_12h_tokens,
        "cache_write_24h_tokens": r.cache_write_24h_tokens,
        "output_tokens": r.output_tokens,
        "reasoning_tokens": r.reasoning_tokens,
        "web_search_calls": r.web_search_calls,
        "requests": r.requests,
        "service_tier": r.service_tier,
        "region": r.region[:20],
        "billed_cost_usd": r.billed_cost_usd,
        "long_context": r.long_context,
    }


def _size_key(values: dict[str, Any]) -> tuple[int, int]:
    # "keep the largest": the final streamed snapshot has the most output tokens
    return (values["output_tokens"], sum(values[f] for f in SUMMED if f.endswith("_tokens")))


def _merge_in_batch(
    job: ImportJob, batch: list[Parsed]
) -> tuple[dict[str, dict[str, Any]], dict[str, str], int]:
    merged: dict[str, dict[str, Any]] = {}
    policy: dict[str, str] = {}
    duplicates = 0
    for p in batch:
        values = _row_values(job, p)
        key = values["source_key"]
        seen = merged.get(key)
        if seen is None:
            merged[key], policy[key] = values, p.merge
        elif p.merge == Merge.SUM:
            for f in SUMMED:
                seen[f] += values[f]
            if values["billed_cost_usd"] is not None:
                seen["billed_cost_usd"] = (seen["billed_cost_usd"] or 0) + values["billed_cost_usd"]
        else:
            duplicates += 1
            if _size_key(values) > _size_key(seen):
                merged[key] = values
    return merged, policy, duplicates


def _write_rows(job: ImportJob, batch: list[Parsed]) -> tuple[int, int]:
    """Insert new keys, merge existing ones. Returns (records inserted, duplicates)."""
    if not batch:
        return 0, 0
    merged, policy, duplicates = _merge_in_batch(job, batch)
    existing = {
        row["source_key"]: row
        for row in UsageRow.objects.filter(
            workload_id=job.workload_id, source_key__in=list(merged)
        ).values("id", "source_key", "job_id", *SUMMED, "billed_cost_usd")
    }
    new_rows, updates = [], []
    for key, values in merged.items():
        old = existing.get(key)
        if old is None:
            new_rows.append(values)
            continue
        if policy[key] == Merge.SUM and old["job_id"] == job.pk:
            for f in SUMMED:  # more rows of the same bucket in this import (a later batch)
                values[f] += old[f]
            if old["billed_cost_usd"] is not None:
                values["billed_cost_usd"] = (values["billed_cost_usd"] or 0) + old[
                    "billed_cost_usd"
                ]
            updates.append((old["id"], values))
            continue
        duplicates += 1
        if policy[key] == Merge.SUM or _size_key(values) > _size_key(old):
            updates.append((old["id"], values))
    _insert(new_rows)
    if updates:
        objs = [UsageRow(id=pk, **values) for pk, values in updates]
        UsageRow.objects.bulk_update(
            objs, [f for f in ROW_FIELDS if f != "workload_id"], batch_size=500
        )
    return len(new_rows), duplicates


def _insert(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        # COPY is several times faster than multi-row INSERT (performance-and-reliability 1a)
        columns = ", ".join(ROW_FIELDS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY usage_record ({columns}) FROM STDIN") as copy,
        ):
            for values in rows:
                copy.write_row([values[f] for f in ROW_FIELDS])
        return
    UsageRow.objects.bulk_create([UsageRow(**values) for values in rows], batch_size=500)


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
