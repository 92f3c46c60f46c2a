"""Imported usage as a timeline, and the Django side of conversation estimates.

The one module of the conversation work that touches the ORM. ``timeline_from_usage_rows``
itself is pure (it takes ``UsageRow`` objects or plain mappings); the other functions load
rows, price sheets and cache policies and hand them to the pure modules.

A log says what the original provider's cache did, not what the traffic could share. The
timeline needs the latter, so that another provider's cache can be replayed on the same
traffic (token counts carried over as they are). Per stream (a session on one model;
requests without a session are streams of their own), in time order:

* prompt = input + cache read + every cache write (the buckets are disjoint);
* the original cache's reach C = read + writes: the request's prefix up to its last
  breakpoint (Anthropic) or its cached length (automatic caches);
* a request *appended* to its predecessor when its prompt has room for the previous prompt
  and its visible answer (output less reasoning, which is not sent back) and the original
  cache either missed entirely (cold: expired, never enabled, or a provider without a
  cache) or served everything the previous request had cached. Then the previous prompt and
  answer are its shared prefix (at most its own prompt), or its cache read if larger;
* otherwise (the prompt shrank, or a warm cache served less than before: the history was
  cut or edited) the shared prefix is what the original cache read;
* a stream's first request shares what it read: a prefix cached by another session;
* static = the smallest shared prefix over the stream: the part every request of it had in
  common with earlier traffic. Streams with equal static lengths are assumed to carry the
  same system prompt and tools (one application's logs).

The estimate errs on the cautious side where logs cannot tell: a session whose first
request found nothing cached gets static 0 and shares nothing with other sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from .timeline import ConversationWorkload, Timeline

if TYPE_CHECKING:
    from apps.usage.models import Workload

    from .services import ModelEstimate

WRITE_FIELDS = (
    "cache_write_5m_tokens",
    "cache_write_30m_tokens",
    "cache_write_1h_tokens",
    "cache_write_12h_tokens",
    "cache_write_24h_tokens",
)
ROW_FIELDS = ("session_id", "model", "timestamp", "input_tokens", "cache_read_tokens",
              *WRITE_FIELDS, "output_tokens", "reasoning_tokens", "service_tier", "aggregate",
              "requests")  # fmt: skip


def _column(rows: list[Any], name: str) -> list[Any]:
    """One field of every row (rows are all mappings or all objects); missing = None."""
    if rows and isinstance(rows[0], Mapping):
        return [row.get(name) for row in rows]
    return [getattr(row, name, None) for row in rows]


def _ints(rows: list[Any], name: str) -> np.ndarray:
    return np.asarray([value or 0 for value in _column(rows, name)], dtype=np.int64)


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()  # naive datetimes: local time, as Python reads them
    return float(value)


def timeline_from_usage_rows(rows: Iterable[Any]) -> Timeline:
    """Per-request usage rows (``UsageRow`` or mappings of its fields) as a timeline.

    Aggregate rows (a day's totals, ``requests`` != 1) carry no prefix structure and are
    left out; a note counts them. Column by column: 1M rows take a couple of seconds.
    """
    everything = list(rows)
    requests = np.asarray(
        [1 if value is None else value for value in _column(everything, "requests")],
        dtype=np.int64,
    )
    keep = (requests == 1) & ~np.asarray(
        [bool(value) for value in _column(everything, "aggregate")], dtype=bool
    )
    skipped = int((~keep).sum())
    kept = [row for row, ok in zip(everything, keep.tolist(), strict=True) if ok]
    if not kept:
        empty = np.zeros(0, dtype=np.int64)
        return Timeline(np.zeros(0), empty, empty, empty, empty, empty, np.zeros(0, dtype=bool),
                        notes=_skipped_note(skipped))  # fmt: skip
    streams: dict[Any, int] = {}
    sessions, models = _column(kept, "session_id"), _column(kept, "model")
    # a request without a session is a stream of its own
    stream = np.asarray(
        [streams.setdefault((s, m) if s else i, len(streams))
         for i, (s, m) in enumerate(zip(sessions, models, strict=True))],
        dtype=np.int64,
    )  # fmt: skip
    t = np.asarray([_seconds(value) for value in _column(kept, "timestamp")], dtype=np.float64)
    read = _ints(kept, "cache_read_tokens")
    writes = sum((_ints(kept, name) for name in WRITE_FIELDS), np.zeros(len(kept), np.int64))
    prompt = _ints(kept, "input_tokens") + read + writes
    output = _ints(kept, "output_tokens")
    visible = np.maximum(output - _ints(kept, "reasoning_tokens"), 0)
    batch = np.asarray([value == "batch" for value in _column(kept, "service_tier")], dtype=bool)
    order = np.lexsort((t, stream))  # stable: rows with the same time keep their order
    t, stream, prompt, read, output, visible, batch, reach = (
        a[order] for a in (t, stream, prompt, read, output, visible, batch, read + writes)
    )
    shared = shared_prefixes(stream, prompt, read, reach, visible)
    origin = float(t.min())
    return Timeline(t - origin, stream, prompt, shared, _stream_min(stream, shared), output,
                    batch, origin=origin, notes=_skipped_note(skipped))  # fmt: skip


def shared_prefixes(
    stream: np.ndarray, prompt: np.ndarray, read: np.ndarray, reach: np.ndarray, visible: np.ndarray
) -> np.ndarray:
    """The shared prefix of each request (rows sorted by stream and time); see the module doc."""
    has_prev = np.zeros(stream.shape[0], dtype=bool)
    has_prev[1:] = stream[1:] == stream[:-1]
    prev_prompt, prev_reach, prev_visible = (np.roll(a, 1) for a in (prompt, reach, visible))
    grew = prompt >= prev_prompt + prev_visible
    served = (read == 0) | (read >= prev_reach)
    appended = has_prev & grew & served
    extended = np.maximum(read, np.minimum(prev_prompt + prev_visible, prompt))
    return np.where(appended, extended, read)


def _stream_min(stream: np.ndarray, values: np.ndarray) -> np.ndarray:
    starts = np.nonzero(np.r_[True, stream[1:] != stream[:-1]])[0]
    lowest = np.minimum.reduceat(values, starts)
    return np.repeat(lowest, np.diff(np.r_[starts, stream.shape[0]]))


def _skipped_note(skipped: int) -> tuple[str, ...]:
    if not skipped:
        return ()
    return (f"{skipped:,} aggregate rows left out: they carry no per-request prefix structure",)


# --------------------------------------------------------------------------- Django side


def timeline_for_workload(workload: Workload | int) -> Timeline:
    """An imported workload's rows (ordered by session and time) as a timeline."""
    from apps.usage.models import UsageRow

    rows = (
        UsageRow.objects.filter(workload=workload)
        .order_by("session_id", "timestamp", "id")
        .values(*ROW_FIELDS)
        .iterator(chunk_size=20_000)
    )
    return timeline_from_usage_rows(rows)


def estimate_conversation(
    params: ConversationWorkload,
    *,
    models: Iterable[str] | None = None,
    when: datetime | None = None,
    seed: int = 0,
) -> tuple[Timeline, list[ModelEstimate], list[str]]:
    """A described conversation workload on every model: (timeline, estimates, unknown ids)."""
    from django.utils import timezone

    from .conversation import estimate_workload

    params.validate()
    when = when or timezone.now()
    found, unknown = candidates(models, when)
    timeline, estimates = estimate_workload(params, found, when, seed=seed)
    return timeline, estimates, unknown


def estimate_imported(
    workload: Workload | int,
    *,
    models: Iterable[str] | None = None,
    when: datetime | None = None,
    seed: int = 0,
    automatic_hit_rate: Any = None,
) -> tuple[Timeline, list[ModelEstimate], list[str]]:
    """An imported workload's traffic replayed on every model's cache, priced at ``when``."""
    from django.utils import timezone

    from .conversation import estimate_timeline

    when = when or timezone.now()
    timeline = timeline_for_workload(workload)
    found, unknown = candidates(models, when)
    estimates = estimate_timeline(timeline, found, when, seed=seed, hit_rate=automatic_hit_rate)
    return timeline, estimates, unknown


from .services import candidates  # noqa: E402 - re-exported for the page's selectors

__all__ = [
    "candidates",
    "estimate_conversation",
    "estimate_imported",
    "shared_prefixes",
    "timeline_for_workload",
    "timeline_from_usage_rows",
]
