"""The rating engine: turns normalized usage records into money, exactly.

Pure Python, no Django. Every amount is a ``Decimal``; prices are USD per million tokens
(fees: USD per 1,000 calls; explicit-cache storage: USD per million token-hours).

The rules, each with its source in ``docs/rating.md``:

* Token buckets never overlap: ``input`` is uncached input only; cache reads and cache
  writes (one bucket per retention) sit beside it. Importers convert each provider's own
  meaning of "input tokens" before records reach this module.
* Long-context tiers price the WHOLE request once the prompt (input + cache reads + cache
  writes, unless the tier says otherwise) passes the provider's threshold: Anthropic
  Sonnet 4/4.5 over 200K, OpenAI GPT-5.4+ over 272K, Haiku 5.5 over 100K, xAI at 200K.
* Service tiers (batch, flex, priority, fast) multiply the rate of every meter (or use an
  explicit per-tier price), stacked on long-context and cache prices; a tier may be
  marked as not discounting cache meters.
* Regional multipliers and time-of-day bands (UTC) multiply every token meter.
* A record whose model, version, tier or meter has no price is UNPRICED, never $0.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1_000)
ZERO = Decimal(0)
ONE = Decimal(1)

# Exact arithmetic: 40 significant digits is far beyond any token count times any price.
MONEY_CONTEXT = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN)

CACHE_WRITE_RETENTIONS: tuple[str, ...] = ("5m", "30m", "1h", "12h", "24h")
CACHE_WRITE_METERS: tuple[str, ...] = tuple(f"cache_write_{r}" for r in CACHE_WRITE_RETENTIONS)
PROMPT_METERS: tuple[str, ...] = ("input", "cache_read", *CACHE_WRITE_METERS)
TOKEN_METERS: tuple[str, ...] = (*PROMPT_METERS, "output")
CACHE_METERS: frozenset[str] = frozenset({"cache_read", *CACHE_WRITE_METERS})
INPUT_SIDE_METERS: frozenset[str] = frozenset(PROMPT_METERS)
FEE_METERS: tuple[str, ...] = ("web_search",)
STORAGE_METER = "cache_storage"

SERVICE_TIERS: tuple[str, ...] = ("standard", "batch", "flex", "priority", "fast")
GLOBAL_REGIONS: frozenset[str] = frozenset({"", "global", "default", "not_available"})
ANY_REGION = "*"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One priced unit of usage (a request, or an aggregate bucket) with disjoint buckets."""

    provider: str
    model: str
    timestamp: datetime
    session_id: str = ""
    request_id: str = ""
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_30m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_write_12h_tokens: int = 0
    cache_write_24h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    service_tier: str = "standard"
    region: str = ""
    web_search_calls: int = 0
    cache_storage_token_hours: Decimal = ZERO
    billed_cost_usd: Decimal | None = None
    requests: int = 1
    # The source's own long-context flag (Anthropic reports' context_window "200k-1M").
    # None: decide from the prompt size.
    long_context: bool | None = None

    def tokens(self, meter: str) -> int:
        count: int = getattr(self, f"{meter}_tokens")
        return count

    @property
    def prompt_tokens(self) -> int:
        return sum(self.tokens(m) for m in PROMPT_METERS)


# --------------------------------------------------------------------------- price sheets


