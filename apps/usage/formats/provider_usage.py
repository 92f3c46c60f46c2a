"""Per-request ``usage`` objects from provider APIs, normalized to disjoint token buckets.

This is the edge where each provider's meaning of "input tokens" is converted once:
OpenAI's ``prompt_tokens``/``input_tokens`` INCLUDE cached tokens (and, from GPT-5.6,
cache-write tokens); Anthropic's ``input_tokens`` EXCLUDE cache reads and writes; Gemini's
``promptTokenCount`` includes ``cachedContentTokenCount`` and its thoughts are billed as
output but reported outside ``candidatesTokenCount`` (docs/usage-record.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from apps.common.numbers import parse_count
from apps.rating.engine import UsageRecord
from apps.rating.records import normalize_tier


def _n(data: Mapping[str, Any] | None, *keys: str) -> int:
    """The first of ``keys`` present: a bounded count (raises ``NumberError``, a ValueError)."""
    for key in keys:
        if data and data.get(key) is not None:
            return parse_count(data[key], key)
    return 0


def from_openai_usage(
    usage: Mapping[str, Any],
    *,
    model: str,
    timestamp: datetime,
    request_id: str = "",
    service_tier: str = "standard",
    cache_write_retention: str = "30m",
) -> UsageRecord:
    """Chat Completions (prompt_tokens) or Responses (input_tokens) usage."""
    details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    prompt = _n(usage, "prompt_tokens", "input_tokens")
    cached = _n(details, "cached_tokens")
    written = _n(details, "cache_write_tokens")
    output = _n(usage, "completion_tokens", "output_tokens")
    out_details = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    writes: dict[str, Any] = {f"cache_write_{cache_write_retention}_tokens": written}
    uncached = prompt - cached - written
    if uncached < 0:
        raise ValueError(f"cached tokens ({cached + written}) exceed prompt tokens ({prompt})")
    return UsageRecord(
        provider="openai",
        model=model,
        timestamp=timestamp,
        request_id=request_id,
        input_tokens=uncached,
        cache_read_tokens=cached,
        output_tokens=output,  # reasoning is already inside completion/output tokens
        reasoning_tokens=_n(out_details, "reasoning_tokens"),
        service_tier=normalize_tier(service_tier or ""),
        **writes,
    )


def from_anthropic_usage(
    usage: Mapping[str, Any], *, model: str, timestamp: datetime, request_id: str = ""
) -> UsageRecord:
    """Messages API usage: input_tokens already excludes cache reads and writes."""
    creation = usage.get("cache_creation") or {}
    w5m = _n(creation, "ephemeral_5m_input_tokens")
    w1h = _n(creation, "ephemeral_1h_input_tokens")
    total_writes = _n(usage, "cache_creation_input_tokens")
    if not creation:
        w5m = total_writes  # older responses: every write was a 5-minute write
    server_tools = usage.get("server_tool_use") or {}
    return UsageRecord(
        provider="anthropic",
        model=model,
        timestamp=timestamp,
        request_id=request_id,
        input_tokens=_n(usage, "input_tokens"),
        cache_read_tokens=_n(usage, "cache_read_input_tokens"),
        cache_write_5m_tokens=w5m,
        cache_write_1h_tokens=w1h,
        output_tokens=_n(usage, "output_tokens"),
        service_tier=normalize_tier(str(usage.get("service_tier") or "")),
        region=str(usage.get("inference_geo") or "").lower(),
        web_search_calls=_n(server_tools, "web_search_requests"),
    )
