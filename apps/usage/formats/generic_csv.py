"""A generic CSV of normalized usage records: the format for everything else.

Documented, with an example, in ``docs/generic-csv.md``. In short: one row per request (or
per aggregate bucket), columns named after the normalized record's fields
(``docs/usage-record.md``) and matched case-insensitively, UTF-8 with or without a BOM,
unknown columns ignored. Cells use ``apps.rating.records``' rules (numbers may be
``"1200"`` or ``1200.0``; negative or fractional counts are errors naming the column).

* ``timestamp``, ``model`` and at least one ``*_tokens`` column are required; a file
  without them is refused before the first row (``CsvHeaderError``), as is a column for a
  cache retention the engine does not price (silently dropping writes would under-bill).
* ``input_includes_cached`` (true/false, default false): the row's ``input_tokens`` counts
  cached and cache-write tokens too (OpenAI style, log-formats.md 0.1); they are
  subtracted so the buckets stay disjoint.
* A row is an aggregate (``aggregate=True``, ``Merge.SUM``) when ``requests`` is not 1, or
  its ``aggregate`` cell is true, or its ``bucket_end`` cell is filled. Rows of an
  aggregate export with the same dimensions add up (log-formats.md 0.3).
* Source key: ``generic_csv:<provider>:<request_id>`` when ``request_id`` is filled; else a
  hash of the row's normalized values (dimensions only for aggregates, dimensions and
  counts for requests), so a re-uploaded or overlapping export maps to the same keys.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from apps.rating.engine import CACHE_WRITE_RETENTIONS, UsageRecord
from apps.rating.records import RecordError, parse_timestamp, record_from_dict
from apps.usage.formats import UnknownFormatError
from apps.usage.formats.base import MAX_LINE_BYTES, Event, LineError, Merge, Parsed, Skipped
from apps.usage.sources import OversizedLine, oversized_reason

MAX_TOKENS_PER_REQUEST = 100_000_000  # per bucket of a single request; aggregates may pass it

CACHE_WRITE_COLUMNS = tuple(f"cache_write_{r}_tokens" for r in CACHE_WRITE_RETENTIONS)
TOKEN_COLUMNS: tuple[str, ...] = (
    "input_tokens",
    "cache_read_tokens",
    *CACHE_WRITE_COLUMNS,
    "output_tokens",
    "reasoning_tokens",
)
RECORD_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "provider",
    "model",
    "request_id",
    "session_id",
    *TOKEN_COLUMNS,
    "service_tier",
    "region",
    "web_search_calls",
    "cache_storage_token_hours",
    "billed_cost_usd",
    "requests",
)
EXTRA_COLUMNS: tuple[str, ...] = ("input_includes_cached", "aggregate", "bucket_end")
REQUIRED_COLUMNS: tuple[str, ...] = ("timestamp", "model")
# Dimensions of an aggregate row: rows agreeing on all of them are one bucket.
_DIMENSIONS = ("provider", "model", "session_id", "service_tier", "region")

_BOM = b"\xef\xbb\xbf"
_CACHE_WRITE = re.compile(r"^cache_write_([a-z0-9]+)_tokens$")
_UNIX_TIME = re.compile(r"^\d{9,11}(\.\d+)?$")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})


class CsvHeaderError(UnknownFormatError):
    """The header cannot be read as this format; raised before the first event."""


def column_name(header: str) -> str:
    """``" Input Tokens "`` -> ``"input_tokens"``: case, spaces and dashes do not matter."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def _columns(header: list[str]) -> dict[str, int]:
    names = [column_name(h) for h in header]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue
        if name in seen:
            raise CsvHeaderError(f"column {name!r} appears twice in the header")
        match = _CACHE_WRITE.match(name)
        if match and match.group(1) not in CACHE_WRITE_RETENTIONS:
            known = ", ".join(CACHE_WRITE_COLUMNS)
            raise CsvHeaderError(
                f"column {name!r}: unknown cache retention {match.group(1)!r} (known: {known})"
            )
        seen[name] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if not any(c in seen for c in TOKEN_COLUMNS):
        missing.append("at least one token column (" + ", ".join(TOKEN_COLUMNS) + ")")
    if missing:
        raise CsvHeaderError(
            "generic CSV: missing required column(s): "
            + "; ".join(missing)
            + ". See docs/generic-csv.md"
        )
    return {name: i for name, i in seen.items() if name in RECORD_COLUMNS + EXTRA_COLUMNS}


