"""Workloads, their usage records, and the import jobs that fill them.

Usage rows store the normalized record's disjoint token buckets, not money: every cost is
computed by the rating engine from these columns at the version in effect at each row's
time, so a price correction never leaves stale amounts behind.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

TOKEN_FIELDS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_30m_tokens",
    "cache_write_1h_tokens",
    "cache_write_12h_tokens",
    "cache_write_24h_tokens",
    "output_tokens",
)
COUNT_FIELDS = (*TOKEN_FIELDS, "reasoning_tokens", "web_search_calls", "requests")


class WorkloadKind(models.TextChoices):
    IMPORTED = "imported", "imported from logs"
    QUICK = "quick", "quick form"
    CONVERSATION = "conversation", "conversation form"


class Workload(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # null: created from the command line by the operator
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="workloads",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=16, choices=WorkloadKind.choices, default=WorkloadKind.IMPORTED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="workload_name_unique_per_owner"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(owner__isnull=True),
                name="workload_name_unique_without_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UsageRow(models.Model):
    """One normalized usage record of a workload, de-duplicated on ``source_key``."""

    # no index of its own: every composite index below starts with workload, and a lone
    # workload index misleads PostgreSQL's planner into scanning a whole workload per lookup
    workload = models.ForeignKey(
        Workload, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    source_format = models.CharField(max_length=32)
    source_key = models.CharField(max_length=255)
    # the import job that last wrote the row: aggregate rows with identical keys are summed
    # within one job and replaced by a later job, so re-imports never double them
    job = models.ForeignKey(
        "ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=200)  # as written in the source; the engine resolves it
    timestamp = models.DateTimeField()
    aggregate = models.BooleanField(default=False)
    session_id = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    input_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_write_5m_tokens = models.BigIntegerField(default=0)
    cache_write_30m_tokens = models.BigIntegerField(default=0)
    cache_write_1h_tokens = models.BigIntegerField(default=0)
    cache_write_12h_tokens = models.BigIntegerField(default=0)
    cache_write_24h_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    reasoning_tokens = models.BigIntegerField(default=0)
    web_search_calls = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=1)
    long_context = models.BooleanField(
        null=True, blank=True, help_text="the source's own long-context flag"
    )
    service_tier = models.CharField(max_length=10, default="standard")
    region = models.CharField(max_length=20, blank=True)
    billed_cost_usd = models.DecimalField(max_digits=24, decimal_places=12, null=True, blank=True)
    # explicit-cache storage (tokens x hours), priced per MTok-hour (docs/usage-record.md);
    # NULL for none, as on almost every row: a NULL costs nothing to COPY, a numeric zero does
    cache_storage_token_hours = models.DecimalField(
        max_digits=30, decimal_places=9, null=True, blank=True
    )

    class Meta:
        db_table = "usage_record"
        constraints = [
            models.UniqueConstraint(
                fields=["workload", "source_key"], name="usage_record_unique_source_key"
            ),
            models.CheckConstraint(
                condition=Q(**{f"{f}__gte": 0 for f in COUNT_FIELDS}),
                name="usage_record_counts_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["workload", "timestamp"], name="usage_record_time"),
            models.Index(fields=["workload", "model"], name="usage_record_model"),
            models.Index(
                fields=["workload", "session_id", "timestamp"], name="usage_record_session"
            ),
        ]


class JobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class ImportJob(models.Model):
    """One import of one or more files into a workload. Progress and resume point live here."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="import_jobs")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    format = models.CharField(max_length=32, blank=True, help_text="blank: detect per file")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # progress, committed together with the rows it describes
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    sources_done = models.PositiveIntegerField(default=0)
    current_source = models.CharField(max_length=500, blank=True)
    current_line = models.BigIntegerField(default=0)
    lines_read = models.BigIntegerField(default=0)
    records_imported = models.BigIntegerField(default=0)
    duplicates_skipped = models.BigIntegerField(default=0)
    lines_skipped = models.BigIntegerField(default=0)
    error_count = models.BigIntegerField(default=0)
    error_samples = models.JSONField(default=list, blank=True)
    # archive members passed over (links, "..", devices...): {"file", "reason"}, the first 100
    warning_count = models.BigIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    # set when the job is claimed and at every commit: a running job whose heartbeat is old
    # has lost its worker and waits for the broker to hand the task out again
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    summary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.code} into {self.workload} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def waiting_for_worker(self) -> bool:
        """Running, but no commit for IMPORT_STALLED_AFTER seconds: its worker is gone."""
        if self.status != JobStatus.RUNNING or self.heartbeat_at is None:
            return False
        stalled_after = timedelta(seconds=getattr(settings, "IMPORT_STALLED_AFTER", 120))
        return timezone.now() - self.heartbeat_at > stalled_after

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, int(100 * self.bytes_done / self.bytes_total))


class ImportFile(models.Model):
    """A file of an import: an upload stored under a server-made name, or a path given on the CLI."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=500, help_text="the name the user gave it")
    path = models.CharField(max_length=1000)
    size = models.BigIntegerField(default=0)
    uploaded = models.BooleanField(default=False, help_text="stored by us, deleted with the job")

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="import_file_position_unique")
        ]
