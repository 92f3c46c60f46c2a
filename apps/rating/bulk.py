"""The bulk path: millions of records against many price versions at once, vectorized.

Same rules as ``engine.rate_record``, and the same answer to the last digit. Within one
price version, every record that shares (long-context or not, service tier, region,
time band) pays the same unit price per meter, and cost is linear in tokens. So the bulk
path sums INTEGER tokens per such group with NumPy (``bincount``; float64 holds integer
sums exactly below 2**53 tokens, which is checked), asks the very same
``engine.effective_rates`` for each group's unit prices, and multiplies the few group
sums by those prices in ``Decimal``. No rule is written twice and no float touches money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from .book import PriceBook
from .engine import (
    MILLION,
    MONEY_CONTEXT,
    ONE,
    PROMPT_METERS,
    SERVICE_TIERS,
    STORAGE_METER,
    THOUSAND,
    TOKEN_METERS,
    ZERO,
    PriceSheet,
    UnpricedError,
    UsageRecord,
    effective_rates,
)
from .summary import NO_MODEL, NO_MODEL_ID, decimal_str

N_METERS = len(TOKEN_METERS)


def _times(price: Decimal | None, multiplier: Decimal) -> Decimal | None:
    return None if price is None else MONEY_CONTEXT.multiply(price, multiplier)


_PROMPT_IDX = [TOKEN_METERS.index(m) for m in PROMPT_METERS]
_TIER_CODE = {t: i for i, t in enumerate(SERVICE_TIERS)}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXACT_LIMIT = float(2**53)


@dataclass(slots=True)
class RecordColumns:
    """Records as columns. ``tokens`` is (n, len(TOKEN_METERS)) in TOKEN_METERS order."""

    models: list[str]  # raw model ids by code
    model_code: np.ndarray  # int32, index into models
    ts: np.ndarray  # int64 epoch seconds (UTC)
    tokens: np.ndarray  # int64 (n, N_METERS)
    tier_code: np.ndarray  # int8, index into SERVICE_TIERS
    regions: list[str]
    region_code: np.ndarray  # int16, index into regions
    web_search: np.ndarray  # int64
    requests: np.ndarray  # int64
    long_flag: np.ndarray | None = None  # int8: -1 unknown, 0 no, 1 yes (the source's own flag)
    storage: np.ndarray | None = None  # object (Decimal token-hours), None when none has any
    _prompt: np.ndarray | None = field(default=None, repr=False)
    _tokens_t: np.ndarray | None = field(default=None, repr=False)
    _base: np.ndarray | None = field(default=None, repr=False)
    _active: list[int] | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.ts.shape[0])

    @property
    def prompt(self) -> np.ndarray:
        if self._prompt is None:
            self._prompt = self.tokens[:, _PROMPT_IDX].sum(axis=1)
        return self._prompt

    @property
    def tokens_t(self) -> np.ndarray:
        """Tokens per meter as contiguous float64 rows (bincount weights), computed once."""
        if self._tokens_t is None:
            self._tokens_t = np.ascontiguousarray(self.tokens.T, dtype=np.float64)
        return self._tokens_t

    @property
    def base_code(self) -> np.ndarray:
        """tier x region code per record, the sheet-independent part of the price group."""
        if self._base is None:
            self._base = self.tier_code.astype(np.int64) * len(self.regions) + self.region_code
        return self._base

    @property
    def active_meters(self) -> list[int]:
        """Meters with any tokens at all; the others cost nothing to skip."""
        if self._active is None:
            self._active = [m for m in range(N_METERS) if self.tokens[:, m].any()]
        return self._active

    @classmethod
    def from_records(cls, records: Sequence[UsageRecord]) -> RecordColumns:
        models: dict[str, int] = {}
        regions: dict[str, int] = {"": 0}
        n = len(records)
        model_code = np.empty(n, dtype=np.int32)
        ts = np.empty(n, dtype=np.int64)
        tokens = np.empty((n, N_METERS), dtype=np.int64)
        tier = np.empty(n, dtype=np.int8)
        region = np.empty(n, dtype=np.int16)
        web = np.empty(n, dtype=np.int64)
        req = np.empty(n, dtype=np.int64)
        flag = np.full(n, -1, dtype=np.int8)
        storage = np.array([r.cache_storage_token_hours for r in records], dtype=object)
        for i, r in enumerate(records):
            if r.long_context is not None:
                flag[i] = int(r.long_context)
            model_code[i] = models.setdefault(r.model, len(models))
            ts[i] = int((r.timestamp - EPOCH).total_seconds())
            tokens[i] = [r.tokens(m) for m in TOKEN_METERS]
            tier[i] = _TIER_CODE[r.service_tier]
            region[i] = regions.setdefault(r.region, len(regions))
            web[i] = r.web_search_calls
            req[i] = r.requests
        return cls(
            list(models), model_code, ts, tokens, tier, list(regions), region, web, req, flag,
            storage if storage.any() else None,
        )  # fmt: skip


@dataclass(slots=True)
class SheetTotals:
    """Exact totals of the records priced under one sheet."""

    sheet: PriceSheet
    records: int = 0
    requests: int = 0
    tokens: list[int] = field(default_factory=lambda: [0] * N_METERS)
    meters: dict[str, Decimal] = field(default_factory=dict)
    web_search_calls: int = 0
    long_context_records: int = 0
    refused: int = 0  # records this sheet cannot price (a meter or tier without a price)
    refused_mask: np.ndarray | None = None  # over the rows given, when any were refused
    missing_fee_calls: int = 0

    @property
    def cost(self) -> Decimal:
        total = ZERO
        for amount in self.meters.values():
            total = MONEY_CONTEXT.add(total, amount)
        return total


@dataclass(slots=True)
class BulkResult:
    per_sheet: list[SheetTotals]
    unknown_records: int = 0  # unknown model or before its first version

    @property
    def total(self) -> Decimal:
        total = ZERO
        for s in self.per_sheet:
            total = MONEY_CONTEXT.add(total, s.cost)
        return total

    @property
    def unpriced_records(self) -> int:
        return self.unknown_records + sum(s.refused for s in self.per_sheet)

    def meter_totals(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for s in self.per_sheet:
            for meter, amount in s.meters.items():
                out[meter] = MONEY_CONTEXT.add(out.get(meter, ZERO), amount)
        return out


def _band_index(sheet: PriceSheet, ts: np.ndarray) -> np.ndarray | None:
    """0 for no band, else 1 + the index of the first matching band (UTC)."""
    if not sheet.time_bands:
        return None
    minute = (ts // 60) % 1440
    weekday = ((ts // 86400) + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    index = np.zeros(ts.shape[0], dtype=np.int64)
    for b, band in enumerate(sheet.time_bands, start=1):
        hit = (minute >= band.start_minute) & (minute < band.end_minute) & (index == 0)
        if band.weekdays is not None:
            hit &= np.isin(weekday, list(band.weekdays))
        index[hit] = b
    return index


def _long_mask(sheet: PriceSheet, cols: RecordColumns, rows: np.ndarray | slice) -> np.ndarray:
    """Same rule as engine.LongContextTier.applies, on columns."""
    lc = sheet.long_context
    if lc is None:
        return np.zeros(cols.ts[rows].shape[0], dtype=bool)
    if lc.counts == frozenset(PROMPT_METERS):
        prompt = cols.prompt[rows]
    else:
        idx = [TOKEN_METERS.index(m) for m in PROMPT_METERS if m in lc.counts]
        prompt = cols.tokens[rows][:, idx].sum(1)
    requests = cols.requests[rows]
    limit = lc.threshold * np.maximum(requests, 1)
    long = (prompt >= limit) if lc.inclusive else (prompt > limit)
    long &= requests != 0
    if cols.long_flag is not None:
        flag = cols.long_flag[rows]
        long = np.where(flag >= 0, flag == 1, long)
    result: np.ndarray = long
    return result


def _total_sheet(sheet: PriceSheet, cols: RecordColumns, rows: np.ndarray | slice) -> SheetTotals:
    """Exact totals of ``rows`` under ``sheet``: integer token sums per price group, times Decimal rates."""
    out = SheetTotals(sheet)
    tokens = cols.tokens[rows]
    n = tokens.shape[0]
    if n == 0:
        return out
    long = _long_mask(sheet, cols, rows)
    bands = _band_index(sheet, cols.ts[rows])
    n_regions = len(cols.regions)
    n_bands = len(sheet.time_bands) + 1
    group = cols.base_code[rows] * 2 + long
    if bands is not None:
        group = group * n_bands + bands
    size = len(SERVICE_TIERS) * n_regions * 2 * n_bands
    present = np.nonzero(np.bincount(group, minlength=size))[0]

    # unit prices per present group; None marks a meter without a price
    rates: dict[int, list[Decimal | None] | None] = {}
    for g in present.tolist():
        rest, band_no = (g // n_bands, g % n_bands) if bands is not None else (g, 0)
        is_long, rest = bool(rest % 2), rest // 2
        region, tier = cols.regions[rest % n_regions], SERVICE_TIERS[rest // n_regions]
        try:
            unit = effective_rates(sheet, tier=tier, long=is_long, region=region)
        except UnpricedError:
            rates[g] = None
            continue
        mult = sheet.time_bands[band_no - 1].multiplier if band_no else ONE
        rates[g] = [_times(unit[m], mult) for m in TOKEN_METERS]

    # records that use a meter (or tier) without a price are refused, never priced at $0
    refused_groups = [g for g, r in rates.items() if r is None]
    active = cols.active_meters
    holes = {g: [i for i in active if r[i] is None] for g, r in rates.items() if r is not None}
    holes = {g: h for g, h in holes.items() if h}
    bad = np.isin(group, refused_groups) if refused_groups else np.zeros(n, dtype=bool)
    for g, meters in holes.items():
        bad |= (group == g) & (tokens[:, meters] > 0).any(axis=1)
    storage = None if cols.storage is None else cols.storage[rows]
    if storage is not None and sheet.storage_per_mtok_hour is None:
        bad |= storage != 0  # as engine.rate_record: storage without a price is unpriced
    sentinel = size
    if bad.any():
        group = np.where(bad, sentinel, group)
        out.refused = int(bad.sum())
        out.refused_mask = bad
    counts = np.bincount(group, minlength=size + 1)
    out.records = int(n - out.refused)
    requests = cols.requests[rows]
    out.requests = int(requests[~bad].sum())
    out.long_context_records = int((long & ~bad).sum())
    weights = cols.tokens_t
    sums = {
        m: np.bincount(group, weights=weights[m][rows], minlength=size + 1)
        for m in cols.active_meters
    }
    for m, meter in enumerate(TOKEN_METERS):
        if m not in sums:
            continue
        if sums[m].max(initial=0) >= _EXACT_LIMIT:  # pragma: no cover - 9e15 tokens in one group
            raise OverflowError("token sum too large for exact float64 accumulation")
        amount = ZERO
        total_tokens = 0
        for g in present.tolist():
            sheet_rates = rates[g]
            price = sheet_rates[m] if sheet_rates is not None else None
            tok = int(sums[m][g])
            if not tok or counts[g] == 0:
                continue
            total_tokens += tok
            if price is None:
                continue  # only refused records use it, and they were moved to the sentinel
            amount = MONEY_CONTEXT.add(amount, MONEY_CONTEXT.multiply(Decimal(tok), price))
        out.tokens[m] = total_tokens
        if total_tokens:
            out.meters[meter] = MONEY_CONTEXT.divide(amount, MILLION)
    web = cols.web_search[rows]
    calls = int(web[~bad].sum()) if web.any() else 0
    out.web_search_calls = calls
    if calls:
        fee = sheet.call_fees.get("web_search")
        if fee is None:
            out.missing_fee_calls = calls
        else:
            out.meters["web_search"] = MONEY_CONTEXT.divide(
                MONEY_CONTEXT.multiply(Decimal(calls), fee), THOUSAND
            )
    if storage is not None and sheet.storage_per_mtok_hour is not None:
        hours = ZERO
        for value in storage[~bad].tolist():
            hours = MONEY_CONTEXT.add(hours, value)
        if hours:
            out.meters[STORAGE_METER] = MONEY_CONTEXT.divide(
                MONEY_CONTEXT.multiply(hours, sheet.storage_per_mtok_hour), MILLION
            )
    return out


def rate_matrix(cols: RecordColumns, sheets: Sequence[PriceSheet]) -> BulkResult:
    """Reprice every record under every sheet (what-if across versions and models)."""
    everything = slice(None)
    return BulkResult([_total_sheet(sheet, cols, everything) for sheet in sheets])


def assign_sheets(
    cols: RecordColumns, book: PriceBook, *, at: datetime | None = None
) -> tuple[list[PriceSheet], np.ndarray]:
    """Per record, the index of its sheet in the returned list (-1: unknown model or too early)."""
    sheets: list[PriceSheet] = []
    index: dict[str, int] = {}
    sheet_of = np.full(cols.n, -1, dtype=np.int64)
    at_ts = None if at is None else int((at - EPOCH).total_seconds())
    for code, raw in enumerate(cols.models):
        model = book.resolve(raw)
        if model is None:
            continue
        mine = np.nonzero(cols.model_code == code)[0]
        versions = book.sheets[model]
        starts = np.array([int((s.effective_from - EPOCH).total_seconds()) for s in versions])
        when = cols.ts[mine] if at_ts is None else np.full(mine.shape[0], at_ts)
        pos = np.searchsorted(starts, when, side="right") - 1
        for p in np.unique(pos).tolist():
            if p < 0:
                continue
            key = str(versions[p].version_id)
            if key not in index:
                index[key] = len(sheets)
                sheets.append(versions[p])
            sheet_of[mine[pos == p]] = index[key]
    return sheets, sheet_of


def rate_time_of_use(
    cols: RecordColumns, book: PriceBook, *, at: datetime | None = None
) -> BulkResult:
    """Price each record under the version in effect at its own timestamp (or at ``at``)."""
    sheets, sheet_of = assign_sheets(cols, book, at=at)
    order = np.argsort(sheet_of, kind="stable")
    bounds = np.searchsorted(sheet_of[order], np.arange(-1, len(sheets) + 1))
    per_sheet = [
        _total_sheet(s, cols, order[bounds[j + 1] : bounds[j + 2]]) for j, s in enumerate(sheets)
    ]
    return BulkResult(per_sheet, unknown_records=int(bounds[1] - bounds[0]))


def summarize_time_of_use(
    cols: RecordColumns, book: PriceBook, *, at: datetime | None = None
) -> dict[str, Any]:
    """The same JSON shape as ``summary.RatingSummary.as_dict`` (by_model, total, unpriced), exact."""
    sheets, sheet_of = assign_sheets(cols, book, at=at)
    order = np.argsort(sheet_of, kind="stable")
    bounds = np.searchsorted(sheet_of[order], np.arange(-1, len(sheets) + 1))
    by_model: dict[tuple[str, str], dict[str, Any]] = {}
    unpriced_models: set[str] = set()
    reasons: dict[str, int] = {}
    unpriced_requests = 0
    unpriced_tokens = 0
    for j, sheet in enumerate(sheets):
        rows = order[bounds[j + 1] : bounds[j + 2]]
        totals = _total_sheet(sheet, cols, rows)
        key = (sheet.provider, sheet.model)
        row = by_model.setdefault(
            key,
            {
                "provider": sheet.provider,
                "model": sheet.model,
                "requests": 0,
                **{f"{m}_tokens": 0 for m in TOKEN_METERS},
                "web_search_calls": 0,
                "_cost": ZERO,
                "_meters": {},
                "long_context_requests": 0,
                "price_versions": set(),
            },
        )
        row["requests"] += totals.requests
        row["web_search_calls"] += totals.web_search_calls
        row["long_context_requests"] += totals.long_context_records
        row["price_versions"].add(str(sheet.version_id))
        row["_cost"] = MONEY_CONTEXT.add(row["_cost"], totals.cost)
        for meter, amount in totals.meters.items():
            row["_meters"][meter] = MONEY_CONTEXT.add(row["_meters"].get(meter, ZERO), amount)
        if totals.refused:
            refused_rows = rows[totals.refused_mask]
            for m, meter in enumerate(TOKEN_METERS):
                row[f"{meter}_tokens"] += int(
                    cols.tokens[rows, m].sum() - cols.tokens[refused_rows, m].sum()
                )
            reason = f"no price for a meter or service tier used on {sheet.model}"
            reasons[reason] = reasons.get(reason, 0) + totals.refused
            unpriced_models.add(sheet.model)
            unpriced_requests += int(cols.requests[refused_rows].sum())
            unpriced_tokens += int(cols.tokens[refused_rows].sum())
        else:
            for m, meter in enumerate(TOKEN_METERS):
                row[f"{meter}_tokens"] += totals.tokens[m]
    unknown = order[bounds[0] : bounds[1]]
    if unknown.shape[0]:
        for code in np.unique(cols.model_code[unknown]).tolist():
            raw = cols.models[code]
            mine = unknown[cols.model_code[unknown] == code]
            if not raw.strip():
                reason, raw = NO_MODEL, NO_MODEL_ID
            elif book.resolve(raw) is None:
                reason = "unknown model"
            else:
                reason = "before the first price version"
            reasons[reason] = reasons.get(reason, 0) + int(mine.shape[0])
            unpriced_models.add(raw)
            unpriced_requests += int(cols.requests[mine].sum())
            unpriced_tokens += int(cols.tokens[mine].sum())
    rows_out = []
    total = ZERO
    for row in sorted(by_model.values(), key=lambda r: (-r["_cost"], r["provider"], r["model"])):
        cost, meters = row.pop("_cost"), row.pop("_meters")
        total = MONEY_CONTEXT.add(total, cost)
        row["cost_usd"] = decimal_str(cost)
        row["cost_by_meter_usd"] = {m: decimal_str(v) for m, v in meters.items()}
        row["price_versions"] = sorted(row["price_versions"])
        rows_out.append(row)
    return {
        "by_model": rows_out,
        "total_cost_usd": decimal_str(total),
        "unpriced": {
            "requests": unpriced_requests,
            "records": int(sum(reasons.values())),
            "tokens": unpriced_tokens,
            "models": sorted(unpriced_models),
            "reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        },
    }
