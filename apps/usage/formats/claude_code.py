"""Claude Code session transcripts (``~/.claude/projects/<cwd>/<session>.jsonl``).

Spec: log-formats.md section 1. What matters for the bill:

* Only top-level ``type == "assistant"`` lines carry usage, in ``message.usage`` (1.2).
  ``progress`` lines of ``data.type == "agent_progress"`` embed *copies* of sub-agent
  assistant messages (with usage) that the sub-agent's own file already holds: they are
  skipped without looking inside, and nothing ever searches a line for ``"usage"`` (1.4).
* One streamed response is written as several lines (one per content block) sharing
  ``message.id`` + ``requestId``; early lines carry a partial ``output_tokens``. Every line
  is emitted with the same source key and ``Merge.LARGEST`` so the import keeps the final
  snapshot (1.4). The key is global, not per file: resumed sessions replay old responses
  into new files, and the file name is deliberately not part of the key (1.1, 1.4).
* ``input_tokens`` is uncached input only; writes split into 5-minute and 1-hour buckets
  via ``cache_creation.ephemeral_*``; logs without the split wrote 5-minute entries (1.3).
* ``<synthetic>`` messages are Claude Code's local error turns: skipped (1.3).

Speed (performance-and-reliability.md 1b/1c): most lines of a transcript (progress, user
turns, tool results, file snapshots) carry no usage and are often the biggest. A line is
only JSON-parsed if the bytes ``"assistant"`` occur in it (a top-level assistant line
contains them whatever its spacing or key order), or if it does not look like one complete
JSON object, so a truncated or garbled line is still reported as an error. Two deliberate
consequences: a line of another type is not validated further (invalid UTF-8 inside a user
turn is not reported: it cannot change the bill), and a type written with ``\\u`` escapes
for plain letters (``"\\u0061ssistant"``), which no JSON writer produces, would be
skipped. Scanning for those escapes as well cost more than parsing every line with orjson.

A line that is parsed goes first through msgspec, decoding into typed ``Struct``s only the
fields the bill needs: the content blocks, often most of the line, are skipped without
building Python objects (the decode is about 2.4x faster than orjson's on these lines;
with the UTF-8 check msgspec leaves to us, about 1.3x, and the fields are read as
attributes). That fast path only ever answers for clean lines: whatever it does not accept
exactly as the orjson path would (a wrong type, a count out of range, a bad timestamp,
malformed JSON, invalid UTF-8: checked on the whole line first) goes to the orjson path,
which gives every error its reason. Two absurd inputs that orjson refuses are accepted
when they sit in a part of an assistant line that is skipped, since they cannot change
the bill either: a number beyond the float range (``1e999``) and nesting deeper than
orjson's 1,024 levels.

``parse`` gives one event per line (the parser protocol). The importer uses
``parse_runs``: the same events, except that consecutive lines skipped by the bytes check
come as one ``int``, their count, instead of one ``Skipped`` each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.common.dates import USAGE_EARLIEST, USAGE_LATEST
from apps.rating.engine import ZERO, UsageRecord
from apps.rating.records import RecordError, normalize_tier, parse_timestamp, usd_field
from apps.usage.formats.base import MAX_LINE_BYTES, Event, LineError, Merge, Parsed, Skipped
from apps.usage.formats.claude_code_schema import (
    MAX_TOKENS_PER_BUCKET,
    decode_line,
    new_parsed,
    new_record,
)
from apps.usage.sources import OversizedLine, oversized_reason

try:  # orjson parses these lines about 2.4x faster than the stdlib (perf doc 1b)
    import orjson

    loads = orjson.loads
    JSON_LIBRARY = "msgspec+orjson"  # the fast path, then the fallback (one word: bench reads it)
except ImportError:  # pragma: no cover - depends on the environment
    import json

    loads = json.loads
    JSON_LIBRARY = "msgspec+json"

# Everything json/orjson raise on bad input: JSONDecodeError and UnicodeDecodeError are
# ValueErrors; the stdlib raises RecursionError on absurdly deep nesting.
JSON_ERRORS: tuple[type[Exception], ...] = (ValueError, RecursionError)

PROVIDER = "anthropic"
_BOM = b"\xef\xbb\xbf"
_ASSISTANT = b'"assistant"'
_OBJECT_ENDS = (b"}\n", b"}", b"}\r\n")
_NO_REGION = frozenset({"", "not_available", "global", "default"})

SKIP_NOT_ASSISTANT = "no usage: not an assistant line"
SKIP_PROGRESS = "no usage: progress line (embedded sub-agent copies are never counted)"
SKIP_BLANK = "blank line"
SKIP_NO_USAGE = "assistant line without usage"
SKIP_SYNTHETIC = "synthetic message (Claude Code's local error turn, model <synthetic>)"
SKIP_API_ERROR = "API error turn (isApiErrorMessage): nothing was billed"


class BadLine(ValueError):
    """A line that is valid JSON but cannot be a usage record; the message is the reason."""


def count(data: dict[str, Any], key: str, where: str = "") -> int:
    """A token or call count: a whole number in [0, 100M]; missing or null means 0."""
    value = data.get(key)
    if value is None:
        return 0
    if type(value) is int:
        if 0 <= value <= MAX_TOKENS_PER_BUCKET:
            return value
    elif type(value) is float and value.is_integer():  # 12.0 from some writers
        if 0 <= value <= MAX_TOKENS_PER_BUCKET:
            return int(value)
    else:
        raise BadLine(f"{where}{key} must be a whole number, got {value!r}")
    if value < 0:
        raise BadLine(f"{where}{key} must not be negative, got {value!r}")
    raise BadLine(f"{where}{key} = {value!r} is more than {MAX_TOKENS_PER_BUCKET:,} tokens")


def timestamp(value: Any) -> datetime:
    """ISO 8601 with Z (Claude Code, Codex) fast; anything else via records.parse_timestamp.
    Both keep the range of every usage record (2000 to 2100, UTC)."""
    if type(value) is str and len(value) <= 40:
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if ts.tzinfo is UTC and USAGE_EARLIEST <= ts < USAGE_LATEST:
                return ts
    try:
        return parse_timestamp(value)
    except RecordError as exc:
        raise BadLine(str(exc)) from exc


def json_error(line: bytes, exc: Exception) -> str:
    """A LineError reason for a line that did not parse, naming bad UTF-8 explicitly."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"not valid UTF-8 (byte {err.start})"
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply"
    text = line.strip()
    if text.startswith(b"{") and not text.endswith(b"}"):
        return f"invalid JSON, probably a truncated line ({exc})"
    return f"invalid JSON ({exc})"


