"""Reading usage: a workload's rows as engine columns, and its priced summary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from decimal import Decimal
from itertools import batched
from typing import Any

import numpy as np
from django.db.models import Sum

from apps.rating.adapter import published_book
from apps.rating.bulk import N_METERS, RecordColumns, summarize_time_of_use
from apps.rating.engine import SERVICE_TIERS, TOKEN_METERS, ZERO, UsageRecord
from apps.rating.summary import decimal_str, rate_all

from .models import ImportJob, UsageRow, Workload

_TIER = {t: i for i, t in enumerate(SERVICE_TIERS)}
_FETCH = ("model", "timestamp", *(f"{m}_tokens" for m in TOKEN_METERS), "service_tier", "region",
          "web_search_calls", "requests", "long_context", "cache_storage_token_hours")  # fmt: skip


def get_workload_for_user(*, code, user) -> Workload | None:
    """A workload its owner may see; None for anyone else (callers answer 404)."""
    if not user.is_authenticated:
        return None
    return Workload.objects.filter(code=code, owner=user).first()


def get_job_for_user(*, code, user) -> ImportJob | None:
    if not user.is_authenticated:
        return None
    return ImportJob.objects.select_related("workload").filter(code=code, owner=user).first()


def _rows(workload: Workload, chunk: int = 50_000) -> Iterator[tuple]:
    yield from (
        UsageRow.objects.filter(workload=workload).values_list(*_FETCH).iterator(chunk_size=chunk)
    )


_CHUNK = 50_000
_LONG = {None: -1, False: 0, True: 1}


def workload_columns(workload: Workload) -> RecordColumns:
    """All rows of a workload as NumPy columns for the exact bulk path.

    Rows are converted a chunk at a time, column by column (NumPy converts a chunk's
    numbers at once); only the model, tier and region strings are coded one by one.
    """
    models: dict[str, int] = {}
    regions: dict[str, int] = {"": 0}
    parts: list[tuple[np.ndarray, ...]] = []
    for chunk in batched(_rows(workload, _CHUNK), _CHUNK):
        parts.append(_chunk_columns(chunk, models, regions))
    if not parts:
        parts.append(_chunk_columns((), models, regions))
    code, ts, tokens, tier, region, web, req, flag, storage = (
        np.concatenate(c) for c in zip(*parts, strict=True)
    )
    return RecordColumns(
        list(models), code, ts, tokens, tier, list(regions), region, web, req, long_flag=flag,
        storage=storage if storage.any() else None,
    )  # fmt: skip


def _chunk_columns(
    chunk: tuple[tuple, ...], models: dict[str, int], regions: dict[str, int]
) -> tuple[np.ndarray, ...]:
    n, t = len(chunk), 2 + N_METERS  # row layout: _FETCH
    code = np.fromiter((models.setdefault(r[0], len(models)) for r in chunk), np.int32, n)
    ts = np.fromiter((int(r[1].astimezone(UTC).timestamp()) for r in chunk), np.int64, n)
    tokens = np.array([r[2:t] for r in chunk], dtype=np.int64).reshape(n, N_METERS)
    tier = np.fromiter((_TIER.get(r[t], 0) for r in chunk), np.int8, n)
    region = np.fromiter((regions.setdefault(r[t + 1], len(regions)) for r in chunk), np.int16, n)
    web = np.fromiter((r[t + 2] for r in chunk), np.int64, n)
    req = np.fromiter((r[t + 3] for r in chunk), np.int64, n)
    flag = np.fromiter((_LONG[r[t + 4]] for r in chunk), np.int8, n)
    # Decimal token-hours (NULL in the table for none)
    storage = np.array([r[t + 5] or ZERO for r in chunk], dtype=object)
    return code, ts, tokens, tier, region, web, req, flag, storage


def workload_summary(workload: Workload) -> dict[str, Any]:
    """Cost per model at the prices in effect at each row's time, unpriced, and reconciliation."""
    book = published_book()
    summary = summarize_time_of_use(workload_columns(workload), book)
    summary["reconciliation"] = _reconciliation(workload, book, summary)
    return summary


def _reconciliation(workload: Workload, book, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Billed cost per model where the source logged one, against our cost.

    Where billed rows carry tokens (Claude Code's costUSD, OpenRouter, LiteLLM spend), the
    comparison is on those very rows. Cost-only exports (Anthropic Console cost CSV, cost
    report) carry no tokens; they are compared with the model's whole computed cost.
    """
    billed = (
        UsageRow.objects.filter(workload=workload, billed_cost_usd__isnull=False)
        .values("model")
        .annotate(
            billed=Sum("billed_cost_usd"),
            tokens=Sum("input_tokens")
            + Sum("output_tokens")
            + Sum("cache_read_tokens")
            + Sum("cache_write_5m_tokens")
            + Sum("cache_write_1h_tokens"),
        )
    )
    computed_by_model = {row["model"]: Decimal(row["cost_usd"]) for row in summary["by_model"]}
    rows: dict[str, dict[str, Any]] = {}
    for item in billed:
        canonical = book.resolve(item["model"]) or item["model"]
        row = rows.setdefault(
            canonical,
            {"model": canonical, "billed": Decimal(0), "computed": Decimal(0), "basis": set()},
        )
        row["billed"] += Decimal(str(item["billed"]))
        if item["tokens"]:
            row["computed"] += _computed_for_billed(workload, item["model"], book)
            row["basis"].add("same records")
        else:
            row["basis"].add("all usage of the model")
    used = {
        row["model"]
        for row in summary["by_model"]
        if any(row.get(f"{meter}_tokens") for meter in TOKEN_METERS)
    }
    out = []
    for r in rows.values():
        if r["basis"] == {"all usage of the model"} and r["model"] not in used:
            # a cost export alone: nothing of this model to compare with, so no difference
            out.append(
                {
                    "model": r["model"],
                    "computed_usd": None,
                    "billed_usd": decimal_str(r["billed"]),
                    "difference_usd": None,
                    "basis": "billed only: import the token usage of the same period to compare",
                }
            )
            continue
        if "all usage of the model" in r["basis"]:
            r["computed"] = computed_by_model.get(r["model"], Decimal(0))
        out.append(
            {
                "model": r["model"],
                "computed_usd": decimal_str(r["computed"]),
                "billed_usd": decimal_str(r["billed"]),
                "difference_usd": decimal_str(r["computed"] - r["billed"]),
                "basis": " + ".join(sorted(r["basis"])),
            }
        )
    return out


def _computed_for_billed(workload: Workload, raw_model: str, book) -> Decimal:
    records = (
        UsageRecord(
            provider="",
            model=row[0],
            timestamp=row[1],
            **{f"{m}_tokens": row[2 + k] for k, m in enumerate(TOKEN_METERS)},
            service_tier=row[2 + N_METERS],
            region=row[3 + N_METERS],
            web_search_calls=row[4 + N_METERS],
            requests=row[5 + N_METERS],
            long_context=row[6 + N_METERS],
            cache_storage_token_hours=row[7 + N_METERS] or ZERO,
        )
        for row in UsageRow.objects.filter(
            workload=workload, model=raw_model, billed_cost_usd__isnull=False
        )
        .values_list(*_FETCH)
        .iterator(chunk_size=20_000)
    )
    return rate_all(records, book).total
