"""Rating many records: price at time of use or reprice, totals per model, unpriced, reconciliation.

Pure Python. The same aggregation serves ``rate_usage``, the importers and the pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.common.display import plain_decimal

from .book import PriceBook
from .engine import (
    FEE_METERS,
    MONEY_CONTEXT,
    STORAGE_METER,
    TOKEN_METERS,
    ZERO,
    PriceSheet,
    RatedRecord,
    Unpriced,
    UsageRecord,
    rate_record,
)

BUCKET_FIELDS: tuple[str, ...] = (
    *(f"{m}_tokens" for m in TOKEN_METERS),
    "reasoning_tokens",
    "web_search_calls",
)
SAMPLE_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Pricing:
    """How to choose a sheet per record: at time of use (default), at one instant, or one version."""

    at: datetime | None = None
    version_id: str | None = None

    @property
    def mode(self) -> str:
        if self.version_id is not None:
            return "version"
        return "at" if self.at is not None else "time_of_use"


@dataclass(slots=True)
class ModelTotals:
    provider: str
    model: str
    requests: int = 0
    buckets: Counter[str] = field(default_factory=Counter)
    meters: dict[str, Decimal] = field(default_factory=dict)
    cost: Decimal = ZERO
    versions: set[str] = field(default_factory=set)
    billed: Decimal = ZERO
    computed_where_billed: Decimal = ZERO
    billed_requests: int = 0
    long_context_requests: int = 0

    def add(self, rated: RatedRecord) -> None:
        record = rated.record
        self.requests += record.requests
        for name in BUCKET_FIELDS:
            value = getattr(record, name)
            if value:
                self.buckets[name] += value
        for item in rated.items:
            self.meters[item.meter] = MONEY_CONTEXT.add(
                self.meters.get(item.meter, ZERO), item.amount
            )
        self.cost = MONEY_CONTEXT.add(self.cost, rated.total)
        self.versions.add(str(rated.sheet.version_id))
        if rated.long_context:
            self.long_context_requests += record.requests
        if record.billed_cost_usd is not None:
            self.billed = MONEY_CONTEXT.add(self.billed, record.billed_cost_usd)
            self.computed_where_billed = MONEY_CONTEXT.add(self.computed_where_billed, rated.total)
            self.billed_requests += record.requests

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "requests": self.requests,
        }
        for name in BUCKET_FIELDS:
            row[name] = self.buckets.get(name, 0)
        row["cost_usd"] = decimal_str(self.cost)
        row["cost_by_meter_usd"] = {
            m: decimal_str(self.meters[m])
            for m in (*TOKEN_METERS, *FEE_METERS, STORAGE_METER)
            if m in self.meters
        }
        row["long_context_requests"] = self.long_context_requests
        row["price_versions"] = sorted(self.versions)
        return row


@dataclass(slots=True)
class UnpricedTotals:
    requests: int = 0
    records: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    models: set[str] = field(default_factory=set)
    tokens: int = 0

    def add(self, record: UsageRecord, reason: str) -> None:
        self.requests += record.requests
        self.records += 1
        self.reasons[reason] += 1
        self.models.add(record.model if record.model.strip() else NO_MODEL_ID)
        self.tokens += sum(record.tokens(m) for m in TOKEN_METERS)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "records": self.records,
            "tokens": self.tokens,
            "models": sorted(self.models),
            "reasons": dict(self.reasons.most_common()),
        }


@dataclass(slots=True)
class RatingSummary:
    pricing: Pricing
    by_model: dict[tuple[str, str], ModelTotals] = field(default_factory=dict)
    unpriced: UnpricedTotals = field(default_factory=UnpricedTotals)
    warnings: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> Decimal:
        total = ZERO
        for row in self.by_model.values():
            total = MONEY_CONTEXT.add(total, row.cost)
        return total

    def reconciliation(self) -> list[dict[str, Any]]:
        rows = []
        for row in self.by_model.values():
            if not row.billed_requests:
                continue
            diff = MONEY_CONTEXT.subtract(row.computed_where_billed, row.billed)
            rows.append(
                {
                    "provider": row.provider,
                    "model": row.model,
                    "requests": row.billed_requests,
                    "computed_usd": decimal_str(row.computed_where_billed),
                    "billed_usd": decimal_str(row.billed),
                    "difference_usd": decimal_str(diff),
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        rows = sorted(self.by_model.values(), key=lambda r: (-r.cost, r.provider, r.model))
        return {
            "pricing": {
                "mode": self.pricing.mode,
                "at": self.pricing.at.isoformat() if self.pricing.at else None,
                "version": self.pricing.version_id,
            },
            "by_model": [r.as_dict() for r in rows],
            "total_cost_usd": decimal_str(self.total),
            "unpriced": self.unpriced.as_dict(),
            "reconciliation": self.reconciliation(),
            "warnings": dict(self.warnings),
        }


# Usage whose source names no model (an OpenAI Usage API export not grouped by model)
decimal_str = plain_decimal  # the JSON's decimal strings: the site's one decimal formatter
NO_MODEL = "the source names no model (export it grouped by model)"
NO_MODEL_ID = "(no model)"  # how such records are listed among the unpriced model ids


def choose_sheet(book: PriceBook, record: UsageRecord, pricing: Pricing) -> PriceSheet | str:
    """The sheet for a record, or the reason there is none."""
    if pricing.version_id is not None:
        sheet = book.version(pricing.version_id)
        return sheet if sheet is not None else f"price version {pricing.version_id} not found"
    if not record.model.strip():
        return NO_MODEL
    model = book.resolve(record.model)
    if model is None:
        return f"unknown model {record.model}"
    when = pricing.at or record.timestamp
    sheet = book.sheet_at(model, when)
    if sheet is None:
        return f"no price for {model} before {when.date().isoformat()}"
    return sheet


def rate_all(
    records: Iterable[UsageRecord], book: PriceBook, pricing: Pricing | None = None
) -> RatingSummary:
    pricing = pricing or Pricing()
    summary = RatingSummary(pricing)
    by_model = summary.by_model
    for record in records:
        sheet = choose_sheet(book, record, pricing)
        if isinstance(sheet, str):
            summary.unpriced.add(record, _reason_kind(sheet))
            continue
        rated = rate_record(record, sheet)
        if isinstance(rated, Unpriced):
            summary.unpriced.add(record, rated.reason)
            continue
        if pricing.version_id is not None:
            resolved = book.resolve(record.model) or record.model
            key = (record.provider or sheet.provider, resolved)
        else:
            key = (sheet.provider, sheet.model)
        totals = by_model.get(key)
        if totals is None:
            totals = by_model[key] = ModelTotals(provider=key[0], model=key[1])
        totals.add(rated)
        for warning in rated.warnings:
            summary.warnings[warning] += 1
    return summary


def _reason_kind(reason: str) -> str:
    # Keep reasons short and countable; the ids themselves go in `models`.
    if reason.startswith("unknown model"):
        return "unknown model"
    if reason.startswith("no price for"):
        return "before the first price version"
    return reason