def line_too_long(line: bytes) -> str | None:
    if type(line) is OversizedLine:
        return oversized_reason(line)
    if len(line) > MAX_LINE_BYTES:
        return f"line is {len(line):,} bytes, longer than the {MAX_LINE_BYTES:,}-byte limit"
    return None


def _cost(value: Any) -> Decimal | None:
    """Dollars, bounded like every amount; a float as its shortest repr (0.0123)."""
    if value is None:
        return None
    if type(value) not in (int, float):
        raise BadLine(f"costUSD must be a number, got {value!r:.40}")
    try:
        return usd_field({"costUSD": value}, "costUSD", allow_negative=True)
    except RecordError as exc:
        raise BadLine(str(exc)) from exc


def _record(obj: dict[str, Any], filename: str) -> UsageRecord | str:
    """The record of one assistant line, or a Skipped reason. Raises BadLine."""
    message = obj.get("message")
    if type(message) is not dict:
        raise BadLine("assistant line without a 'message' object")
    usage = message.get("usage")
    if usage is None:
        return SKIP_NO_USAGE
    if type(usage) is not dict:
        raise BadLine("message.usage must be an object")
    model = message.get("model")
    if model == "<synthetic>":
        return SKIP_SYNTHETIC
    if obj.get("isApiErrorMessage") is True:
        return SKIP_API_ERROR
    if type(model) is not str or not model.strip():
        raise BadLine("message.model is missing")

    writes = count(usage, "cache_creation_input_tokens", "usage.")
    split = usage.get("cache_creation")
    if type(split) is dict:
        w5m = count(split, "ephemeral_5m_input_tokens", "usage.cache_creation.")
        w1h = count(split, "ephemeral_1h_input_tokens", "usage.cache_creation.")
        if writes > w5m + w1h:
            # Writes the split does not account for (an empty split, a retention we do not
            # know): billed as 5-minute writes rather than dropped (usage-record.md).
            w5m += writes - (w5m + w1h)
    elif split is None:
        w5m, w1h = writes, 0  # older logs: every write was a 5-minute write (1.3)
    else:
        raise BadLine("usage.cache_creation must be an object")

    tools = usage.get("server_tool_use")
    if tools is not None and type(tools) is not dict:
        raise BadLine("usage.server_tool_use must be an object")
    searches = count(tools, "web_search_requests", "usage.server_tool_use.") if tools else 0

    tier = usage.get("service_tier")
    tier = normalize_tier(tier) if type(tier) is str else "standard"
    if tier == "batch":
        tier = "standard"  # Claude Code never runs through the Batch API (0.6): no discount
    if usage.get("speed") == "fast":  # fast mode is priced as its own tier (1.3, 1.5)
        tier = "fast"
    geo = usage.get("inference_geo")
    region = geo.strip().lower() if type(geo) is str else ""
    if region in _NO_REGION:
        region = ""

    session = obj.get("sessionId")
    request = obj.get("requestId")
    return UsageRecord(
        provider=PROVIDER,
        model=model.strip(),
        timestamp=timestamp(obj.get("timestamp")),
        session_id=session if type(session) is str and session else _stem(filename),
        request_id=request if type(request) is str else "",
        input_tokens=count(usage, "input_tokens", "usage."),
        cache_read_tokens=count(usage, "cache_read_input_tokens", "usage."),
        cache_write_5m_tokens=w5m,
        cache_write_1h_tokens=w1h,
        output_tokens=count(usage, "output_tokens", "usage."),
        service_tier=tier,
        region=region,
        web_search_calls=searches,
        billed_cost_usd=_cost(obj.get("costUSD")),
    )


