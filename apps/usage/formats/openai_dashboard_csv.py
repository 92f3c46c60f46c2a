"""OpenAI dashboard usage export: platform.openai.com -> Usage -> Export, Activity tab.

``completions_usage_<from>_<to>.csv``: the Usage API result flattened (log-formats.md
section 2.3), ``start_time, end_time, start_time_iso, end_time_iso`` first, then the
group-by dimensions and token columns. Headers are matched by name (vintages add and drop
columns); integers are written as floats (``10.0``), booleans as ``TRUE``/``FALSE``; a
bucket with no usage is a row with only the four time columns filled.

Each row is an aggregate record converted as the API result is (``input_tokens`` includes
cached and cache-write tokens, section 0.1), under the SAME source key as the API's rows,
so uploading the API JSON and this CSV for one period does not count it twice.

The Cost tab (``cost_<from>_<to>.csv``, ``amount_value`` column) holds dollars per line
item, not tokens: it is recognised and refused with a clear error.

This module also holds the CSV reading shared by the CSV formats (``iter_csv``).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from apps.rating.records import RecordError, parse_timestamp

from .base import MAX_LINE_BYTES, Event, LineError, Merge, Parsed, Skipped
from .openai_usage_api import epoch, source_key, usage_record

# LiteLLM's messages/response/metadata cells hold whole transcripts; the default limit of
# 128 KB per cell would turn them into errors. A line is already capped at MAX_LINE_BYTES.
csv.field_size_limit(MAX_LINE_BYTES)

_HEADER_SPACE = re.compile(r"[\s\-]+")


# --------------------------------------------------------------------------- CSV reading


def header_name(cell: str) -> str:
    """Header cells compare lower-case with spaces as underscores ("Prompt Tokens")."""
    return _HEADER_SPACE.sub("_", cell.strip().removeprefix("\ufeff").strip().lower())


def _text_lines(lines: Iterable[bytes]) -> Iterator[str]:
    # An incremental decoder: a multi-byte character is never split, and a bad byte becomes
    # U+FFFD, which then fails the field that holds it with that field's name.
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    for raw in lines:
        yield decoder.decode(raw)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def csv_header(head: bytes) -> set[str]:
    """The header names of a CSV head (for sniffing); empty if it is not CSV-like."""
    body = head.removeprefix(b"\xef\xbb\xbf")
    if body.lstrip()[:1] in (b"{", b"["):
        return set()
    first = body.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    try:
        row = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return set()
    return {header_name(cell) for cell in row if cell.strip()}


def iter_csv(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, str]] | LineError]:
    """(first line of the row, {header name: cell}) per data row; blank rows are left out.

    A row with more cells than the header is an error (its columns cannot be trusted);
    missing trailing cells are blank.
    """
    reader = csv.reader(_text_lines(lines))
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield LineError(start, f"unreadable CSV row: {exc}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [header_name(cell) for cell in row]
            continue
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            yield LineError(start, f"{len(row)} cells but the header has {len(header)}")
            continue
        cells = dict(zip(header, row, strict=False))
        for name in header[len(row) :]:
            cells[name] = ""
        yield start, {k: v.strip() for k, v in cells.items()}


def csv_bool(cells: Mapping[str, str], key: str) -> bool | None:
    value = cells.get(key, "").strip().lower()
    if value in ("", "none", "null"):
        return None
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise RecordError(key, f"must be TRUE or FALSE, got {cells[key]!r}")


# --------------------------------------------------------------------------- the parser

_TIME_COLUMNS = frozenset({"start_time", "end_time", "start_time_iso", "end_time_iso"})
_USAGE_MARKERS = frozenset({"num_model_requests", "input_tokens", "output_tokens"})


def _bucket_edge(cells: Mapping[str, str], name: str) -> tuple[int, datetime]:
    """Unix seconds from ``start_time``; the ``_iso`` twin when that is missing or not a number."""
    try:
        return epoch(cells, name)
    except RecordError:
        if not cells.get(f"{name}_iso"):
            raise
    when = parse_timestamp(cells[f"{name}_iso"], f"{name}_iso")
    return int(when.timestamp()), when


class OpenAIDashboardCSVParser:
    name = "openai_dashboard_csv"
    description = "OpenAI dashboard usage export CSV (completions_usage_<from>_<to>.csv)"

    def sniff(self, head: bytes, filename: str) -> bool:
        header = csv_header(head)
        if not {"start_time", "end_time"} <= header:
            return False
        return bool(header & ({"start_time_iso", "amount_value"} | _USAGE_MARKERS))

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        for row in iter_csv(lines):
            if isinstance(row, LineError):
                yield row
                continue
            number, cells = row
            if "amount_value" in cells:
                yield LineError(
                    number,
                    "OpenAI Cost export: dollar amounts per line item, not token counts; "
                    "upload the Activity export (completions_usage_<from>_<to>.csv)",
                )
                return
            yield self._row(number, cells)

    def _row(self, number: int, cells: dict[str, str]) -> Event:
        if not any(v for k, v in cells.items() if k not in _TIME_COLUMNS):
            return Skipped(number, "bucket with no usage")
        if not cells.get("model"):
            return Skipped(number, "usage not grouped by model: re-export with group_by=model")
        try:
            start, start_at = _bucket_edge(cells, "start_time")
            end, _ = _bucket_edge(cells, "end_time")
            result: dict[str, object] = dict(cells)
            result["batch"] = csv_bool(cells, "batch")
            record = usage_record(result, start_at)
        except RecordError as exc:
            return LineError(number, str(exc))
        return Parsed(
            record, source_key(start, end, result), number, merge=Merge.SUM, aggregate=True
        )


PARSER = OpenAIDashboardCSVParser()
