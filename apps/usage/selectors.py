"""Reading usage: a workload's rows as engine columns, and its priced summary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Sum

from apps.rating.adapter import published_book
from apps.rating.bulk import N_METERS, RecordColumns, summarize_time_of_use
from apps.rating.engine import SERVICE_TIERS, TOKEN_METERS
from apps.rating.summary import decimal_str

from .models import ImportJob, UsageRow, Workload

_TIER = {t: i for i, t in enumerate(SERVICE_TIERS)}
_FETCH = ("model", "timestamp", *(f"{m}_tokens" for m in TOKEN_METERS), "service_tier", "region",
          "web_search_calls", "requests", "long_context")  # fmt: skip


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


def workload_columns(workload: Workload) -> RecordColumns:
    """All rows of a workload as NumPy columns for the exact bulk path."""
    n = UsageRow.objects.filter(workload=workload).count()
    models: dict[str, int] = {}
    regions: dict[str, int] = {"": 0}
    model_code = np.empty(n, dtype=np.int32)
    ts = np.empty(n, dtype=np.int64)
    tokens = np.empty((n, N_METERS), dtype=np.int64)
    tier = np.empty(n, dtype=np.int8)
    region = np.empty(n, dtype=np.int16)
    web = np.empty(n, dtype=np.int64)
    req = np.empty(n, dtype=np.int64)
    flag = np.full(n, -1, dtype=np.int8)
    i = -1
    for i, row in enumerate(_rows(workload)):
        if i >= n:  # rows added since the count: they will be in the next summary
            i -= 1
            break
        model_code[i] = models.setdefault(row[0], len(models))
        ts[i] = int(row[1].astimezone(UTC).timestamp())
        tokens[i] = row[2 : 2 + N_METERS]
        tier[i] = _TIER.get(row[2 + N_METERS], 0)
        region[i] = regions.setdefault(row[3 + N_METERS], len(regions))
        web[i] = row[4 + N_METERS]
        req[i] = row[5 + N_METERS]
        if row[6 + N_METERS] is not None:
            flag[i] = int(row[6 + N_METERS])
    k = i + 1
    return RecordColumns(
        list(models),
        model_code[:k],
        ts[:k],
        tokens[:k],
        tier[:k],
        list(regions),
        region[:k],
        web[:k],
        req[:k],
    )


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
    out = []
    for r in rows.values():
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
    from apps.rating.engine import UsageRecord
    from apps.rating.summary import rate_all

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
        )
        for row in UsageRow.objects.filter(
            workload=workload, model=raw_model, billed_cost_usd__isnull=False
        )
        .values_list(*_FETCH)
        .iterator(chunk_size=20_000)
    )
    return rate_all(records, book).total
