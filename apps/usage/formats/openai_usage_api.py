"""OpenAI organization Usage API, completions: ``GET /v1/organization/usage/completions``.

A JSON page ``{"object": "page", "data": [bucket, ...]}``, a list of pages, a list of buckets
(the cookbook prints ``data`` concatenated across pages), or JSON Lines of pages or buckets.
Every ``results[]`` row of a bucket becomes one aggregate record (log-formats.md section 2.1):

* ``input_tokens`` INCLUDES cached tokens and, in the 2026 spec, cache-write tokens, so the
  uncached input is ``input_tokens - input_cached_tokens - input_cache_write_tokens``
  (section 0.1);
* ``batch: true`` (only present when grouped by batch) means the batch tier;
* the record's time is the bucket start; the bucket end is exclusive (section 6).

Rows without a model (the export was not grouped by model) are imported with an empty
model id: their tokens and requests count, and the summary puts them in the unpriced bucket
with the reason, so the user sees the volume and learns to re-export with ``group_by=model``.
Costs API pages (``organization.costs.result``) hold dollars, not tokens, and are refused
with a clear error.

This module also holds the JSON reading shared by the JSON formats (``iter_json``): JSON
Lines are streamed line by line; a whole JSON document is read into memory up to
``MAX_DOCUMENT_BYTES`` and walked so that every bucket and result keeps its line number.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from json.decoder import scanstring
from typing import Any

from apps.rating.engine import SERVICE_TIERS, UsageRecord
from apps.rating.records import RecordError, int_field, normalize_tier, parse_timestamp

from .base import Event, LineError, Merge, Parsed, Skipped

# A usage export is small (31 daily buckets per page); anything past this is not one.
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024

USAGE_RESULT = "organization.usage.completions.result"
COSTS_RESULT = "organization.costs.result"
# Every group_by dimension of the endpoint (section 2.1): all of them go into the source key,
# nulls included, so re-imports upsert the same rows (section 0.3).
DIMENSIONS: tuple[str, ...] = (
    "model",
    "project_id",
    "user_id",
    "api_key_id",
    "batch",
    "service_tier",
)
# UsageRow.source_key's column size: a longer key is replaced by a hash of its detail.
MAX_KEY_LENGTH = 255
# The key is shared with the dashboard CSV export (the same rows, flattened, section 2.3):
# uploading both files of one period must not count it twice.
KEY_PREFIX = "openai_usage"


# --------------------------------------------------------------------------- JSON reading


@dataclass(frozen=True, slots=True)
class At:
    """A JSON value and the line it starts on."""

    line: int
    value: Any


_WS = re.compile(r"[ \t\n\r]*")


def _parse_int(text: str) -> int | Decimal:
    # Python refuses int() of more than 4,300 digits (a ValueError out of the decoder);
    # such a number becomes a Decimal, which the bounded field readers then refuse by name.
    return int(text) if len(text) <= 40 else Decimal(text)


# money stays exact (no binary floats); integers of any length are read without error
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=_parse_int)


def _ws(text: str, i: int) -> int:
    match = _WS.match(text, i)
    return match.end() if match else i


def _walk(
    text: str, i: int, descend: frozenset[str], line_of: Callable[[int], int]
) -> tuple[Any, int]:
    """Decode the value at ``i``; lists (top level, or under a ``descend`` key) become lists
    of ``At`` so their elements keep line numbers. Everything else is decoded by the C
    decoder in one call."""
    if text.startswith("[", i):
        items: list[At] = []
        i = _ws(text, i + 1)
        if text.startswith("]", i):
            return items, i + 1
        while True:
            start = i
            value, i = _walk(text, i, descend, line_of)
            items.append(At(line_of(start), value))
            i = _ws(text, i)
            if text.startswith(",", i):
                i = _ws(text, i + 1)
            elif text.startswith("]", i):
                return items, i + 1
            else:
                raise json.JSONDecodeError("expected ',' or ']'", text, i)
    if text.startswith("{", i):
        obj: dict[str, Any] = {}
        i = _ws(text, i + 1)
        if text.startswith("}", i):
            return obj, i + 1
        while True:
            if not text.startswith('"', i):
                raise json.JSONDecodeError("expected a property name", text, i)
            key, i = scanstring(text, i + 1)
            i = _ws(text, i)
            if not text.startswith(":", i):
                raise json.JSONDecodeError("expected ':'", text, i)
            i = _ws(text, i + 1)
            if key in descend:
                obj[key], i = _walk(text, i, descend, line_of)
            else:
                obj[key], i = _DECODER.raw_decode(text, i)
            i = _ws(text, i)
            if text.startswith(",", i):
                i = _ws(text, i + 1)
            elif text.startswith("}", i):
                return obj, i + 1
            else:
                raise json.JSONDecodeError("expected ',' or '}'", text, i)
    return _DECODER.raw_decode(text, i)


def _decode(raw: bytes, number: int) -> str | LineError:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LineError(number, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    return text.removeprefix("\ufeff") if number == 1 else text


def _ended(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _is_json_object_line(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def iter_json(
    lines: Iterable[bytes],
    descend: frozenset[str] = frozenset(),
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Iterator[At | LineError]:
    """Top-level JSON values of a file, JSON Lines or one (or several) JSON documents.

    A file whose first non-blank line is a whole JSON object is JSON Lines and is streamed;
    anything else is read whole (up to ``max_bytes``) and walked. A syntax error is reported
    with its line; reading resumes at the next line starting with ``{`` in column 0 (the
    next JSON Lines record), so one bad line does not lose the rest of the file.
    """
    it = iter(lines)
    head: list[tuple[int, str]] = []
    number = 0
    for raw in it:
        number += 1
        text = _decode(raw, number)
        if isinstance(text, LineError):
            yield text
            continue
        head.append((number, text))
        if text.strip():
            break
    if not head or not head[-1][1].strip():
        return
    if _is_json_object_line(head[-1][1]):
        yield from _iter_json_lines(head, it, number, descend)
    else:
        yield from _iter_json_document(head, it, number, descend, max_bytes)


def _iter_json_lines(
    head: list[tuple[int, str]],
    rest: Iterator[bytes],
    number: int,
    descend: frozenset[str],
) -> Iterator[At | LineError]:
    def numbered() -> Iterator[tuple[int, str | LineError]]:
        yield from head
        n = number
        for raw in rest:
            n += 1
            yield n, _decode(raw, n)

    for n, text in numbered():
        if isinstance(text, LineError):
            yield text
            continue
        stripped = text.strip()
        if not stripped:
            continue
        try:
            value, end = _walk(stripped, 0, descend, lambda _offset, n=n: n)
            if _ws(stripped, end) != len(stripped):
                raise json.JSONDecodeError("extra data after the JSON value", stripped, end)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            yield LineError(n, f"invalid JSON: {_reason(exc)}")
            continue
        yield At(n, value)


def _iter_json_document(
    head: list[tuple[int, str]],
    rest: Iterator[bytes],
    number: int,
    descend: frozenset[str],
    max_bytes: int,
) -> Iterator[At | LineError]:
    # A line handed over without its ending gets one back, so tokens never run together.
    parts = [_ended(text) for _, text in head]
    size = sum(len(p) for p in parts)
    for raw in rest:
        number += 1
        size += len(raw)
        if size > max_bytes:
            limit = max_bytes // (1024 * 1024)
            yield LineError(
                number,
                f"JSON document larger than {limit} MB: export a shorter period "
                "or one JSON object per line (JSON Lines)",
            )
            return
        text = _decode(raw, number)
        if isinstance(text, LineError):
            yield text
            text = ""
        parts.append(_ended(text))
    starts = [0]
    for part in parts[:-1]:
        starts.append(starts[-1] + len(part))
    whole = "".join(parts)

    def line_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset)

    i = _ws(whole, 0)
    while i < len(whole):
        try:
            value, end = _walk(whole, i, descend, line_of)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            pos = exc.pos if isinstance(exc, json.JSONDecodeError) else i
            yield LineError(line_of(pos), f"invalid JSON: {_reason(exc)}")
            i = _next_record_start(whole, pos)
            continue
        yield At(line_of(i), value)
        i = _ws(whole, end)


_RECORD_START = re.compile(r"^[{\[]", re.MULTILINE)


def _next_record_start(text: str, pos: int) -> int:
    """Where reading resumes after a syntax error: the next line opening a value in column 0
    (a JSON Lines record); an indented line inside a broken pretty-printed document is not
    one, so a broken document is reported once, not once per line."""
    newline = text.find("\n", pos)
    match = _RECORD_START.search(text, newline + 1) if newline != -1 else None
    return match.start() if match else len(text)


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:100]


def sniff_json(head: bytes) -> bytes | None:
    """The head without BOM, if it starts like JSON; None otherwise."""
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return body if body[:1] in (b"{", b"[") else None


def unwrap(item: At) -> list[At]:
    """Elements of a top-level list, or the value itself."""
    return item.value if isinstance(item.value, list) else [item]


def bounded_key(prefix: str, detail: str) -> str:
    """``prefix:detail``, or ``prefix:sha256:<hash of detail>`` when that is too long to
    store; the hash is stable, so a re-import still finds the same row."""
    key = f"{prefix}:{detail}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return f"{prefix}:sha256:{hashlib.sha256(detail.encode()).hexdigest()}"


def text_dim(value: Any) -> str | None:
    """A group-by dimension as key text: null and blank are the same (absent) value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def epoch(data: Mapping[str, Any], key: str) -> tuple[int, datetime]:
    """Unix seconds (int, whole float or digit string) as the number and a UTC datetime."""
    if data.get(key) in (None, ""):
        raise RecordError(key, "is required (Unix seconds)")
    seconds = int_field(data, key)
    return seconds, parse_timestamp(seconds, key)  # 2000 to 2100, as every usage record


def tier(value: Any, field: str = "service_tier") -> str:
    """A provider's tier name as an engine tier; unknown names are an error, not a guess."""
    name = normalize_tier(str(value or ""))
    if name.startswith("priority"):
        name = "priority"  # Anthropic "priority_on_demand" (section 3.1)
    if name not in SERVICE_TIERS:
        raise RecordError(field, f"unknown service tier {value!r}")
    return name


# --------------------------------------------------------------------------- the parser


def usage_record(result: Mapping[str, Any], start: datetime) -> UsageRecord:
    """One completions result as a record (model "" when the export is not grouped by model)."""
    prompt = int_field(result, "input_tokens")
    cached = int_field(result, "input_cached_tokens")
    written = int_field(result, "input_cache_write_tokens")
    uncached = prompt - cached - written
    if uncached < 0:
        raise RecordError(
            "input_tokens",
            f"{prompt} is less than input_cached_tokens + input_cache_write_tokens "
            f"({cached} + {written}); input_tokens must include them (log-formats.md 2.1)",
        )
    batch = result.get("batch")
    if batch not in (None, True, False):
        raise RecordError("batch", f"must be true, false or null, got {batch!r}")
    return UsageRecord(
        provider="openai",
        model=(text_dim(result.get("model")) or "").strip(),
        timestamp=start,
        input_tokens=uncached,
        cache_read_tokens=cached,
        # The Usage API does not split writes by retention; 30 minutes is the default one
        # (GPT-5.6+, docs/usage-record.md). Extended 12-hour writes are priced as 30-minute.
        cache_write_30m_tokens=written,
        output_tokens=int_field(result, "output_tokens"),  # reasoning included (section 0.2)
        service_tier="batch" if batch else tier(result.get("service_tier")),
        requests=int_field(result, "num_model_requests"),
    )


def source_key(start: int, end: int, result: Mapping[str, Any]) -> str:
    dims = [text_dim(result.get(d)) for d in DIMENSIONS]
    return bounded_key(KEY_PREFIX, f"{start}:{end}:{json.dumps(dims, separators=(',', ':'))}")


class OpenAIUsageAPIParser:
    name = "openai_usage_api"
    description = "OpenAI Usage API completions buckets (JSON pages from /v1/organization/usage)"

    def sniff(self, head: bytes, filename: str) -> bool:
        body = sniff_json(head)
        if body is None:
            return False
        if re.search(rb'"organization\.(?:usage\.[a-z_]+|costs)\.result"', body):
            return True
        return b'"num_model_requests"' in body and b'"start_time"' in body

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        for item in iter_json(lines, descend=frozenset({"data", "results"})):
            if isinstance(item, LineError):
                yield item
                continue
            for element in unwrap(item):
                yield from self._container(element)

    def _container(self, item: At) -> Iterator[Event]:
        value = item.value
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            for bucket in value["data"]:  # a page
                yield from self._bucket(bucket)
        elif isinstance(value, dict) and "results" in value:
            yield from self._bucket(item)
        elif isinstance(value, dict) and value.get("object") == "page":
            return  # a page without data: nothing in that period
        else:
            yield LineError(item.line, "not an OpenAI Usage API page or bucket")

    def _bucket(self, item: At) -> Iterator[Event]:
        bucket = item.value
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
            yield LineError(item.line, "bucket without a results list")
            return
        try:
            start, start_at = epoch(bucket, "start_time")
            end, _ = epoch(bucket, "end_time")
        except RecordError as exc:
            yield LineError(item.line, f"bucket {exc}")
            return
        for result in bucket["results"]:
            yield self._result(result, start, end, start_at)

    def _result(self, item: At, start: int, end: int, start_at: datetime) -> Event:
        result = item.value
        if not isinstance(result, dict):
            return LineError(item.line, "result is not a JSON object")
        kind = result.get("object") or USAGE_RESULT
        if kind == COSTS_RESULT:
            return LineError(
                item.line,
                "Costs API result: dollar amounts, not token counts; export "
                "/v1/organization/usage/completions (group_by=model) instead",
            )
        if kind != USAGE_RESULT:
            return Skipped(item.line, f"{kind}: only completions usage is priced")
        try:
            record = usage_record(result, start_at)
        except RecordError as exc:
            return LineError(item.line, str(exc))
        return Parsed(
            record,
            source_key(start, end, result),
            item.line,
            merge=Merge.SUM,
            aggregate=True,
        )


PARSER = OpenAIUsageAPIParser()
