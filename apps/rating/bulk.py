"""The bulk path: millions of records against many price versions at once, vectorized.

Same rules as ``engine.rate_record`` — the unit prices come from the very same
``engine.effective_rates`` for each (version, long-context, tier, region) combination that
occurs, so no rule is written twice. Only the multiplication and the sums run in float64;
tests check the totals against the Decimal path (within $0.000001 per million records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from .book import PriceBook
from .engine import (
    PROMPT_METERS,
    SERVICE_TIERS,
    TOKEN_METERS,
    PriceSheet,
    UnpricedError,
    UsageRecord,
    effective_rates,
)

N_METERS = len(TOKEN_METERS)
_PROMPT_IDX = np.array([TOKEN_METERS.index(m) for m in PROMPT_METERS])
_TIER_CODE = {t: i for i, t in enumerate(SERVICE_TIERS)}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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

    @property
    def n(self) -> int:
        return int(self.ts.shape[0])

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
        for i, r in enumerate(records):
            model_code[i] = models.setdefault(r.model, len(models))
            ts[i] = int((r.timestamp - EPOCH).total_seconds())
            tokens[i] = [r.tokens(m) for m in TOKEN_METERS]
            tier[i] = _TIER_CODE[r.service_tier]
            region[i] = regions.setdefault(r.region, len(regions))
            web[i] = r.web_search_calls
            req[i] = r.requests
        return cls(list(models), model_code, ts, tokens, tier, list(regions), region, web, req)


@dataclass(slots=True)
class BulkResult:
    """Per-sheet totals: ``meter_totals[j]`` are the USD per token meter under sheets[j]."""

    sheets: list[PriceSheet]
    meter_totals: np.ndarray  # float64 (n_sheets, N_METERS)
    fee_totals: np.ndarray  # float64 (n_sheets,)
    requests: np.ndarray  # int64 (n_sheets,) priced requests
    unpriced_records: int
    unpriced_by_sheet: (
        np.ndarray
    )  # int64 (n_sheets,) records refused by a sheet (missing meter/tier)

    @property
    def total(self) -> float:
        return float(self.meter_totals.sum() + self.fee_totals.sum())


def _time_band_multipliers(sheet: PriceSheet, ts: np.ndarray) -> np.ndarray | None:
    if not sheet.time_bands:
        return None
    minute = (ts // 60) % 1440
    weekday = ((ts // 86400) + 3) % 7  # 1970-01-01 was a Thursday (3, with Monday = 0)
    mult = np.ones(ts.shape[0], dtype=np.float64)
    assigned = np.zeros(ts.shape[0], dtype=bool)
    for band in sheet.time_bands:  # first matching band wins, as in TimeBand order
        hit = (minute >= band.start_minute) & (minute < band.end_minute) & ~assigned
        if band.weekdays is not None:
            hit &= np.isin(weekday, list(band.weekdays))
        mult[hit] = float(band.multiplier)
        assigned |= hit
    return mult


def _rate_table(
    sheet: PriceSheet, long: np.ndarray, cols: RecordColumns, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unit prices (len(rows), N_METERS) with NaN for missing meters, and a tier-refused mask."""
    key = (long.astype(np.int64) * len(SERVICE_TIERS) + cols.tier_code[rows]) * (
        len(cols.regions) + 1
    ) + cols.region_code[rows]
    uniq, inverse = np.unique(key, return_inverse=True)
    table = np.empty((uniq.shape[0], N_METERS), dtype=np.float64)
    refused = np.zeros(uniq.shape[0], dtype=bool)
    for u, k in enumerate(uniq.tolist()):
        region = cols.regions[k % (len(cols.regions) + 1)]
        rest = k // (len(cols.regions) + 1)
        tier = SERVICE_TIERS[rest % len(SERVICE_TIERS)]
        is_long = bool(rest // len(SERVICE_TIERS))
        try:
            rates = effective_rates(sheet, tier=tier, long=is_long, region=region)
        except UnpricedError:
            refused[u] = True
            table[u] = np.nan
            continue
        table[u] = [np.nan if rates[m] is None else float(rates[m]) for m in TOKEN_METERS]
    return table[inverse], refused[inverse]


def _price_rows(
    sheet: PriceSheet, cols: RecordColumns, rows: np.ndarray | slice
) -> tuple[np.ndarray, float, np.ndarray]:
    """(per-meter sums, fee sum, priced mask) for ``rows`` of cols priced under ``sheet``."""
    tokens = cols.tokens[rows]
    ts = cols.ts[rows]
    idx = np.arange(cols.n)[rows] if isinstance(rows, slice) else rows
    if sheet.long_context is not None:
        lc = sheet.long_context
        counts = np.array([TOKEN_METERS.index(m) for m in PROMPT_METERS if m in lc.counts])
        prompt = tokens[:, counts].sum(axis=1)
        long = prompt >= lc.threshold if lc.inclusive else prompt > lc.threshold
    else:
        long = np.zeros(tokens.shape[0], dtype=bool)
    rates, refused = _rate_table(sheet, long, cols, idx)
    band = _time_band_multipliers(sheet, ts)
    used = tokens > 0
    missing = (used & np.isnan(rates)).any(axis=1) | refused
    priced = ~missing
    safe_rates = np.where(np.isnan(rates), 0.0, rates)
    cost = tokens * safe_rates
    if band is not None:
        cost *= band[:, None]
    cost[missing] = 0.0
    meter_sums = cost.sum(axis=0) / 1_000_000.0
    fee = sheet.call_fees.get("web_search")
    fee_sum = 0.0
    if fee is not None:
        fee_sum = float((cols.web_search[rows] * priced).sum()) * float(fee) / 1000.0
    return meter_sums, fee_sum, priced


def rate_matrix(cols: RecordColumns, sheets: Sequence[PriceSheet]) -> BulkResult:
    """Reprice every record under every sheet (what-if across versions and models)."""
    k = len(sheets)
    totals = np.zeros((k, N_METERS))
    fees = np.zeros(k)
    requests = np.zeros(k, dtype=np.int64)
    refused = np.zeros(k, dtype=np.int64)
    everything = slice(None)
    for j, sheet in enumerate(sheets):
        meter_sums, fee_sum, priced = _price_rows(sheet, cols, everything)
        totals[j], fees[j] = meter_sums, fee_sum
        requests[j] = int(cols.requests[priced].sum())
        refused[j] = int((~priced).sum())
    return BulkResult(list(sheets), totals, fees, requests, 0, refused)


def rate_time_of_use(
    cols: RecordColumns, book: PriceBook, *, at: datetime | None = None
) -> BulkResult:
    """Price each record under the version in effect at its own timestamp (or at ``at``)."""
    sheets: list[PriceSheet] = []
    sheet_index: dict[str, int] = {}
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
            sheet = versions[p]
            j = sheet_index.setdefault(str(sheet.version_id), len(sheets))
            if j == len(sheets):
                sheets.append(sheet)
            sheet_of[mine[pos == p]] = j
    k = len(sheets)
    totals = np.zeros((k, N_METERS))
    fees = np.zeros(k)
    requests = np.zeros(k, dtype=np.int64)
    refused = np.zeros(k, dtype=np.int64)
    order = np.argsort(sheet_of, kind="stable")
    bounds = np.searchsorted(sheet_of[order], np.arange(-1, k + 1))
    for j in range(k):
        rows = order[bounds[j + 1] : bounds[j + 2]]
        meter_sums, fee_sum, priced = _price_rows(sheets[j], cols, rows)
        totals[j], fees[j] = meter_sums, fee_sum
        requests[j] = int(cols.requests[rows][priced].sum())
        refused[j] = int((~priced).sum())
    unpriced = int((sheet_of < 0).sum() + refused.sum())
    return BulkResult(sheets, totals, fees, requests, unpriced, refused)
