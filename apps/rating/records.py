"""The normalized usage record's JSON form: parsing with clear, field-named errors.

Documented in docs/usage-record.md. Missing numeric fields mean 0; a missing
``service_tier`` means standard. Unknown keys are ignored so newer writers stay readable,
except ``cache_write_<retention>_tokens`` for a retention the engine does not know, which
is an error (silently dropping cache writes would under-bill).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.common.dates import DateError, parse_usage_time
from apps.common.numbers import NumberError, parse_count, parse_decimal, parse_usd

from .engine import CACHE_WRITE_RETENTIONS, SERVICE_TIERS, UsageRecord

INT_FIELDS: tuple[str, ...] = (
    "input_tokens",
    "cache_read_tokens",
    *(f"cache_write_{r}_tokens" for r in CACHE_WRITE_RETENTIONS),
    "output_tokens",
    "reasoning_tokens",
    "web_search_calls",
)
_CACHE_WRITE_KEY = re.compile(r"^cache_write_([a-z0-9]+)_tokens$")
# Aliases some writers use for tiers; "default"/"auto" are OpenAI's names for standard.
_TIER_ALIASES = {"default": "standard", "auto": "standard", "scale": "priority", "": "standard"}


class RecordError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_timestamp(value: Any, field: str = "timestamp") -> datetime:
    """A usage record's time (2000 to 2100, UTC); bounded by ``apps.common.dates``."""
    try:
        return parse_usage_time(value, field)
    except DateError as exc:
        raise RecordError(field, exc.message) from exc


def int_field(data: Mapping[str, Any], key: str) -> int:
    """A count: missing or empty is 0; bounded by ``apps.common.numbers`` (0 to 10**12)."""
    try:
        return parse_count(data.get(key), key)
    except NumberError as exc:
        raise RecordError(key, exc.message) from exc


def decimal_field(
    data: Mapping[str, Any], key: str, *, allow_negative: bool = False
) -> Decimal | None:
    """A non-money decimal (e.g. token-hours): missing is None; |x| < 10**30."""
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        return parse_decimal(value, key, allow_negative=allow_negative)
    except NumberError as exc:
        raise RecordError(key, exc.message) from exc


def usd_field(data: Mapping[str, Any], key: str, *, allow_negative: bool = False) -> Decimal | None:
    """Dollars: missing is None; |x| < $10**11 (what the usage table's column holds)."""
    try:
        return parse_usd(data.get(key), key, allow_negative=allow_negative)
    except NumberError as exc:
        raise RecordError(key, exc.message) from exc


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise RecordError(key, f"must be a string, got {type(value).__name__}")
    return str(value)


def normalize_tier(value: str) -> str:
    tier = _TIER_ALIASES.get(value.strip().lower(), value.strip().lower())
    if tier.startswith("flex"):
        tier = "flex"
    return tier


def record_from_dict(data: Mapping[str, Any]) -> UsageRecord:
    if not isinstance(data, Mapping):
        raise RecordError("record", "must be a JSON object")
    model = _text(data, "model").strip()
    if not model:
        raise RecordError("model", "is required")
    for key in data:
        match = _CACHE_WRITE_KEY.match(key)
        if match and match.group(1) not in CACHE_WRITE_RETENTIONS and data[key]:
            known = ", ".join(CACHE_WRITE_RETENTIONS)
            raise RecordError(key, f"unknown cache retention '{match.group(1)}' (known: {known})")
    tier = normalize_tier(_text(data, "service_tier"))
    if tier not in SERVICE_TIERS:
        raise RecordError(
            "service_tier", f"must be one of {', '.join(SERVICE_TIERS)}, got {tier!r}"
        )
    ints = {key: int_field(data, key) for key in INT_FIELDS}
    requests = int_field(data, "requests") if data.get("requests") not in (None, "") else 1
    long_context = data.get("long_context")
    if long_context is not None and not isinstance(long_context, bool):
        raise RecordError("long_context", f"must be true, false or absent, got {long_context!r}")
    return UsageRecord(
        provider=_text(data, "provider").strip().lower(),
        model=model,
        timestamp=parse_timestamp(data.get("timestamp")),
        session_id=_text(data, "session_id"),
        request_id=_text(data, "request_id"),
        service_tier=tier,
        region=_text(data, "region").strip().lower(),
        cache_storage_token_hours=decimal_field(data, "cache_storage_token_hours") or Decimal(0),
        billed_cost_usd=usd_field(data, "billed_cost_usd", allow_negative=True),
        requests=requests,
        long_context=long_context,
        **ints,
    )


def read_jsonl(
    lines: Iterator[str] | Any, *, source: str = "<input>"
) -> Iterator[tuple[int, UsageRecord | RecordError]]:
    """Yield (line number, record or error) for each non-blank line; never stops early."""

    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, RecordError("line", f"{source}:{number}: invalid JSON ({exc.msg})")
            continue
        try:
            yield number, record_from_dict(data)
        except RecordError as exc:
            yield number, RecordError(exc.field, f"{source}:{number}: {exc}")