@dataclass(frozen=True, slots=True)
class LongContextTier:
    """Whole-request pricing once the prompt passes ``threshold`` tokens."""

    threshold: int
    inclusive: bool = False  # True: a prompt of exactly `threshold` tokens is already long
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    # For meters without an explicit long rate: input-side meters x input_multiplier,
    # output x output_multiplier (OpenAI >272K: 2x input and cache, 1.5x output).
    input_multiplier: Decimal | None = None
    output_multiplier: Decimal | None = None
    counts: frozenset[str] = INPUT_SIDE_METERS

    def applies(self, record: UsageRecord) -> bool:
        """Whether the request (or every request of an aggregate) is long-context.

        An aggregate of n requests is judged on its mean prompt (its total prompt against n
        thresholds): a day of short requests must not pay long-context prices because their
        sum is large. An aggregate whose request count is unknown (0) is long only when the
        source says so.
        """
        if record.long_context is not None:
            return record.long_context
        if record.requests == 0:
            return False
        size = sum(record.tokens(m) for m in self.counts)
        limit = self.threshold * max(record.requests, 1)
        return size >= limit if self.inclusive else size > limit

    def rate(self, meter: str, base: Decimal | None) -> Decimal | None:
        if meter in self.rates:
            return self.rates[meter]
        if base is None:
            return None
        mult = self.output_multiplier if meter == "output" else self.input_multiplier
        if mult is None:
            return None
        return MONEY_CONTEXT.multiply(base, mult)


@dataclass(frozen=True, slots=True)
class TimeBand:
    """A UTC time-of-day window with its own multiplier (DeepSeek off-peak = 0.5)."""

    start_minute: int  # inclusive, minutes after 00:00 UTC
    end_minute: int  # exclusive, up to 1440
    multiplier: Decimal
    label: str = ""
    weekdays: frozenset[int] | None = None  # 0 = Monday; None = every day

    def contains(self, when: datetime) -> bool:
        if self.weekdays is not None and when.weekday() not in self.weekdays:
            return False
        minute = when.hour * 60 + when.minute
        return self.start_minute <= minute < self.end_minute


@dataclass(frozen=True, slots=True, eq=False)
class PriceSheet:
    """One published (or draft) price version of one model, as the engine sees it.

    Compared and hashed by identity, so derived unit prices can be cached per sheet.
    """

    version_id: str
    provider: str
    model: str
    effective_from: datetime
    rates: Mapping[str, Decimal]
    long_context: LongContextTier | None = None
    tier_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    tier_rates: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    tiers_exempting_cache: frozenset[str] = frozenset()
    region_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    time_bands: tuple[TimeBand, ...] = ()
    call_fees: Mapping[str, Decimal] = field(default_factory=dict)
    storage_per_mtok_hour: Decimal | None = None

    def offers_tier(self, tier: str) -> bool:
        return tier == "standard" or tier in self.tier_multipliers or tier in self.tier_rates

    def region_multiplier(self, region: str) -> Decimal:
        region = (region or "").strip().lower()
        if region in GLOBAL_REGIONS:
            return ONE
        if region in self.region_multipliers:
            return self.region_multipliers[region]
        return self.region_multipliers.get(ANY_REGION, ONE)

    def band(self, when: datetime) -> TimeBand | None:
        for band in self.time_bands:
            if band.contains(when):
                return band
        return None


class UnpricedError(ValueError):
    """Raised internally when a rate is missing; surfaces as an unpriced record."""


@functools.lru_cache(maxsize=8192)
def _cached_rates(
    sheet: PriceSheet, tier: str, long: bool, region: str
) -> dict[str, Decimal | None] | UnpricedError:
    try:
        return _effective_rates(sheet, tier=tier, long=long, region=region)
    except UnpricedError as exc:
        return exc


def effective_rates(
    sheet: PriceSheet, *, tier: str, long: bool, region: str
) -> dict[str, Decimal | None]:
    """Unit price per token meter for one combination of modifiers (band excluded).

    ``None`` marks a meter with no price in this sheet. Raises UnpricedError when the
    tier is not offered. Cached per (sheet, tier, long, region); callers must not mutate
    the result.
    """
    result = _cached_rates(sheet, tier, long, region)
    if isinstance(result, UnpricedError):
        raise result
    return result


