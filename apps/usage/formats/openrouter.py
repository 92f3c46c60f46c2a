"""OpenRouter: generation records (JSON / JSON Lines) and Activity CSV exports.

Accepted (log-formats.md section 4.2):

* chat completion responses with inline ``usage`` (``prompt_tokens`` INCLUDES
  ``prompt_tokens_details.cached_tokens`` and ``cache_write_tokens``, OpenAI style; ``cost``
  is the final USD charge), one per line or as a JSON list;
* ``GET /api/v1/generation`` objects (bare or wrapped in ``{"data": ...}``): ``native_*``
  token counts (the provider's tokenizer, the billing basis) preferred over the normalized
  ``tokens_*``; ``total_cost``;
* ``/api/v1/activity`` JSON rows and the Activity page CSV, per-generation variant
  (``generation_id, created_at, cost_total, tokens_*, model_permaslug, ...``) or aggregated
  variant (``Date, Slug, Usage, BYOK Usage, Requests, Prompt Tokens, ...``).

Per-generation records are keyed ``openrouter:<generation id>`` whatever file they come
from (merge LARGEST: a response and its generation record are one request). Model slugs
(``anthropic/claude-sonnet-4.5``) are kept: the catalog resolves them; the provider is the
slug's prefix. Billed cost: OpenRouter's charge, plus the upstream charge on BYOK requests
(``is_byok``: OpenRouter then bills only its fee, the provider bills the key's owner).
Reasoning tokens are part of completion tokens (section 4.2): output is never added twice.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from apps.rating.engine import UsageRecord
from apps.rating.records import RecordError, int_field, parse_timestamp, usd_field

from .base import Event, LineError, Merge, Parsed, Skipped
from .openai_dashboard_csv import csv_header, iter_csv
from .openai_usage_api import At, bounded_key, iter_json, sniff_json, text_dim, tier, unwrap
from .provider_usage import from_openai_usage

# Slug prefixes that are not the provider names the rest of the site uses.
_PROVIDERS = {"x-ai": "xai", "mistralai": "mistral", "meta-llama": "meta"}
GENERATION_CSV = frozenset({"generation_id", "created_at", "model_permaslug"})
ACTIVITY_CSV = frozenset({"date", "slug", "usage", "requests"})
_GEN_ID = re.compile(rb'"id"\s*:\s*"gen-')
_GENERATION_KEYS = (b'"native_tokens_prompt"', b'"tokens_prompt"')


def provider_of(slug: str) -> str:
    prefix = slug.split("/", 1)[0].strip().lower() if "/" in slug else ""
    return _PROVIDERS.get(prefix, prefix) or "openrouter"


def _retention(slug: str) -> str:
    # cache_write_tokens are Anthropic 5-minute writes, or OpenAI GPT-5.6+ 30-minute ones
    # (docs/usage-record.md); OpenRouter does not say which retention it requested.
    return "30m" if provider_of(slug) == "openai" else "5m"


def _money(data: Mapping[str, Any] | None, key: str) -> Decimal:
    return (usd_field(data, key, allow_negative=True) or Decimal(0)) if data else Decimal(0)


def _billed(cost: Decimal | None, byok: Any, upstream: Decimal) -> Decimal | None:
    if cost is None:
        return None
    return cost + upstream if byok is True else cost


def _unix(value: Any) -> Any:
    # JSON numbers with a fraction arrive as Decimal (exact money); a time is fine as float.
    return float(value) if isinstance(value, Decimal) else value


def _gen_key(generation_id: Any) -> str:
    if not text_dim(generation_id):
        raise RecordError("id", "is required (the generation id gen-...)")
    return bounded_key("openrouter", str(generation_id))


# --------------------------------------------------------------------------- JSON shapes


def chat_record(obj: Mapping[str, Any]) -> UsageRecord:
    """A chat completion response (or the last stream chunk) with inline usage."""
    usage = obj["usage"]
    slug = str(obj.get("model") or "").strip()
    if not slug:
        raise RecordError("model", "is required")
    for key in ("prompt_tokens", "completion_tokens"):
        int_field(usage, key)  # a field-named error before the shared conversion runs
    try:
        record = from_openai_usage(
            usage,
            model=slug,
            timestamp=parse_timestamp(_unix(obj.get("created")), "created"),
            request_id=str(obj.get("id") or ""),
            service_tier=tier(obj.get("service_tier")),
            cache_write_retention=_retention(slug),
        )
    except (ValueError, TypeError) as exc:
        raise RecordError("usage", str(exc)) from exc
    details = usage.get("cost_details") if isinstance(usage.get("cost_details"), Mapping) else None
    tools = usage.get("server_tool_use_details")
    return dataclasses.replace(
        record,
        provider=provider_of(slug),
        billed_cost_usd=_billed(
            usd_field(usage, "cost", allow_negative=True),
            usage.get("is_byok"),
            _money(details, "upstream_inference_cost"),
        ),
        web_search_calls=int_field(tools, "web_search_requests")
        if isinstance(tools, Mapping)
        else 0,
    )


def _native(obj: Mapping[str, Any], name: str) -> int:
    native = f"native_tokens_{name}"
    return (
        int_field(obj, native) if obj.get(native) is not None else int_field(obj, f"tokens_{name}")
    )


def generation_record(obj: Mapping[str, Any]) -> UsageRecord:
    """A ``/api/v1/generation`` object."""
    slug = str(obj.get("model") or "").strip()
    if not slug:
        raise RecordError("model", "is required")
    prompt = _native(obj, "prompt")
    cached = int_field(obj, "native_tokens_cached")
    if cached > prompt:
        raise RecordError("native_tokens_cached", f"{cached} exceeds the prompt ({prompt})")
    return UsageRecord(
        provider=provider_of(slug),
        model=slug,
        timestamp=parse_timestamp(obj.get("created_at"), "created_at"),
        request_id=str(obj.get("id") or ""),
        input_tokens=prompt - cached,
        cache_read_tokens=cached,
        output_tokens=_native(obj, "completion"),
        reasoning_tokens=int_field(obj, "native_tokens_reasoning"),
        service_tier=tier(obj.get("service_tier")),
        billed_cost_usd=_billed(
            usd_field(obj, "total_cost", allow_negative=True),
            obj.get("is_byok"),
            _money(obj, "upstream_inference_cost"),
        ),
    )


def activity_record(row: Mapping[str, Any], slug_key: str, byok_key: str) -> UsageRecord:
    """A per-day activity row: no cache counts exist, so all prompt tokens are input."""
    slug = str(row.get(slug_key) or "").strip()
    if not slug:
        raise RecordError(slug_key, "is required")
    usage = usd_field(row, "usage", allow_negative=True)
    return UsageRecord(
        provider=provider_of(slug),
        model=slug,
        timestamp=parse_timestamp(row.get("date"), "date"),
        input_tokens=int_field(row, "prompt_tokens"),
        output_tokens=int_field(row, "completion_tokens"),
        reasoning_tokens=int_field(row, "reasoning_tokens"),
        billed_cost_usd=None if usage is None else usage + _money(row, byok_key),
        requests=int_field(row, "requests"),
    )


def _activity_key(row: Mapping[str, Any], slug_key: str) -> str:
    day = parse_timestamp(row.get("date"), "date").date().isoformat()
    dims = [text_dim(row.get(k)) for k in (slug_key, "provider_name", "endpoint_id")]
    return bounded_key("openrouter_activity", f"{day}:{json.dumps(dims, separators=(',', ':'))}")


# --------------------------------------------------------------------------- CSV shapes


def generation_csv_record(cells: Mapping[str, str]) -> UsageRecord:
    slug = cells.get("model_permaslug", "")
    if not slug:
        raise RecordError("model_permaslug", "is required")
    if cells.get("variant", "").lower() == "free":
        slug = f"{slug}:free"  # billed $0: pricing it at the paid model's list price is wrong
    prompt = int_field(cells, "tokens_prompt")
    cached = int_field(cells, "tokens_cached")
    if cached > prompt:
        raise RecordError("tokens_cached", f"{cached} exceeds tokens_prompt ({prompt})")
    cost = usd_field(cells, "cost_total", allow_negative=True)
    return UsageRecord(
        provider=provider_of(slug),
        model=slug,
        timestamp=parse_timestamp(cells.get("created_at"), "created_at"),  # zone-less = UTC
        request_id=cells.get("generation_id", ""),
        input_tokens=prompt - cached,
        cache_read_tokens=cached,
        output_tokens=int_field(cells, "tokens_completion"),
        reasoning_tokens=int_field(cells, "tokens_reasoning"),
        billed_cost_usd=None if cost is None else cost + _money(cells, "byok_usage_inference"),
    )


class OpenRouterParser:
    name = "openrouter"
    description = "OpenRouter generations (JSON/JSONL responses with usage.cost) or Activity CSV"

    def sniff(self, head: bytes, filename: str) -> bool:
        body = sniff_json(head)
        if body is None:
            header = csv_header(head)
            return header >= GENERATION_CSV or header >= ACTIVITY_CSV
        if b'"spend"' in body and (b'"request_id"' in body or b'"startTime"' in body):
            return False  # LiteLLM spend logs proxied to OpenRouter
        if b'"starting_at"' in body or b'"num_model_requests"' in body:
            return False
        return bool(
            _GEN_ID.search(body)
            or any(key in body for key in _GENERATION_KEYS)
            or (b'"model_permaslug"' in body and b'"requests"' in body)
        )

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        peek = iter(lines)
        first: list[bytes] = []
        for raw in peek:
            first.append(raw)
            if raw.strip():
                break
        rest = _chain(first, peek)
        if first and sniff_json(first[-1]) is None:
            yield from self._csv(rest)
        else:
            yield from self._json(rest)

    # JSON -----------------------------------------------------------------------------

    def _json(self, lines: Iterable[bytes]) -> Iterator[Event]:
        for item in iter_json(lines, descend=frozenset({"data"})):
            if isinstance(item, LineError):
                yield item
                continue
            for element in unwrap(item):
                yield from self._object(element)

    def _object(self, item: At) -> Iterator[Event]:
        obj = item.value
        if isinstance(obj, dict) and isinstance(obj.get("data"), list | dict):
            inner = obj["data"]
            yield from (self._one(el) for el in unwrap(At(item.line, inner)))
            return
        yield self._one(item)

    def _one(self, item: At) -> Event:
        obj = item.value
        if not isinstance(obj, dict):
            return LineError(item.line, "not a JSON object")
        try:
            # Generation objects also have a "usage" key, but it is the cost (a number).
            if any(k in obj for k in ("native_tokens_prompt", "tokens_prompt", "total_cost")):
                return Parsed(generation_record(obj), _gen_key(obj.get("id")), item.line)
            if "model_permaslug" in obj and "requests" in obj:
                return Parsed(
                    activity_record(obj, "model_permaslug", "byok_usage_inference"),
                    _activity_key(obj, "model_permaslug"),
                    item.line,
                    merge=Merge.SUM,
                    aggregate=True,
                )
            if "usage" in obj and obj["usage"] is None:
                return Skipped(item.line, "response without usage (a stream chunk)")
            if isinstance(obj.get("usage"), Mapping):
                return Parsed(chat_record(obj), _gen_key(obj.get("id")), item.line)
        except RecordError as exc:
            return LineError(item.line, str(exc))
        return LineError(item.line, "not an OpenRouter generation, response or activity row")

    # CSV ------------------------------------------------------------------------------

    def _csv(self, lines: Iterable[bytes]) -> Iterator[Event]:
        for row in iter_csv(lines):
            if isinstance(row, LineError):
                yield row
                continue
            number, cells = row
            try:
                if "generation_id" in cells:
                    yield Parsed(
                        generation_csv_record(cells), _gen_key(cells["generation_id"]), number
                    )
                    continue
                if cells.keys() >= ACTIVITY_CSV:
                    yield Parsed(
                        activity_record(cells, "slug", "byok_usage"),
                        _activity_key(cells, "slug"),
                        number,
                        merge=Merge.SUM,
                        aggregate=True,
                    )
                    continue
            except RecordError as exc:
                yield LineError(number, str(exc))
                continue
            yield LineError(number, "not an OpenRouter Activity export row")
            return


def _chain(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


PARSER = OpenRouterParser()
