"""Imported usage rows as a timeline of requests with their prefix structure.

Pure Python and NumPy: rows are ``UsageRow`` objects or plain mappings of its fields
(``ROW_FIELDS``), read by ``apps.compare.sources``.

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
from typing import Any, Final

import numpy as np

from .timeline import Timeline

WRITE_FIELDS: Final = (
    "cache_write_5m_tokens",
    "cache_write_30m_tokens",
    "cache_write_1h_tokens",
    "cache_write_12h_tokens",
    "cache_write_24h_tokens",
)
ROW_FIELDS: Final = ("session_id", "model", "timestamp", "input_tokens", "cache_read_tokens",
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
    reach = (read + writes)[order]
    t, stream, prompt, read = t[order], stream[order], prompt[order], read[order]
    output, visible, batch = output[order], visible[order], batch[order]
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