def _flag(value: str, column: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(column, f"must be true or false, got {value!r}")


def _digest(parts: Iterable[Any]) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _row_event(number: int, cells: dict[str, str]) -> Event:
    data: dict[str, Any] = {k: v.strip() for k, v in cells.items() if k in RECORD_COLUMNS}
    ts = data.get("timestamp", "")
    if _UNIX_TIME.match(ts):
        data["timestamp"] = float(ts)  # Unix seconds
    try:
        record = record_from_dict(data)
        includes_cached = _flag(cells.get("input_includes_cached", ""), "input_includes_cached")
        explicit_aggregate = _flag(cells.get("aggregate", ""), "aggregate")
        bucket_end_text = cells.get("bucket_end", "").strip()
        bucket_end = parse_timestamp(bucket_end_text, "bucket_end") if bucket_end_text else None
    except RecordError as exc:
        return LineError(number, str(exc))
    if bucket_end is not None and bucket_end <= record.timestamp:
        return LineError(number, "bucket_end must be after timestamp (the bucket's start)")
    if includes_cached:
        cached = record.cache_read_tokens + sum(getattr(record, c) for c in CACHE_WRITE_COLUMNS)
        if cached > record.input_tokens:
            return LineError(
                number,
                f"input_includes_cached: cached and cache-write tokens ({cached}) exceed "
                f"input_tokens ({record.input_tokens})",
            )
        record = dataclasses.replace(record, input_tokens=record.input_tokens - cached)
    aggregate = explicit_aggregate or bucket_end is not None or record.requests != 1
    if not aggregate:
        for column in TOKEN_COLUMNS:
            if getattr(record, column) > MAX_TOKENS_PER_REQUEST:
                return LineError(
                    number,
                    f"{column}: {getattr(record, column):,} tokens in one request is more "
                    f"than {MAX_TOKENS_PER_REQUEST:,}; mark aggregate rows (see docs)",
                )
    return Parsed(
        record,
        _key(record, bucket_end, aggregate),
        number,
        Merge.SUM if aggregate else Merge.LARGEST,
        aggregate,
    )


def _key(record: UsageRecord, bucket_end: Any, aggregate: bool) -> str:
    if record.request_id:
        return f"generic_csv:{record.provider}:{record.request_id}"
    parts: list[Any] = [record.timestamp.isoformat(), bucket_end.isoformat() if bucket_end else ""]
    parts += [getattr(record, d) for d in _DIMENSIONS]
    if not aggregate:
        # No id and no dimensions that tell two requests apart: the counts do. Two
        # identical rows are then one request (an exact duplicate is far likelier).
        parts += [getattr(record, c) for c in TOKEN_COLUMNS]
        parts += [record.web_search_calls, record.cache_storage_token_hours]
        parts += [record.billed_cost_usd]
    return "generic_csv:" + _digest(parts)


class GenericCsvParser:
    name = "generic_csv"
    description = (
        "generic CSV of usage records: timestamp, model and *_tokens columns (docs/generic-csv.md)"
    )

    def sniff(self, head: bytes, filename: str) -> bool:
        first = head.removeprefix(_BOM).split(b"\n", 1)[0]
        try:
            text = first.decode("utf-8")
            header = next(csv.reader([text]))
        except (UnicodeDecodeError, csv.Error, StopIteration):
            return False
        names = {column_name(h) for h in header}
        return (
            "model" in names and "timestamp" in names and any(n.endswith("_tokens") for n in names)
        )

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        bad: dict[int, str] = {}  # physical line -> why it could not be read
        physical = 0

        def text_lines() -> Iterator[str]:
            nonlocal physical
            for raw in lines:
                physical += 1
                if type(raw) is OversizedLine:
                    bad[physical] = oversized_reason(raw)
                    yield "\n"
                    continue
                if len(raw) > MAX_LINE_BYTES:
                    bad[physical] = f"line is {len(raw):,} bytes, longer than the limit"
                    yield "\n"
                    continue
                if physical == 1:
                    raw = raw.removeprefix(_BOM)
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad[physical] = f"not valid UTF-8 (byte {exc.start})"
                    yield raw.decode("utf-8", "replace")

        reader = csv.reader(text_lines(), strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise CsvHeaderError(f"generic CSV: unreadable header ({exc})") from exc
        if header is None:
            raise CsvHeaderError("generic CSV: the file is empty (no header row)")
        if bad:
            raise CsvHeaderError(f"generic CSV: unreadable header ({bad[min(bad)]})")
        columns = _columns(header)
        width = len(header)
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                first, start = start, reader.line_num + 1
                yield LineError(first, f"malformed CSV ({exc})")
                continue
            first, start = start, reader.line_num + 1
            if bad:
                problems = [bad.pop(n) for n in range(first, start) if n in bad]
                if problems:
                    yield LineError(first, problems[0])
                    continue
            if not any(cell.strip() for cell in row):
                yield Skipped(first, "blank row")
                continue
            while len(row) > width and not row[-1].strip():
                row.pop()  # trailing empty cells (a trailing comma) are harmless
            if len(row) != width:
                yield LineError(first, f"row has {len(row)} cells; the header has {width}")
                continue
            yield _row_event(first, {name: row[i] for name, i in columns.items()})


PARSER = GenericCsvParser()
