"""The price list (/prices/): one row per model with prices in effect, filtered and sorted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.catalog.display import METER_LABELS, METER_ORDER, multiplier_display, tokens_display
from apps.catalog.models import LanguageModel, PriceVersion
from apps.catalog.selectors import models_with_current_version
from apps.catalog.version_data import base_rates
from apps.common.display import unit_price
from apps.common.tables import parse_sort, sort_missing_last

BASE_METERS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
# Retentions only some providers sell; their columns appear only when a listed model has one.
OPTIONAL_METERS = ("cache_write_30m", "cache_write_12h", "cache_write_24h")
# Sort keys of the price list besides the meters: the query parameter value -> column label.
OTHER_SORT_KEYS = {
    "name": "Model",
    "provider": "Provider",
    "context_window": "Context",
    "long_context": "Long context above",
    "batch": "Batch ×",
    "effective_from": "Since",
}
SORT_KEYS = frozenset((*METER_ORDER, *OTHER_SORT_KEYS))


@dataclass(frozen=True)
class PriceCell:
    value: Decimal | None
    display: str


@dataclass(frozen=True)
class PriceRow:
    model: LanguageModel
    version: PriceVersion
    rates: dict[str, Decimal]
    cells: tuple[PriceCell, ...]

    @property
    def long_context_display(self) -> str:
        return tokens_display(self.version.long_context_threshold)

    @property
    def batch_display(self) -> str:
        return multiplier_display(self.version.batch_multiplier)

    @property
    def context_display(self) -> str:
        return tokens_display(self.model.context_window)

    def sort_value(self, key: str) -> Any:
        """The value ``key`` sorts by; None sorts last in both directions."""
        if key in METER_ORDER:
            return self.rates.get(key)
        if key == "name":
            return (self.model.name.casefold(), self.model.slug)
        if key == "provider":
            return (self.model.provider.name.casefold(), self.model.name.casefold())
        if key == "context_window":
            return self.model.context_window
        if key == "long_context":
            return self.version.long_context_threshold
        if key == "batch":
            return self.version.batch_multiplier
        if key == "effective_from":
            return self.version.effective_from
        raise KeyError(key)


@dataclass(frozen=True)
class PriceTable:
    meters: tuple[str, ...]
    rows: list[PriceRow]
    sort: str  # the normalised sort parameter actually applied ("" = default order)

    @property
    def meter_labels(self) -> list[tuple[str, str]]:
        return [(m, METER_LABELS[m]) for m in self.meters]


def parse_price_sort(raw: str | None) -> tuple[str, bool]:
    """``-input`` -> ("input", True). Unknown keys give ("", False): the default order."""
    return parse_sort(raw, SORT_KEYS, "")


def sort_price_rows(rows: list[PriceRow], sort: str | None) -> list[PriceRow]:
    """Rows ordered by ``sort`` (``key`` or ``-key``); rows missing the value always come last.

    Ties keep the provider/name order, the default.
    """
    key, descending = parse_price_sort(sort)
    by_name = sorted(rows, key=lambda r: r.sort_value("provider"))
    if not key:
        return by_name
    return sort_missing_last(by_name, lambda r: r.sort_value(key), descending=descending)


def price_table(
    *,
    provider: str | None = None,
    query: str | None = None,
    sort: str | None = None,
    when: datetime | None = None,
) -> PriceTable:
    """Every model with prices in effect at ``when`` (default now), filtered and sorted.

    A fixed number of queries whatever the number of models (see models_with_current_version).
    """
    pairs = models_with_current_version(when=when, provider=provider, query=query)
    rates = [(m, v, base_rates(v)) for m, v in pairs]
    present = {meter for _, _, r in rates for meter in r}
    meters = tuple(m for m in METER_ORDER if m in BASE_METERS or m in present)
    rows = [
        PriceRow(
            model=m,
            version=v,
            rates=r,
            cells=tuple(PriceCell(r.get(meter), unit_price(r.get(meter))) for meter in meters),
        )
        for m, v, r in rates
    ]
    key, descending = parse_price_sort(sort)
    applied = f"{'-' if descending else ''}{key}" if key else ""
    return PriceTable(meters=meters, rows=sort_price_rows(rows, applied), sort=applied)
