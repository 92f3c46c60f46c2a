"""Writing a batch of parsed events as usage rows: merge, look up, insert (COPY) or update.

Rows are keyed on (workload, source key). Within a batch and against stored rows, events
with the same key merge by their policy: ``Merge.LARGEST`` keeps the biggest snapshot of a
response, ``Merge.SUM`` adds up the rows of one aggregate bucket within one import (and a
later import replaces them). Every value is already of its column's type and range when it
gets here (``bounds.record_problem`` for each record, ``bounds.check_summed`` for sums).
"""

from __future__ import annotations

from datetime import UTC
from operator import attrgetter, itemgetter
from typing import Any

import psycopg
from django.db import connection

from apps.usage.formats.base import Merge, Parsed
from apps.usage.models import ImportJob, UsageRow

from .bounds import check_summed

ROW_FIELDS = (
    "workload_id", "source_format", "source_key", "job_id", "provider", "model", "timestamp",
    "aggregate", "session_id", "request_id", "input_tokens", "cache_read_tokens",
    "cache_write_5m_tokens", "cache_write_30m_tokens", "cache_write_1h_tokens",
    "cache_write_12h_tokens", "cache_write_24h_tokens", "output_tokens", "reasoning_tokens",
    "web_search_calls", "requests", "service_tier", "region", "billed_cost_usd", "long_context",
    "cache_storage_token_hours",
)  # fmt: skip
SUMMED = (
    "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_30m_tokens",
    "cache_write_1h_tokens", "cache_write_12h_tokens", "cache_write_24h_tokens", "output_tokens",
    "reasoning_tokens", "web_search_calls", "requests",
)  # fmt: skip


def row_values(job: ImportJob, p: Parsed) -> dict[str, Any]:
    """The row an event becomes, by field (for merges and bulk_create)."""
    return dict(zip(ROW_FIELDS, row_tuple_of(job, p), strict=True))


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
                seen = kept[key] = row_values(job, seen)
            _add_row(seen, row_values(job, p))
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


def _add_row(total: dict[str, Any], more: dict[str, Any]) -> None:
    """Add an aggregate row's counts to another's (rows of one bucket), within the columns."""
    for f in SUMMED:
        total[f] += more[f]
    if more["billed_cost_usd"] is not None:
        total["billed_cost_usd"] = (total["billed_cost_usd"] or 0) + more["billed_cost_usd"]
    if more["cache_storage_token_hours"]:  # NULL when none
        hours = (total["cache_storage_token_hours"] or 0) + more["cache_storage_token_hours"]
        total["cache_storage_token_hours"] = hours
    check_summed(total, SUMMED)


def _existing_rows(job: ImportJob, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The workload's rows already stored under ``keys``, by source key."""
    columns = (
        "id",
        "source_key",
        "job_id",
        *SUMMED,
        "billed_cost_usd",
        "cache_storage_token_hours",
    )
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


def write_rows(job: ImportJob, batch: list[Parsed]) -> tuple[int, int]:
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
        values = value if isinstance(value, dict) else row_values(job, value)
        if policy[key] == Merge.SUM and old["job_id"] == job.pk:
            # more rows of the same bucket in this import (a later batch)
            _add_row(values, old)
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
    "text", "text", "numeric", "bool", "numeric",
)  # fmt: skip
row_tuple = itemgetter(*ROW_FIELDS)
assert len(_COPY_TYPES) == len(ROW_FIELDS)


def row_tuple_of(job: ImportJob, p: Parsed) -> tuple:
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
        r.region[:20], r.billed_cost_usd, r.long_context, r.cache_storage_token_hours or None,
    )  # fmt: skip


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
            # every value is of its column's type and range (bounds.record_problem,
            # bounds.check_summed): nothing to convert here
            for value in rows:
                write_row(row_tuple(value) if isinstance(value, dict) else row_tuple_of(job, value))
        return
    dicts = (value if isinstance(value, dict) else row_values(job, value) for value in rows)
    UsageRow.objects.bulk_create([UsageRow(**values) for values in dicts], batch_size=500)
