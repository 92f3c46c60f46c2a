"""LiteLLM proxy spend logs (``LiteLLM_SpendLogs`` table, ``/spend/logs`` API): CSV or JSON.

One row per proxied request (log-formats.md section 4.3): ``request_id`` (the dedupe key),
``startTime``, ``model`` (``model_group`` is the public alias, used when ``model`` is
blank), ``custom_llm_provider``, ``prompt_tokens``, ``completion_tokens``, ``spend`` (USD
computed by LiteLLM, kept as ``billed_cost_usd``), ``metadata`` (JSON; a JSON string in CSV
exports), ``cache_hit``, ``status``.

The row has no cache columns; cache details live in ``metadata.usage_object`` (and
``metadata.additional_usage_values``). ``prompt_tokens`` is OpenAI style (cached tokens
included), but for Anthropic whether it includes cache reads and writes has varied by
LiteLLM version, so uncached input is derived from the usage object (``_split_prompt``).
Without a usage object every prompt token counts as uncached input: cache savings are
then not visible, and the computed cost is an upper bound.

A row served from LiteLLM's own response cache (``cache_hit`` true) made no provider call
and is skipped; so is a failed request that used no tokens.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from apps.rating.engine import UsageRecord
from apps.rating.records import RecordError, int_field, parse_timestamp, usd_field

from .anthropic_usage_report import anthropic_tier, region
from .base import Event, LineError, Merge, Parsed, Skipped
from .openai_dashboard_csv import csv_header, header_name, iter_csv
from .openai_usage_api import At, bounded_key, iter_json, sniff_json, unwrap

REQUIRED = frozenset({"request_id", "spend", "starttime"})
# Providers whose cache writes are OpenAI's (30-minute default, GPT-5.6+); everything else
# that reports writes is Anthropic-style (5-minute default when the split is missing).
_OPENAI_STYLE = frozenset({"openai", "azure", "azure_ai", "text-completion-openai"})


def _mapping(value: Any) -> Mapping[str, Any] | None:
    """A JSON object, or its text (CSV cells; some exports write Python dict syntax)."""
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str) or not value.strip().startswith("{"):
        return None
    try:
        parsed = json.loads(value, parse_float=Decimal)
    except ValueError:
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return parsed if isinstance(parsed, Mapping) else None


def usage_of(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    metadata = _mapping(row.get("metadata"))
    if metadata is None:
        return None
    usage = _mapping(metadata.get("usage_object"))
    extra = _mapping(metadata.get("additional_usage_values"))
    if usage is None and extra is None:
        return None
    return {**(extra or {}), **(usage or {})}


def _split_prompt(usage: Mapping[str, Any], provider: str) -> dict[str, int]:
    """Disjoint prompt buckets from a LiteLLM (or raw provider) usage object."""
    details = _mapping(usage.get("prompt_tokens_details")) or {}
    anthropic_style = "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage
    if usage.get("prompt_tokens") is None and usage.get("input_tokens") is not None:
        # A raw provider object: Anthropic's input_tokens excludes the cache, the OpenAI
        # Responses input_tokens includes it (section 0.1).
        prompt = int_field(usage, "input_tokens")
        details = _mapping(usage.get("input_tokens_details")) or details
        inclusive = not anthropic_style
    else:
        prompt = int_field(usage, "prompt_tokens")
        inclusive = None
    read = (
        int_field(usage, "cache_read_input_tokens")
        if usage.get("cache_read_input_tokens") is not None
        else int_field(details, "cached_tokens")
    )
    # The total written: Anthropic's name on the usage object, or OpenAI's / LiteLLM's
    # mirrored names in the details (section 4.3).
    write = next(
        (
            int_field(src, key)
            for src, key in (
                (usage, "cache_creation_input_tokens"),
                (details, "cache_write_tokens"),
                (details, "cache_creation_tokens"),
            )
            if src.get(key) is not None
        ),
        0,
    )
    w5m, w1h, w30m = _write_buckets(usage, details, write, provider)
    write = w5m + w1h + w30m
    if inclusive is None:
        # Current LiteLLM puts cache reads and writes inside prompt_tokens (and the uncached
        # part in text_tokens); older versions left them out for Anthropic. A prompt smaller
        # than the cache counts, or text_tokens equal to the whole prompt, means "left out".
        text = details.get("text_tokens")
        left_out = prompt < read + write or (
            anthropic_style
            and read + write > 0
            and text is not None
            and int_field(details, "text_tokens") == prompt
        )
        inclusive = not left_out
    if inclusive and prompt < read + write:
        raise RecordError(
            "prompt_tokens", f"{prompt} is less than the cached tokens ({read + write})"
        )
    return {
        "input_tokens": prompt - read - write if inclusive else prompt,
        "cache_read_tokens": read,
        "cache_write_5m_tokens": w5m,
        "cache_write_30m_tokens": w30m,
        "cache_write_1h_tokens": w1h,
    }


def _write_buckets(
    usage: Mapping[str, Any], details: Mapping[str, Any], write: int, provider: str
) -> tuple[int, int, int]:
    """(5-minute, 1-hour, 30-minute) cache writes."""
    if provider in _OPENAI_STYLE:
        return 0, 0, write  # OpenAI's default retention (GPT-5.6+, docs/usage-record.md)
    split = _mapping(details.get("cache_creation_token_details")) or _mapping(
        usage.get("cache_creation")
    )
    one_hour = int_field(split, "ephemeral_1h_input_tokens") if split else 0
    five_min = int_field(split, "ephemeral_5m_input_tokens") if split else 0
    # Whatever is not reported as a 1-hour write is a 5-minute one, Anthropic's default: the
    # buckets then always add up to the total written, and no write is lost or counted twice.
    return max(write - one_hour, five_min), one_hour, 0


def spend_record(row: Mapping[str, Any]) -> UsageRecord:
    model = str(row.get("model") or row.get("model_group") or "").strip()
    if not model:
        raise RecordError("model", "is required")
    provider = str(row.get("custom_llm_provider") or "").strip().lower()
    if not provider and "/" in model:
        provider = model.split("/", 1)[0].lower()
    usage = usage_of(row)
    if (
        usage is not None
        and usage.get("prompt_tokens") is None
        and usage.get("input_tokens") is None
    ):
        # Only additional_usage_values (cache counts) were logged: the totals are the row's.
        usage = {**usage, "prompt_tokens": row.get("prompt_tokens")}
    if usage is None:
        buckets = {"input_tokens": int_field(row, "prompt_tokens")}
        output = int_field(row, "completion_tokens")
        reasoning, searches, extra = 0, 0, {}
    else:
        buckets = _split_prompt(usage, provider)
        output = (
            int_field(usage, "completion_tokens")
            if usage.get("completion_tokens") is not None
            else int_field(usage, "output_tokens")
            if usage.get("output_tokens") is not None
            else int_field(row, "completion_tokens")
        )
        out_details = _mapping(usage.get("completion_tokens_details")) or {}
        reasoning = int_field(out_details, "reasoning_tokens")
        tools = _mapping(usage.get("server_tool_use")) or {}
        searches = int_field(tools, "web_search_requests")
        extra = usage
    return UsageRecord(
        provider=provider,
        model=model,
        timestamp=parse_timestamp(row.get("starttime"), "startTime"),
        session_id=str(row.get("session_id") or ""),
        request_id=str(row.get("request_id") or ""),
        output_tokens=output,
        reasoning_tokens=reasoning,
        web_search_calls=searches,
        service_tier=anthropic_tier(extra.get("service_tier"), extra.get("speed")),
        region=region(extra.get("inference_geo")),
        billed_cost_usd=usd_field(row, "spend", allow_negative=True),
        **buckets,
    )


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


class LiteLLMSpendLogsParser:
    name = "litellm_spend_logs"
    description = "LiteLLM proxy spend logs (LiteLLM_SpendLogs / /spend/logs) as CSV or JSON"

    def sniff(self, head: bytes, filename: str) -> bool:
        body = sniff_json(head)
        if body is None:
            return csv_header(head) >= REQUIRED
        return all(key in body for key in (b'"request_id"', b'"spend"', b'"startTime"'))

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        it = iter(lines)
        first: list[bytes] = []
        for raw in it:
            first.append(raw)
            if raw.strip():
                break
        source = _chain(first, it)
        if first and sniff_json(first[-1]) is None:
            for row in iter_csv(source):
                if isinstance(row, LineError):
                    yield row
                else:
                    yield self._row(*row)
            return
        for item in iter_json(source, descend=frozenset({"data"})):
            if isinstance(item, LineError):
                yield item
                continue
            for element in unwrap(item):
                yield from self._element(element)

    def _element(self, item: At) -> Iterator[Event]:
        value = item.value
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            for row in value["data"]:  # /spend/logs/ui pages
                yield from self._element(row)
        elif isinstance(value, dict):
            yield self._row(item.line, {header_name(k): v for k, v in value.items()})
        else:
            yield LineError(item.line, "not a spend log row (a JSON object)")

    def _row(self, number: int, row: Mapping[str, Any]) -> Event:
        request_id = str(row.get("request_id") or "").strip()
        if not request_id:
            return LineError(number, "request_id: is required")
        if _truthy(row.get("cache_hit")):
            return Skipped(number, "served from LiteLLM's response cache: no provider call")
        try:
            record = spend_record(row)
        except RecordError as exc:
            return LineError(number, str(exc))
        if (
            str(row.get("status") or "").lower() == "failure"
            and not record.prompt_tokens + record.output_tokens
        ):
            return Skipped(number, "failed request with no usage")
        return Parsed(record, bounded_key("litellm", request_id), number, merge=Merge.LARGEST)


def _chain(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


PARSER = LiteLLMSpendLogsParser()
