"""Codex CLI session logs (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``).

Spec: log-formats.md section 1.6 (and sections 0.1, 0.2). Each line is
``{"timestamp": ..., "type": <kind>, "payload": {...}}``:

* ``session_meta``: ``payload.id`` is the session; a fork or sub-agent names its parent in
  ``payload.forked_from_id`` (or ``payload.source.subagent.thread_spawn.parent_thread_id``)
  and may carry its parent's metadata again on a later ``session_meta`` line.
* ``turn_context``: ``payload.model`` is the model of the turns that follow.
* ``event_msg`` with ``payload.type == "token_count"``: ``payload.info`` is null (a
  rate-limit refresh) or holds ``total_token_usage`` (cumulative for the session) and
  ``last_token_usage`` (the latest model call). Both use OpenAI's meaning: ``input_tokens``
  INCLUDES ``cached_input_tokens`` and ``output_tokens`` INCLUDES
  ``reasoning_output_tokens`` (0.1, 0.2). So ``input = input_tokens - cached``,
  ``cache_read = cached``, ``output = output_tokens``; reasoning is informational.

Counting each call exactly once (the traps other tools fell into):

* Codex re-emits ``token_count`` with an unchanged cumulative total (UI and rate-limit
  refreshes): such a line is Skipped. Summing every ``last_token_usage`` overcounts
  30-70% on real logs (ccusage #824, #876, #884, #1288).
* The record is the event's own ``last_token_usage`` (or the cumulative delta when an old
  log has no ``last``), and the source key is the CUMULATIVE total at that event, scoped to
  the session family: ``codex_cli:<root session>:<in>:<cached>:<out>:<reasoning>``. A
  forked or sub-agent session replays its parent's ``token_count`` history (ccusage #897,
  #1370); the copies carry the parent's cumulative totals and ``last_token_usage``, so they
  get the parent's keys and identical records, and the import's ``Merge.LARGEST`` keeps one.
  Keys are stable across re-imports and independent of file order. The root is the oldest
  ancestor named by the ``session_meta`` lines of the same file.

Not handled (documented gaps): a fork whose replayed totals Codex rewrote, or a
grandchild fork whose file does not repeat its grandparent's metadata, is counted again;
``token_usage_record`` lines (newer remote-compaction accounting) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from apps.common.numbers import MAX_COUNT
from apps.rating.engine import UsageRecord
from apps.rating.records import normalize_tier
from apps.usage.formats.base import MAX_LINE_BYTES, Event, LineError, Merge, Parsed, Skipped
from apps.usage.formats.claude_code import (
    JSON_ERRORS,
    BadLine,
    count,
    json_error,
    line_too_long,
    loads,
    timestamp,
)
from apps.usage.sources import OversizedLine

PROVIDER = "openai"
_CANONICAL_START = b'{"timestamp":'
_USEFUL = (b'"token_count"', b'"session_meta"', b'"turn_context"', b'"thread_settings_applied"')
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# Codex "fast" mode is OpenAI priority processing, billed at the priority tier.
_CODEX_TIERS = {"fast": "priority", "default": "standard"}

SKIP_OTHER = "no usage: not a token_count, turn_context or session_meta line"
SKIP_META = "session metadata"
SKIP_CONTEXT = "turn context (sets the model)"
SKIP_SETTINGS = "thread settings (sets the service tier)"
SKIP_NO_INFO = "token_count without usage (rate-limit refresh)"
SKIP_REEMIT = "token_count re-emitted with an unchanged cumulative total; counted once"
SKIP_ZERO = "token_count with zero usage"
SKIP_BLANK = "blank line"

# input (cached included), cached, output (reasoning included), reasoning
Totals = tuple[int, int, int, int]


def _usage(info: dict[str, Any], key: str) -> Totals | None:
    value = info.get(key)
    if value is None:
        return None
    if type(value) is not dict:
        raise BadLine(f"info.{key} must be an object")
    where = f"info.{key}."
    cached_key = (
        "cached_input_tokens" if "cached_input_tokens" in value else "cache_read_input_tokens"
    )
    if key == "total_token_usage":
        # cumulative: may pass the per-call ceiling in a long session
        return tuple(  # type: ignore[return-value]
            _cumulative(value, k, where)
            for k in ("input_tokens", cached_key, "output_tokens", "reasoning_output_tokens")
        )
    return (
        count(value, "input_tokens", where),
        count(value, cached_key, where),
        count(value, "output_tokens", where),
        count(value, "reasoning_output_tokens", where),
    )


def _cumulative(data: dict[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if value is None:
        return 0
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value
    raise BadLine(f"{where}{key} must be a whole number from 0 to {MAX_COUNT:,}, got {value!r:.40}")


def _parent(payload: dict[str, Any]) -> str | None:
    parent = payload.get("forked_from_id")
    if type(parent) is str and parent:
        return parent
    try:
        parent = payload["source"]["subagent"]["thread_spawn"]["parent_thread_id"]
    except (KeyError, TypeError):
        return None
    return parent if type(parent) is str and parent else None


class _Session:
    """What one file has said so far: who it is, its family, model, tier, last total."""

    __slots__ = ("_own_set", "family", "model", "own", "previous", "provider", "running", "tier")

    def __init__(self, filename: str) -> None:
        match = _UUID.search(filename.rsplit("/", 1)[-1])
        self.own = match.group(0) if match else filename.rsplit("/", 1)[-1]
        self.family: dict[str, str] = {}  # session id -> the session it was forked from
        self.model = ""
        self.tier = "standard"
        self.provider = PROVIDER
        self.previous: Totals | None = None
        self.running: Totals = (0, 0, 0, 0)  # summed usage, for logs without cumulative totals
        self._own_set = False

    def root(self) -> str:
        seen = {self.own}
        current = self.own
        while current in self.family and self.family[current] not in seen:
            current = self.family[current]
            seen.add(current)
        return current

    def meta(self, payload: dict[str, Any]) -> None:
        session = payload.get("id")
        if type(session) is not str or not session:
            return
        if not self._own_set:
            self.own, self._own_set = session, True
            provider = payload.get("model_provider")
            if type(provider) is str and provider.strip():
                self.provider = provider.strip().lower()
        parent = _parent(payload)
        if parent and parent != session:
            self.family.setdefault(session, parent)

    def context(self, payload: dict[str, Any]) -> None:
        model = payload.get("model")
        if type(model) is str and model.strip():
            self.model = model.strip()
        self._tier(payload.get("service_tier"))

    def _tier(self, value: Any) -> None:
        if type(value) is str and value.strip():
            raw = value.strip().lower()
            self.tier = normalize_tier(_CODEX_TIERS.get(raw, raw))

    def settings(self, payload: dict[str, Any]) -> None:
        settings = payload.get("thread_settings")
        if type(settings) is dict:
            self._tier(settings.get("service_tier"))


def _token_count(
    obj: dict[str, Any], payload: dict[str, Any], state: _Session
) -> tuple[UsageRecord, str] | str:
    """(record, source key) for one token_count line, or a Skipped reason. Raises BadLine."""
    info = payload.get("info")
    if info is None:
        return SKIP_NO_INFO
    if type(info) is not dict:
        raise BadLine("payload.info must be an object")
    total = _usage(info, "total_token_usage")
    last = _usage(info, "last_token_usage")
    if total is None and last is None:
        return SKIP_NO_INFO
    previous = state.previous
    if total is not None:
        if total == previous:
            return SKIP_REEMIT
        state.previous = total
    if last is not None:
        usage = last
    elif previous is not None and all(t >= p for t, p in zip(total, previous, strict=True)):
        usage = tuple(t - p for t, p in zip(total, previous, strict=True))  # type: ignore[assignment]
    else:
        usage = total  # the first total of a file, or a reset after a resume: absolute
    if usage[0] > 100_000_000 or usage[2] > 100_000_000:
        raise BadLine("usage of one call is more than 100,000,000 tokens")
    state.running = tuple(r + u for r, u in zip(state.running, usage, strict=True))  # type: ignore[assignment]
    if not any(usage):
        return SKIP_ZERO
    prompt, cached, output, reasoning = usage
    if cached > prompt:
        raise BadLine(f"cached_input_tokens ({cached}) exceed input_tokens ({prompt})")
    if reasoning > output:
        raise BadLine(
            f"reasoning_output_tokens ({reasoning}) exceed output_tokens ({output}): cannot "
            "tell whether output includes reasoning"
        )
    model = info.get("model") if type(info.get("model")) is str else payload.get("model")
    model = model.strip() if type(model) is str and model.strip() else state.model
    if not model:
        raise BadLine("no model known for this token_count (no turn_context before it)")
    record = UsageRecord(
        provider=state.provider,
        model=model,
        timestamp=timestamp(obj.get("timestamp")),
        session_id=state.own,
        input_tokens=prompt - cached,  # OpenAI counts include cached input (0.1)
        cache_read_tokens=cached,
        output_tokens=output,  # already includes reasoning (0.2)
        reasoning_tokens=reasoning,
        service_tier=state.tier,
    )
    if total is not None:
        key = "codex_cli:{}:{}:{}:{}:{}".format(state.root(), *total)
    else:  # an old log without cumulative totals: the running sum stands in for them
        key = "codex_cli:{}:sum:{}:{}:{}:{}".format(state.own, *state.running)
    return record, key


class CodexCliParser:
    name = "codex_cli"
    description = "Codex CLI session logs (~/.codex/sessions/**/rollout-*.jsonl)"

    def sniff(self, head: bytes, filename: str) -> bool:
        if b'"type":"session_meta"' in head or b'"type":"turn_context"' in head:
            return True
        return b'"type":"event_msg"' in head and b'"payload"' in head

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        state = _Session(filename)
        for number, line in enumerate(lines, start=1):
            # Big lines are response items (tool output, reasoning) and never carry usage;
            # in Codex's own layout the line's types sit in its first bytes.
            if (
                line.startswith(_CANONICAL_START)
                and type(line) is not OversizedLine
                and len(line) <= MAX_LINE_BYTES
                and not any(marker in line[:256] for marker in _USEFUL)
                and line.rstrip().endswith(b"}")
            ):
                yield Skipped(number, SKIP_OTHER)
                continue
            yield self._line(number, line, state)

    def _line(self, number: int, line: bytes, state: _Session) -> Event:
        too_long = line_too_long(line)
        if too_long:
            return LineError(number, too_long)
        try:
            obj = loads(line)
        except JSON_ERRORS as exc:
            if not line.strip():
                return Skipped(number, SKIP_BLANK)
            return LineError(number, json_error(line, exc))
        if type(obj) is not dict:
            return LineError(number, "not a JSON object")
        kind = obj.get("type")
        payload = obj.get("payload")
        if type(payload) is not dict:
            return Skipped(number, SKIP_OTHER)
        if kind == "session_meta":
            state.meta(payload)
            return Skipped(number, SKIP_META)
        if kind == "turn_context":
            state.context(payload)
            return Skipped(number, SKIP_CONTEXT)
        if kind != "event_msg":
            return Skipped(number, SKIP_OTHER)
        event_type = payload.get("type")
        if event_type == "thread_settings_applied":
            state.settings(payload)
            return Skipped(number, SKIP_SETTINGS)
        if event_type != "token_count":
            return Skipped(number, SKIP_OTHER)
        try:
            result = _token_count(obj, payload, state)
        except BadLine as exc:
            return LineError(number, str(exc))
        if type(result) is str:
            return Skipped(number, result)
        record, key = result
        return Parsed(record, key, number, Merge.LARGEST)


PARSER = CodexCliParser()
