"""One model's page (/prices/<provider>/<model>/): prices in effect, history, policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.catalog.diff import Change, price_changes
from apps.catalog.display import (
    METER_LABELS,
    METER_ORDER,
    WEEKDAY_NAMES,
    minute_display,
    multiplier_display,
    safe_link,
    tokens_display,
)
from apps.catalog.models import BatchPolicy, CachePolicy, LanguageModel, PriceVersion
from apps.catalog.pages.policies import (
    PolicyTable,
    batch_policy_fields,
    cache_policy_fields,
    policy_table,
)
from apps.catalog.selectors import model_history, policies, version_in_effect
from apps.catalog.version_data import base_rates, version_to_data
from apps.common.display import DASH, unit_price


@dataclass(frozen=True)
class HistoryEntry:
    version: PriceVersion
    rates: dict[str, Decimal]
    changes: list[Change]
    state: str  # "past", "current" or "scheduled"

    def price(self, meter: str) -> str:
        return unit_price(self.rates.get(meter))

    @property
    def input_display(self) -> str:
        return self.price("input")

    @property
    def output_display(self) -> str:
        return self.price("output")

    @property
    def cache_read_display(self) -> str:
        return self.price("cache_read")

    @property
    def source_link(self) -> str | None:
        return safe_link(self.version.source_url)


def history_entries(history: list[PriceVersion], when: datetime) -> list[HistoryEntry]:
    """Each published version with what changed from the one before it (oldest first)."""
    current = version_in_effect(history, when)
    entries = []
    previous = None
    for version in history:
        changes: list[Change] = [] if previous is None else price_changes(previous, version)
        if version == current:
            state = "current"
        elif version.effective_from > when:
            state = "scheduled"
        else:
            state = "past"
        entries.append(HistoryEntry(version, base_rates(version), changes, state))
        previous = version
    return entries


@dataclass(frozen=True)
class MeterLine:
    label: str
    price: str
    long_price: str
    long_note: str


@dataclass(frozen=True)
class ModelPage:
    """Everything the model detail page shows, read in a fixed number of queries."""

    model: LanguageModel
    history: list[PriceVersion]
    entries: list[HistoryEntry]
    current: PriceVersion | None
    meters: list[MeterLine]
    data: dict[str, Any] | None  # version_to_data(current)
    provider_cache: CachePolicy | None
    model_cache: CachePolicy | None
    provider_batch: BatchPolicy | None
    model_batch: BatchPolicy | None

    @property
    def aliases(self) -> list[str]:
        return [a.alias for a in self.model.aliases.all()]

    @property
    def source_link(self) -> str | None:
        return safe_link(self.current.source_url) if self.current else None

    @property
    def long_context(self) -> dict[str, Any] | None:
        return self.data["long_context"] if self.data else None

    @property
    def context_window_display(self) -> str:
        n = self.model.context_window
        return DASH if n is None else f"{n:,} tokens"

    @property
    def max_output_display(self) -> str:
        n = self.model.max_output_tokens
        return DASH if n is None else f"{n:,} tokens"

    @property
    def long_context_rule(self) -> str:
        """When the long-context prices apply, in words (they price the whole request)."""
        long = self.long_context
        if not long:
            return ""
        size = tokens_display(long["threshold"])
        if long["inclusive"]:
            return f"prompts of {size} tokens or more"
        return f"prompts over {size} tokens"

    @property
    def tiers(self) -> list[tuple[str, str]]:
        if not self.data:
            return []
        return [(name, multiplier_display(m)) for name, m in self.data["tiers"].items()]

    @property
    def tier_rates(self) -> list[tuple[str, list[tuple[str, str]]]]:
        if not self.data:
            return []
        return [
            (tier, [(METER_LABELS.get(m, m), unit_price(p)) for m, p in rates.items()])
            for tier, rates in self.data["tier_rates"].items()
        ]

    @property
    def regions(self) -> list[tuple[str, str]]:
        if not self.data:
            return []
        return [(region, multiplier_display(m)) for region, m in self.data["regions"].items()]

    @property
    def time_bands(self) -> list[dict[str, str]]:
        if not self.data:
            return []
        return [
            {
                "label": band["label"] or "band",
                "window": f"{minute_display(band['start'])}–{minute_display(band['end'])} UTC",
                "days": (
                    ", ".join(WEEKDAY_NAMES[d] for d in band["weekdays"])
                    if band["weekdays"] is not None
                    else "every day"
                ),
                "multiplier": multiplier_display(band["multiplier"]),
            }
            for band in self.data["time_bands"]
        ]

    @property
    def fees(self) -> list[tuple[str, str]]:
        if not self.data:
            return []
        return [(meter.replace("_", " "), unit_price(p)) for meter, p in self.data["fees"].items()]

    @property
    def cache_policy(self) -> PolicyTable:
        return policy_table(self.provider_cache, self.model_cache, cache_policy_fields)

    @property
    def batch_policy(self) -> PolicyTable:
        return policy_table(self.provider_batch, self.model_batch, batch_policy_fields)

    @property
    def storage(self) -> str:
        return unit_price(self.data["storage_per_mtok_hour"]) if self.data else DASH


def meter_lines(data: dict[str, Any]) -> list[MeterLine]:
    """Base and long-context price of each meter the version prices, in a fixed order."""
    rates, long = data["rates"], data["long_context"]
    lines = []
    for meter in METER_ORDER:
        base = rates.get(meter)
        long_price, note = None, ""
        if long:
            if meter in long["rates"]:
                long_price = long["rates"][meter]
            else:
                # Mirrors LongContextTier.rate: meters without an explicit long price use the
                # tier's input or output multiplier, or have no long-context price at all.
                mult = long["output_multiplier"] if meter == "output" else long["input_multiplier"]
                if base is not None and mult is not None:
                    long_price, note = base * mult, f"{multiplier_display(mult)} base"
        if base is None and long_price is None:
            continue
        lines.append(
            MeterLine(
                METER_LABELS[meter],
                unit_price(base),
                unit_price(long_price) if long else "",
                note,
            )
        )
    return lines


def model_page(model: LanguageModel, *, when: datetime | None = None) -> ModelPage:
    when = when or timezone.now()
    history = model_history(model)
    current = version_in_effect(history, when)
    data = version_to_data(current) if current else None
    provider_cache, model_cache = policies(model, CachePolicy)
    provider_batch, model_batch = policies(model, BatchPolicy)
    return ModelPage(
        model=model,
        history=history,
        entries=history_entries(history, when),
        current=current,
        meters=meter_lines(data) if data else [],
        data=data,
        provider_cache=provider_cache,
        model_cache=model_cache,
        provider_batch=provider_batch,
        model_batch=model_batch,
    )
