"""Anthropic Admin API reports: ``/v1/organizations/usage_report/messages`` and ``cost_report``.

Pages ``{"data": [{"starting_at", "ending_at", "results": [...]}], "has_more", ...}``, a list
of pages or buckets, or JSON Lines of either (log-formats.md section 3.1).

Usage report rows become aggregate records. Anthropic's counts are already disjoint
(section 0.1): ``uncached_input_tokens`` excludes cache reads and writes, which come as
``cache_read_input_tokens`` and ``cache_creation.ephemeral_5m/1h_input_tokens`` (a
third-party schema flattens these to ``cache_creation_5m/1h_input_tokens``: both accepted).
The report has no request count, so ``requests`` is 0 ("not reported"), never invented.

Cost report rows (``amount`` in CENTS as a decimal string, section 3.2: the docs example
"123.45" is $1.23) become aggregate records that carry only ``billed_cost_usd`` (amount /
100) with zero tokens and zero requests: a cost row says what was charged for a model and
token type, never how many tokens, so it adds billed dollars beside the usage report's
tokens for the same model and day without double counting anything. Rows without a model
(not grouped by ``description``, or web-search / code-execution charges) are skipped with
the amount in the reason.

Both kinds are summed per source key (every dimension, nulls included: section 0.3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.rating.engine import UsageRecord
from apps.rating.records import RecordError, int_field, parse_timestamp, usd_field

from .base import Event, LineError, Merge, Parsed, Skipped
from .openai_usage_api import At, bounded_key, iter_json, sniff_json, text_dim, tier, unwrap

USAGE_DIMENSIONS: tuple[str, ...] = (
    "model",
    "workspace_id",
    "api_key_id",
    "account_id",
    "service_account_id",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
COST_DIMENSIONS: tuple[str, ...] = (
    "workspace_id",
    "description",
    "cost_type",
    "token_type",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
_CENTS = Decimal(100)
# Values meaning "no particular region": the engine must not see them as a region name.
_NO_REGION = frozenset({"", "global", "not_available", "--", "none", "null"})


def region(value: Any) -> str:
    name = str(value or "").strip().lower()
    return "" if name in _NO_REGION else name


def long_context_flag(value: Any) -> bool | None:
    """Anthropic's context_window dimension: "0-200k" / "≤ 200k" no, "200k-1M" / "> 200k" yes."""
    text = str(value or "").strip().lower().replace(" ", "")
    if not text or text == "--":
        return None
    if text.startswith(("0-", "≤", "<=")):
        return False
    if text.startswith(("200k-", ">", "200k+")):
        return True
    return None


def anthropic_tier(service_tier: Any, speed: Any) -> str:
    """Engine tier from Anthropic's ``service_tier`` and ``speed`` (fast mode, section 3.1).

    Fast mode is its own price tier; it is only offered on the standard tier, so a batch or
    priority row keeps its tier.
    """
    name = tier(service_tier)
    if name == "standard" and str(speed or "").strip().lower() == "fast":
        return "fast"
    return name


