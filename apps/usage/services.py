"""Importing usage logs: create a job, run it (resumably, idempotently), cancel it.

The run streams every source through its parser and writes in short transactions. Each
transaction stores a batch of rows AND the job's counters and resume point (source index
and line), so a worker killed at any moment leaves a consistent job that the redelivered
task continues from, without losing or double-counting anything (house style 6-7).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from .formats import UnknownFormatError, detect, get_parser
from .formats.base import Merge, Parsed, Skipped
from .models import ACTIVE_STATUSES, ImportFile, ImportJob, JobStatus, UsageRow, Workload
from .sources import Limits, SourceError, iter_sources

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
        with _fewer_collections():
            finished = _run(job)
    except (ImportRejected, SourceError) as exc:
        _fail(job, str(exc))
        return ImportJob.objects.get(pk=job_id)
    if finished:
        _finish(job)
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
    with _Reader(job, paths, skipped_members) as reader:
        for index, name, resume_line, problem, chunks in reader.sources():
            if problem is not None:  # not a format we know
                unknown.append(problem)
                progress.error_count += 1
                progress.errors.append({"file": name, "line": 0, "reason": problem})
                pending.position, pending.source_name = (index + 1, 0), name
                continue
            parsed_any = True
            if not _import_source(job, name, chunks, index, resume_line, progress, pending):
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
    job, name: str, chunks, index: int, resume_line: int, progress: _Progress, pending: _Pending
) -> bool:
    """Account one source's events (as ``_Reader`` hands them over) and commit as due."""
    pending.source_name = name
    line = 0  # the last line accounted for
    for events, read in chunks:
        progress.bytes_done += read
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
                pending.batch.append(event)
            elif isinstance(event, Skipped):
                progress.lines_skipped += 1
            else:
                progress.error_count += 1
                if len(job.error_samples) + len(progress.errors) < MAX_ERROR_SAMPLES:
                    progress.errors.append(
                        {"file": name, "line": event.line, "reason": event.reason}
                    )
            if pending.due() and not _flush(job, pending, progress):
                return False
    # this source is finished: a commit from here on resumes at the next one
    pending.position = (index + 1, 0)
    return True


# --------------------------------------------------------------------------- reading thread

# What the reading thread hands over, in order, in boxes of a few thousand events:
_SOURCE = "source"  # (_SOURCE, index, name, resume line): a source to import, then its events
_EVENTS = "events"  # (_EVENTS, [events and runs], bytes read for them)
_END = "end"  # (_END,): the current source is done
_UNKNOWN = "unknown"  # (_UNKNOWN, index, name, reason): a source of no known format
_ERROR = "error"  # (_ERROR, exception): raised in the writer at this point of the stream
_DONE = "done"  # (_DONE,): every source is read
_BOX_EVENTS = 2048  # events and runs per box
_BOX_QUEUE = 24  # boxes in flight at most: the reader runs about a batch ahead, memory stays flat


