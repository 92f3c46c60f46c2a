"""Parsing a quick workload from JSON or query parameters, with the field named on error."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from apps.common.numbers import NumberError, parse_decimal, parse_int

from .quick import MAX_GAP_SECONDS, MAX_TOKENS, QuickWorkload, WorkloadError

# The widest whole number any quick field accepts before its own range check (which
# names the real limit): requests per month go up to 10**10.
MAX_INPUT = 10**10
MAXIMA = {
    "input_tokens": MAX_TOKENS,
    "output_tokens": MAX_TOKENS,
    "cached_prefix_tokens": MAX_TOKENS,
    "automatic_retention_seconds": MAX_GAP_SECONDS,
}

DEFAULTS: dict[str, Any] = {
    "requests_per_month": 100_000,
    "input_tokens": 3_000,
    "output_tokens": 400,
    "cached_prefix_tokens": 2_000,
    "mean_gap_seconds": 30,
    "batch_share": "0",
    "arrival": "poisson",
}


def _int(data: Mapping[str, Any], key: str, default: Any) -> int:
    """A whole number, bounded before conversion (``apps.common.numbers``)."""
    try:
        return parse_int(data.get(key, default), key, maximum=MAXIMA.get(key, MAX_INPUT))
    except NumberError as exc:
        raise WorkloadError(key, exc.message) from exc


def _dec(data: Mapping[str, Any], key: str, default: Any) -> Decimal | None:
    value = data.get(key, default)
    if value is None or value == "":
        return None
    try:
        return parse_decimal(value, key, allow_negative=True)
    except NumberError as exc:
        if exc.kind == "too_large" and key == "mean_gap_seconds":
            raise WorkloadError(key, f"must be at most {MAX_GAP_SECONDS:,} (30 days)") from exc
        raise WorkloadError(key, exc.message) from exc


def quick_workload(
    data: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None
) -> QuickWorkload:
    d = {**DEFAULTS, **(defaults or {})}
    if not isinstance(data, Mapping):
        raise WorkloadError("body", "must be a JSON object")
    gap = _dec(data, "mean_gap_seconds", d["mean_gap_seconds"])
    retention = data.get("automatic_retention_seconds")
    workload = QuickWorkload(
        requests_per_month=_int(data, "requests_per_month", d["requests_per_month"]),
        input_tokens=_int(data, "input_tokens", d["input_tokens"]),
        output_tokens=_int(data, "output_tokens", d["output_tokens"]),
        cached_prefix_tokens=_int(data, "cached_prefix_tokens", d["cached_prefix_tokens"]),
        mean_gap_seconds=float(gap) if gap is not None else 0.0,
        batch_share=_dec(data, "batch_share", d["batch_share"]) or Decimal(0),
        arrival=str(data.get("arrival", d["arrival"]) or "poisson"),
        automatic_hit_rate=_dec(data, "automatic_hit_rate", None),
        automatic_retention_seconds=None
        if retention in (None, "", 0)
        else _int(data, "automatic_retention_seconds", 0),
    )
    workload.validate()
    return workload
