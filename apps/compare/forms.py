"""Parsing a quick workload from JSON or query parameters, with the field named on error."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .quick import QuickWorkload, WorkloadError

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
    value = data.get(key, default)
    if isinstance(value, bool):
        raise WorkloadError(key, "must be a whole number")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise WorkloadError(key, f"must be a whole number, got {value!r}") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise WorkloadError(key, f"must be a whole number, got {value!r}")
    return int(number)


def _dec(data: Mapping[str, Any], key: str, default: Any) -> Decimal | None:
    value = data.get(key, default)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise WorkloadError(key, "must be a number")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise WorkloadError(key, f"must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise WorkloadError(key, "must be a finite number")
    return number


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
        automatic_retention_seconds=_int(data, "automatic_retention_seconds", 0)
        if retention
        else None,
    )
    workload.validate()
    return workload