def iso_key(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def dims_json(data: Mapping[str, Any], names: tuple[str, ...]) -> str:
    return json.dumps([text_dim(data.get(n)) for n in names], separators=(",", ":"))


def _writes(result: Mapping[str, Any]) -> tuple[int, int]:
    creation = result.get("cache_creation")
    if isinstance(creation, Mapping):
        return (
            int_field(creation, "ephemeral_5m_input_tokens"),
            int_field(creation, "ephemeral_1h_input_tokens"),
        )
    if creation is not None:
        raise RecordError("cache_creation", "must be an object")
    flat = ("cache_creation_5m_input_tokens", "cache_creation_1h_input_tokens")
    if any(result.get(key) is not None for key in flat):
        return int_field(result, flat[0]), int_field(result, flat[1])
    # A total without the split predates 1-hour caching: every write was 5-minute.
    return int_field(result, "cache_creation_input_tokens"), 0


def usage_record(result: Mapping[str, Any], start: datetime) -> UsageRecord:
    w5m, w1h = _writes(result)
    tools = result.get("server_tool_use")
    return UsageRecord(
        provider="anthropic",
        model=str(result["model"]).strip(),
        timestamp=start,
        input_tokens=int_field(result, "uncached_input_tokens"),
        cache_read_tokens=int_field(result, "cache_read_input_tokens"),
        cache_write_5m_tokens=w5m,
        cache_write_1h_tokens=w1h,
        output_tokens=int_field(result, "output_tokens"),
        service_tier=anthropic_tier(result.get("service_tier"), result.get("speed")),
        region=region(result.get("inference_geo")),
        web_search_calls=int_field(tools, "web_search_requests")
        if isinstance(tools, Mapping)
        else 0,
        requests=0,  # not in the report
        long_context=long_context_flag(result.get("context_window")),
    )


def cost_record(result: Mapping[str, Any], start: datetime) -> UsageRecord:
    currency = str(result.get("currency") or "USD").strip().upper()
    if currency != "USD":
        raise RecordError("currency", f"only USD is supported, got {currency!r}")
    cents = usd_field(result, "amount", allow_negative=True)
    if cents is None:
        raise RecordError("amount", "is required")
    return UsageRecord(
        provider="anthropic",
        model=str(result["model"]).strip(),
        timestamp=start,
        service_tier=anthropic_tier(result.get("service_tier"), result.get("speed")),
        region=region(result.get("inference_geo")),
        billed_cost_usd=cents / _CENTS,  # exact: Decimal division by 100
        requests=0,
    )


class AnthropicUsageReportParser:
    name = "anthropic_usage_report"
    description = "Anthropic Admin API usage_report/messages (or cost_report) JSON pages"

    def sniff(self, head: bytes, filename: str) -> bool:
        body = sniff_json(head)
        if body is None:
            return False
        return all(
            re.search(rb'"%s"\s*:' % key, body)
            for key in (b"starting_at", b"ending_at", b"results")
        )

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
            for bucket in value["data"]:
                yield from self._bucket(bucket)
        elif isinstance(value, dict) and "results" in value:
            yield from self._bucket(item)
        else:
            yield LineError(item.line, "not an Anthropic usage or cost report page or bucket")

    def _bucket(self, item: At) -> Iterator[Event]:
        bucket = item.value
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
            yield LineError(item.line, "bucket without a results list")
            return
        try:
            start = parse_timestamp(bucket.get("starting_at"), "starting_at")
            end = parse_timestamp(bucket.get("ending_at"), "ending_at")
        except RecordError as exc:
            yield LineError(item.line, f"bucket {exc}")
            return
        span = f"{iso_key(start)}:{iso_key(end)}"
        for result in bucket["results"]:
            yield self._result(result, start, span)

    def _result(self, item: At, start: datetime, span: str) -> Event:
        result = item.value
        if not isinstance(result, dict):
            return LineError(item.line, "result is not a JSON object")
        is_cost = "amount" in result
        if not text_dim(result.get("model")):
            if is_cost:
                what = result.get("description") or result.get("cost_type") or "cost"
                return Skipped(
                    item.line,
                    f"cost of {result.get('amount')} cents ({what}) has no model: "
                    "re-export with group_by[]=description to attribute token costs",
                )
            return Skipped(item.line, "usage not grouped by model: re-export with group_by[]=model")
        try:
            if is_cost:
                record = cost_record(result, start)
                key = bounded_key(
                    "anthropic_cost_report", f"{span}:{dims_json(result, COST_DIMENSIONS)}"
                )
            else:
                record = usage_record(result, start)
                key = bounded_key(
                    "anthropic_usage_report", f"{span}:{dims_json(result, USAGE_DIMENSIONS)}"
                )
        except RecordError as exc:
            return LineError(item.line, str(exc))
        return Parsed(record, key, item.line, merge=Merge.SUM, aggregate=True)


PARSER = AnthropicUsageReportParser()