def source_key(obj: dict[str, Any], line: bytes) -> str:
    """(message.id, requestId), or message.id alone when requestId is absent (1.4).

    A line without message.id cannot be deduplicated with its siblings; its key is the
    line's own uuid (or a hash of its bytes), so a re-import still recognises it.
    """
    message_id = obj["message"].get("id")
    request_id = obj.get("requestId")
    if type(message_id) is str and message_id:
        if type(request_id) is str and request_id:
            return f"claude_code:{message_id}:{request_id}"
        return f"claude_code:{message_id}"
    line_id = obj.get("uuid")
    if type(line_id) is str and line_id:
        return f"claude_code:nomsgid:{line_id}"
    return f"claude_code:nomsgid:{hashlib.blake2b(line.strip(), digest_size=16).hexdigest()}"


def _stem(filename: str) -> str:
    base = filename.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    return base[:-6] if base.endswith(".jsonl") else base


def _complete_lines(head: bytes, limit: int) -> Iterator[bytes]:
    """The first ``limit`` pieces of ``head.split(b"\\n")`` without the last one (unless it
    is the only one), found one at a time: a whole 64 KB head is rarely needed."""
    start = 0
    for _ in range(limit):
        end = head.find(b"\n", start)
        if end < 0:
            if start == 0:
                yield head
            return
        yield head[start:end]
        start = end + 1


class ClaudeCodeParser:
    name = "claude_code"
    description = "Claude Code session transcripts (~/.claude/projects/**/*.jsonl)"

    def sniff(self, head: bytes, filename: str) -> bool:
        """Claude Code's envelope keys on one of the first complete lines."""
        # the last piece may be cut off by the 64 KB window
        for raw in _complete_lines(head.removeprefix(_BOM), 50):
            if not raw.strip():
                continue
            try:
                obj = loads(raw)
            except JSON_ERRORS:
                continue
            if type(obj) is not dict:
                return False
            kind = obj.get("type")
            if kind in ("file-history-snapshot", "summary") and (
                "snapshot" in obj or "leafUuid" in obj
            ):
                return True
            if type(kind) is str and "sessionId" in obj and ("uuid" in obj or "message" in obj):
                return True
            if kind in ("session_meta", "event_msg", "turn_context", "response_item"):
                return False  # Codex CLI
        # A first line bigger than the window: fall back on Claude Code's envelope keys.
        return b'"parentUuid"' in head and b'"sessionId"' in head and b'"userType"' in head

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        number = 0
        for item in self.parse_runs(lines, filename):
            if type(item) is int:
                for n in range(number + 1, number + item + 1):
                    yield Skipped(n, SKIP_NOT_ASSISTANT)
                number += item
            else:
                number = item.line
                yield item

    def parse_runs(self, lines: Iterable[bytes], filename: str) -> Iterator[Event | int]:
        """``parse``'s events, with each stretch of lines the bytes check skips as one int.

        The int is how many consecutive lines it stands for, each one a
        ``Skipped(n, SKIP_NOT_ASSISTANT)`` in ``parse``; line numbers are implied by order.
        """
        line_event = self._line
        assistant, ends, limit = _ASSISTANT, _OBJECT_ENDS, MAX_LINE_BYTES
        run = 0
        number = 0
        for line in lines:
            number += 1
            # The common case first and cheaply (module docstring): no bytes "assistant" and
            # the shape of one whole JSON object (starts "{", ends "}" before the newline).
            if (
                assistant not in line
                and line[:1] == b"{"
                and line.endswith(ends)
                and type(line) is bytes  # not an OversizedLine marker
                and len(line) <= limit
            ):
                run += 1
                continue
            if run:
                yield run
                run = 0
            yield line_event(number, line, filename)
        if run:
            yield run

    def _line(self, number: int, line: bytes, filename: str) -> Event:
        if type(line) is not bytes or len(line) > MAX_LINE_BYTES:
            too_long = line_too_long(line)
            if too_long:
                return LineError(number, too_long)
        if number == 1 and line.startswith(_BOM):
            line = line[3:]
        event = _fast_event(number, line, filename)
        if event is not None:
            return event
        try:
            obj = loads(line)
        except JSON_ERRORS as exc:
            if not line.strip():
                return Skipped(number, SKIP_BLANK)
            return LineError(number, json_error(line, exc))
        if type(obj) is not dict:
            return LineError(number, "not a JSON object")
        kind = obj.get("type")
        if kind != "assistant":
            return Skipped(number, SKIP_PROGRESS if kind == "progress" else SKIP_NOT_ASSISTANT)
        try:
            record = _record(obj, filename)
        except BadLine as exc:
            return LineError(number, str(exc))
        if type(record) is str:
            return Skipped(number, record)
        return Parsed(record, source_key(obj, line), number, Merge.LARGEST)