def _effective_rates(
    sheet: PriceSheet, *, tier: str, long: bool, region: str
) -> dict[str, Decimal | None]:
    if not sheet.offers_tier(tier):
        raise UnpricedError(f"service tier '{tier}' has no price for {sheet.model}")
    region_mult = sheet.region_multiplier(region)
    explicit = sheet.tier_rates.get(tier, {})
    tier_mult = sheet.tier_multipliers.get(tier, ONE)
    out: dict[str, Decimal | None] = {}
    for meter in TOKEN_METERS:
        base = sheet.rates.get(meter)
        rate = base
        if long and sheet.long_context is not None:
            rate = sheet.long_context.rate(meter, base)
        if rate is None:
            out[meter] = None
            continue
        if tier != "standard" and not (
            meter in CACHE_METERS and tier in sheet.tiers_exempting_cache
        ):
            if meter in explicit:
                if long and base:
                    # explicit tier price: keep its ratio to the standard price on long requests
                    rate = MONEY_CONTEXT.multiply(rate, MONEY_CONTEXT.divide(explicit[meter], base))
                else:
                    rate = explicit[meter]
            else:
                rate = MONEY_CONTEXT.multiply(rate, tier_mult)
        out[meter] = MONEY_CONTEXT.multiply(rate, region_mult)
    return out


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class LineItem:
    meter: str
    quantity: Decimal  # tokens, calls or token-hours
    unit: str  # "MTok", "1K calls", "MTok-hour"
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RatedRecord:
    record: UsageRecord
    sheet: PriceSheet
    items: tuple[LineItem, ...]
    total: Decimal
    long_context: bool
    band: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unpriced:
    record: UsageRecord
    reason: str


def rate_record(record: UsageRecord, sheet: PriceSheet) -> RatedRecord | Unpriced:
    """Price one record under one price sheet. Exact: no rounding anywhere."""
    tier = record.service_tier or "standard"
    long = sheet.long_context is not None and sheet.long_context.applies(record)
    try:
        rates = effective_rates(sheet, tier=tier, long=long, region=record.region)
    except UnpricedError as exc:
        return Unpriced(record, str(exc))
    band = sheet.band(record.timestamp)
    band_mult = band.multiplier if band else ONE
    ctx = MONEY_CONTEXT
    items: list[LineItem] = []
    total = ZERO
    for meter in TOKEN_METERS:
        tokens = record.tokens(meter)
        if not tokens:
            continue
        rate = rates[meter]
        if rate is None:
            return Unpriced(record, f"no {meter} price for {sheet.model}")
        unit_price = ctx.multiply(rate, band_mult)
        amount = ctx.divide(ctx.multiply(Decimal(tokens), unit_price), MILLION)
        items.append(LineItem(meter, Decimal(tokens), "MTok", unit_price, amount))
        total = ctx.add(total, amount)
    warnings: list[str] = []
    if record.web_search_calls:
        fee = sheet.call_fees.get("web_search")
        if fee is None:
            warnings.append(f"no published web_search fee for {sheet.model}")
        else:
            calls = Decimal(record.web_search_calls)
            amount = ctx.divide(ctx.multiply(calls, fee), THOUSAND)
            items.append(LineItem("web_search", calls, "1K calls", fee, amount))
            total = ctx.add(total, amount)
    if record.cache_storage_token_hours:
        if sheet.storage_per_mtok_hour is None:
            return Unpriced(record, f"no explicit-cache storage price for {sheet.model}")
        hours = record.cache_storage_token_hours
        amount = ctx.divide(ctx.multiply(hours, sheet.storage_per_mtok_hour), MILLION)
        items.append(
            LineItem(STORAGE_METER, hours, "MTok-hour", sheet.storage_per_mtok_hour, amount)
        )
        total = ctx.add(total, amount)
    return RatedRecord(
        record=record,
        sheet=sheet,
        items=tuple(items),
        total=total,
        long_context=long,
        band=band.label if band else "",
        warnings=tuple(warnings),
    )


def sum_amounts(amounts: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for amount in amounts:
        total = MONEY_CONTEXT.add(total, amount)
    return total