class _Reader:
    """Reads, decompresses and parses the sources in a thread, ahead of the writer.

    The writer (the calling thread, the only one that touches the database) gets every
    source and event in the same order as reading them itself, and accounts and commits
    them exactly as before: the same batches, the same resume points. The two overlap:
    while a batch is in PostgreSQL (COPY, commit, lookups: the GIL is released while
    waiting), the next lines are parsed. An exception in the reader (a corrupt archive, a
    limit) is raised in the writer where it happened in the stream, after everything read
    before it. Leaving the ``with`` block (done, cancelled or failed) stops the reader.
    """

    def __init__(self, job: ImportJob, paths: list[Path], skipped: list[tuple[str, str]]) -> None:
        self._format = job.format
        self._start = (job.sources_done, job.current_line)  # the resume point at the start
        self._limits = _limits()
        self._paths = paths
        self._skipped = skipped
        self._queue: queue.Queue[list[tuple]] = queue.Queue(maxsize=_BOX_QUEUE)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read, name=f"import-{job.pk}-reader", daemon=True
        )

    def __enter__(self) -> _Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a reader waiting for room, let it see stop
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    # ----------------------------------------------------------------- writer side

    def sources(self):
        """(index, name, resume line, reason if unknown else None, chunks) per source.

        ``chunks`` yields (events, bytes read) until the source ends; read it through
        before asking for the next source.
        """
        items = self._items()
        for item in items:
            kind = item[0]
            if kind is _SOURCE:
                chunks = self._chunks(items)
                yield item[1], item[2], item[3], None, chunks
                for _ in chunks:  # whatever the writer left of this source
                    pass
            elif kind is _UNKNOWN:
                yield item[1], item[2], 0, item[3], None
            elif kind is _DONE:
                return

    @staticmethod
    def _chunks(items):
        for item in items:
            kind = item[0]
            if kind is _EVENTS:
                yield item[1], item[2]
            elif kind is _END:
                return

    def _items(self):
        while True:
            try:
                box = self._queue.get(timeout=1.0)
            except queue.Empty:
                if self._thread.is_alive() or not self._queue.empty():
                    continue
                raise RuntimeError("the import's reading thread ended unexpectedly") from None
            for item in box:
                if item[0] is _ERROR:
                    raise item[1]
                yield item

    # ----------------------------------------------------------------- reader side

    def _read(self) -> None:
        box: list[tuple] = []
        try:
            self._read_sources(box)
            box.append((_DONE,))
        except BaseException as exc:  # noqa: BLE001 - handed to the writer, raised there
            box.append((_ERROR, exc))
        self._put(box)

    def _put(self, box: list[tuple]) -> bool:
        """Hand a box over; False once the writer has stopped listening."""
        while not self._stop.is_set():
            try:
                self._queue.put(box, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read_sources(self, box: list[tuple]) -> None:
        first, first_line = self._start
        skipped = self._skipped
        sources = iter_sources(self._paths, self._limits, lambda n, r: skipped.append((n, r)))
        boxed = 0  # events in `box` before the current source's
        try:
            for index, source in enumerate(sources):
                if index < first:
                    continue  # finished before a restart
                try:
                    parser = (
                        get_parser(self._format)
                        if self._format
                        else detect(source.head(), source.filename)
                    )
                except UnknownFormatError as exc:
                    box.append((_UNKNOWN, index, source.name, str(exc)))
                    continue
                box.append((_SOURCE, index, source.name, first_line if index == first else 0))
                read = [0]  # bytes of the lines read, for the progress
                lines = source.open_lines(read)
                runs = getattr(parser, "parse_runs", None)
                if runs is not None:
                    events = runs(lines, source.name)
                else:
                    events = parser.parse(lines, source.name)
                chunk: list = []
                box.append((_EVENTS, chunk, 0))
                room = _BOX_EVENTS - boxed
                for event in events:
                    chunk.append(event)
                    if len(chunk) >= room:  # the box is full: hand it over, go on in a new one
                        box[-1] = (_EVENTS, chunk, read[0])
                        read[0] = 0
                        if not self._put(box[:]):
                            return
                        box.clear()
                        chunk = []
                        box.append((_EVENTS, chunk, 0))
                        room = _BOX_EVENTS
                box[-1] = (_EVENTS, chunk, read[0])
                box.append((_END,))
                boxed = _BOX_EVENTS - room + len(chunk)
                if boxed >= _BOX_EVENTS // 2:
                    if not self._put(box[:]):
                        return
                    box.clear()
                    boxed = 0
                if self._stop.is_set():
                    return
        finally:
            sources.close()


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
            # A batch need not wait for its WAL flush: rows and resume point commit together,
            # so a database crash can only lose a suffix of batches, and the redelivered task
            # re-reads exactly that suffix (never a half-written batch).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
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
    """The row an event becomes, by field (for merges and bulk_create)."""
    return dict(zip(ROW_FIELDS, _row_tuple_of(job, p), strict=True))


# "keep the largest": the final streamed snapshot has the most output tokens, then tokens
_SIZE_FIELDS = tuple(f for f in SUMMED if f.endswith("_tokens"))
_row_sizes = itemgetter(*_SIZE_FIELDS)
_record_sizes = attrgetter(*_SIZE_FIELDS)  # UsageRecord attributes share the row's names


def _size_key(values: dict[str, Any]) -> tuple[int, int]:
    return (values["output_tokens"], sum(_row_sizes(values)))


def _record_size(r) -> tuple[int, int]:
    """``_size_key`` of the row a record becomes, without building the row."""
    return (r.output_tokens, sum(_record_sizes(r)))


def _merge_in_batch(
    job: ImportJob, batch: list[Parsed]
) -> tuple[dict[str, Parsed | dict[str, Any]], dict[str, str], int]:
    """Per source key, the event to write (or, once a SUM merge added to it, its row).

    A row is built once, for the winner only.
    """
    kept: dict[str, Any] = {}
    sizes: dict[str, tuple[int, int]] = {}  # size of each kept event
    policy: dict[str, str] = {}
    duplicates = 0
    for p in batch:
        key = p.source_key[:255]
        seen = kept.get(key)
        if seen is None:
            kept[key], policy[key] = p, p.merge
        elif p.merge == Merge.SUM:
            if type(seen) is not dict:
                seen = kept[key] = _row_values(job, seen)
            values = _row_values(job, p)
            for f in SUMMED:
                seen[f] += values[f]
            if values["billed_cost_usd"] is not None:
                seen["billed_cost_usd"] = (seen["billed_cost_usd"] or 0) + values["billed_cost_usd"]
        else:
            duplicates += 1
            size = _record_size(p.record)
            if type(seen) is dict:
                old = _size_key(seen)
            else:
                old = sizes.get(key) or _record_size(seen.record)
            if size > old:
                kept[key], sizes[key] = p, size
            else:
                sizes[key] = old
    return kept, policy, duplicates


def _existing_rows(job: ImportJob, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The workload's rows already stored under ``keys``, by source key."""
    columns = ("id", "source_key", "job_id", *SUMMED, "billed_cost_usd")
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        # The ORM query below, with the keys as ONE binary array parameter (the same plan:
        # PostgreSQL reads IN (...) as = ANY(ARRAY[...])) rather than thousands of
        # separate query parameters that Django compiles and psycopg quotes one by one.
        sql = (
            f"SELECT {', '.join(columns)} FROM {UsageRow._meta.db_table} "
            "WHERE workload_id = %b AND source_key = ANY(%b)"
        )
        with connection.cursor() as wrapper, psycopg.Cursor(wrapper.cursor.connection) as cursor:
            cursor.execute(sql, [job.workload_id, keys])
            return {row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    return {
        row["source_key"]: row
        for row in UsageRow.objects.filter(workload_id=job.workload_id, source_key__in=keys).values(
            *columns
        )
    }


def _write_rows(job: ImportJob, batch: list[Parsed]) -> tuple[int, int]:
    """Insert new keys, merge existing ones. Returns (records inserted, duplicates)."""
    if not batch:
        return 0, 0
    merged, policy, duplicates = _merge_in_batch(job, batch)
    existing = _existing_rows(job, list(merged))
    new_rows, updates = [], []
    for key, value in merged.items():
        old = existing.get(key)
        if old is None:
            new_rows.append(value)  # most rows: written straight from the event (_insert)
            continue
        values = value if type(value) is dict else _row_values(job, value)
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
    _insert(new_rows, job)
    if updates:
        objs = [UsageRow(id=pk, **values) for pk, values in updates]
        UsageRow.objects.bulk_update(
            objs, [f for f in ROW_FIELDS if f != "workload_id"], batch_size=500
        )
    return len(new_rows), duplicates


# PostgreSQL types of ROW_FIELDS, for binary COPY (performance-and-reliability 1a: about
# 1.7x text COPY). Text columns go as "text", whose binary form varchar shares.
_COPY_TYPES = (
    "int8", "text", "text", "int8", "text", "text", "timestamptz", "bool", "text", "text",
    "int8", "int8", "int8", "int8", "int8", "int8", "int8", "int8", "int8", "int8", "int8",
    "text", "text", "numeric", "bool",
)  # fmt: skip
_row_tuple = itemgetter(*ROW_FIELDS)
assert len(_COPY_TYPES) == len(ROW_FIELDS)


def _row_tuple_of(job: ImportJob, p: Parsed) -> tuple:
    """The row an event becomes, in ROW_FIELDS order: straight to COPY for a new row."""
    r = p.record
    key = p.source_key
    when = r.timestamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (
        job.workload_id, key.split(":", 1)[0][:32], key[:255], job.pk, r.provider[:40],
        r.model[:200], when, p.aggregate, r.session_id[:200], r.request_id[:200],
        r.input_tokens, r.cache_read_tokens, r.cache_write_5m_tokens, r.cache_write_30m_tokens,
        r.cache_write_1h_tokens, r.cache_write_12h_tokens, r.cache_write_24h_tokens,
        r.output_tokens, r.reasoning_tokens, r.web_search_calls, r.requests, r.service_tier,
        r.region[:20], r.billed_cost_usd, r.long_context,
    )  # fmt: skip


_COST = ROW_FIELDS.index("billed_cost_usd")


def _insert(rows: list[Parsed | dict[str, Any]], job: ImportJob) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        # COPY is several times faster than multi-row INSERT (performance-and-reliability 1a)
        columns = ", ".join(ROW_FIELDS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY usage_record ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(_COPY_TYPES)
            write_row = copy.write_row
            for value in rows:
                row = _row_tuple(value) if type(value) is dict else _row_tuple_of(job, value)
                cost = row[_COST]
                if cost is not None and type(cost) is not Decimal:  # text COPY took any number
                    row = (*row[:_COST], Decimal(str(cost)), *row[_COST + 1 :])
                write_row(row)
        return
    dicts = (value if type(value) is dict else _row_values(job, value) for value in rows)
    UsageRow.objects.bulk_create([UsageRow(**values) for values in dicts], batch_size=500)


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