_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1  # orjson reads integers beyond these as floats
_TIERS: dict[str, str] = {}  # service_tier as written -> normalised (a handful of values)


def _fast_event(number: int, line: bytes, filename: str) -> Event | None:
    """The event ``_line`` would give, from msgspec; None: let the orjson path decide.

    Returns an event only where the orjson path gives the very same one: never a LineError
    (those, with their reasons, come from the orjson path).
    """
    if not line.isascii():
        try:  # msgspec does not look inside the parts it skips; orjson refuses bad UTF-8
            line.decode()
        except UnicodeDecodeError:
            return None
    try:
        obj = decode_line(line)
    except Exception:  # noqa: BLE001 - malformed, not an object, a wrong type: the slow path says
        return None
    kind = obj.type
    if kind != "assistant":
        return Skipped(number, SKIP_PROGRESS if kind == "progress" else SKIP_NOT_ASSISTANT)
    message = obj.message
    if message is None:
        return None
    usage = message.usage
    if usage is None:
        return Skipped(number, SKIP_NO_USAGE)
    model = message.model
    if model == "<synthetic>":
        return Skipped(number, SKIP_SYNTHETIC)
    if obj.isApiErrorMessage is True:
        return Skipped(number, SKIP_API_ERROR)
    if type(model) is not str:
        return None
    model = model.strip()
    if not model:
        return None

    writes = usage.cache_creation_input_tokens or 0
    split = usage.cache_creation
    if split is None:
        w5m, w1h = writes, 0  # older logs: every write was a 5-minute write (1.3)
    else:
        w5m = split.ephemeral_5m_input_tokens or 0
        w1h = split.ephemeral_1h_input_tokens or 0
        if writes > w5m + w1h:
            w5m += writes - (w5m + w1h)  # unaccounted writes are 5-minute writes (_record)
    tools = usage.server_tool_use
    searches = 0 if tools is None else tools.web_search_requests or 0
    input_tokens = usage.input_tokens or 0
    cache_read = usage.cache_read_input_tokens or 0
    output_tokens = usage.output_tokens or 0

    raw_tier = usage.service_tier
    if type(raw_tier) is str:
        tier = _TIERS.get(raw_tier)
        if tier is None:
            tier = normalize_tier(raw_tier)
            if len(_TIERS) < 64:
                _TIERS[raw_tier] = tier
    else:
        tier = "standard"
    if tier == "batch":
        tier = "standard"  # Claude Code never runs through the Batch API (0.6): no discount
    if usage.speed == "fast":  # fast mode is priced as its own tier (1.3, 1.5)
        tier = "fast"
    geo = usage.inference_geo
    region = geo.strip().lower() if type(geo) is str else ""
    if region in _NO_REGION:
        region = ""

    when = obj.timestamp
    if type(when) is not str:
        return None
    try:
        when = timestamp(when)
        cost = obj.costUSD
        if cost is not None:
            if type(cost) is int and not _INT64_MIN <= cost <= _UINT64_MAX:
                return None  # orjson would have read a float
            cost = _cost(cost)
    except BadLine:
        return None

    session = obj.sessionId
    request = obj.requestId
    message_id = message.id
    if type(message_id) is str and message_id:
        if type(request) is str and request:
            key = f"claude_code:{message_id}:{request}"
        else:
            key = f"claude_code:{message_id}"
    else:
        line_id = obj.uuid
        if type(line_id) is str and line_id:
            key = f"claude_code:nomsgid:{line_id}"
        else:
            digest = hashlib.blake2b(line.strip(), digest_size=16).hexdigest()
            key = f"claude_code:nomsgid:{digest}"
    record = new_record(
        PROVIDER,
        model,
        when,
        session if type(session) is str and session else _stem(filename),
        request if type(request) is str else "",
        input_tokens,
        cache_read,
        w5m,
        0,
        w1h,
        0,
        0,
        output_tokens,
        0,
        tier,
        region,
        searches,
        ZERO,
        cost,
        1,
        None,
    )
    return new_parsed(record, key, number, Merge.LARGEST, False)


PARSER = ClaudeCodeParser()
