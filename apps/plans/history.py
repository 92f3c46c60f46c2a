"""An imported workload as windows, resumes and a verdict: the one reader of usage rows here.

Rows are read in time order, a chunk at a time; each is priced by the rating engine at the
version in effect at its own time (as ``apps.rating.summary.rate_all`` does) and fed to
the pure groupers (``windows``) and the resume scanner (``resumes``), so memory grows with
the number of windows, not of rows. Aggregate rows (daily exports) have no per-request
time and are left out, and said so.

The result is cached for five minutes under the workload's rows, the catalog and the
published plans, so a new import, a new price or a new plan version shows at once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Max

from apps.rating.adapter import catalog_generation, published_book
from apps.rating.engine import MONEY_CONTEXT, ZERO, RatedRecord, UsageRecord, rate_record
from apps.rating.summary import Pricing, choose_sheet
from apps.usage.models import UsageRow, Workload

from .resumes import ResumeScanner
from .selectors import plan_histories, plans_generation
from .terms import FAMILY_BY_PROVIDER, PlanHistory
from .verdict import Option, PlanVerdict, applicable, cheapest, plan_verdict
from .windows import Groups, Usage

# The harness a log format comes from; anything else is API traffic, which no plan covers.
HARNESS_BY_FORMAT = {"claude_code": "claude-code", "codex_cli": "codex"}
CACHE_SECONDS = 5 * 60
CHUNK = 5_000
_FIELDS = (
    "timestamp", "model", "provider", "session_id", "source_format", "input_tokens",
    "cache_read_tokens", "cache_write_5m_tokens", "cache_write_30m_tokens",
    "cache_write_1h_tokens", "cache_write_12h_tokens", "cache_write_24h_tokens",
    "output_tokens", "reasoning_tokens", "service_tier", "region", "requests", "long_context",
)  # fmt: skip


@dataclass(slots=True)
class WorkloadHistory:
    groups: Groups
    resumes: ResumeScanner
    families: set[str] = field(default_factory=set)
    formats: Counter[str] = field(default_factory=Counter)
    harness: str = "api"
    verdicts: list[PlanVerdict] = field(default_factory=list)
    excluded: list[PlanHistory] = field(default_factory=list)
    api_total: Decimal = ZERO
    unpriced_requests: int = 0
    aggregate_rows: int = 0
    best: Option | None = None
    options: list[Option] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.groups.sessions.windows


def _record(row: tuple) -> UsageRecord:
    (when, model, provider, session, _fmt, fresh, read, w5m, w30m, w1h, w12h, w24h, out,
     reasoning, tier, region, requests, long_context) = row  # fmt: skip
    return UsageRecord(
        provider=provider, model=model, timestamp=when, session_id=session,
        input_tokens=fresh, cache_read_tokens=read, cache_write_5m_tokens=w5m,
        cache_write_30m_tokens=w30m, cache_write_1h_tokens=w1h, cache_write_12h_tokens=w12h,
        cache_write_24h_tokens=w24h, output_tokens=out, reasoning_tokens=reasoning,
        service_tier=tier or "standard", region=region, requests=requests,
        long_context=long_context,
    )  # fmt: skip


def _usage(record: UsageRecord, model: str, cost: Decimal | None) -> Usage:
    writes = sum(record.tokens(f"cache_write_{r}") for r in ("5m", "30m", "1h", "12h", "24h"))
    return Usage(
        timestamp=record.timestamp,
        model=model,
        input_tokens=record.input_tokens,
        cache_read_tokens=record.cache_read_tokens,
        cache_write_tokens=writes,
        output_tokens=record.output_tokens,
        cost=cost,
        requests=record.requests,
    )


def build_history(workload: Workload) -> WorkloadHistory:
    book = published_book()
    pricing = Pricing()
    # choose_sheet resolves the model's spelling on every call; logs repeat a few spellings
    resolved: dict[str, str | None] = {}
    history = WorkloadHistory(groups=Groups(), resumes=ResumeScanner())
    rows = (
        UsageRow.objects.filter(workload=workload, aggregate=False)
        .order_by("timestamp", "id")
        .values_list(*_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    for row in rows:
        record = _record(row)
        history.formats[row[4]] += 1
        if record.model not in resolved:
            resolved[record.model] = book.resolve(record.model) if record.model.strip() else None
        slug = resolved[record.model]
        found = book.sheet_at(slug, record.timestamp) if slug else None
        # the same sheet choose_sheet picks; it also says why there is none
        sheet = found if found is not None else choose_sheet(book, record, pricing)
        cost = None
        if isinstance(sheet, str):
            sheet_or_none = None
            model, provider = record.model, record.provider
        else:
            sheet_or_none = sheet
            model, provider = sheet.model, sheet.provider
            rated = rate_record(record, sheet)
            if isinstance(rated, RatedRecord):
                cost = rated.total
                history.api_total = MONEY_CONTEXT.add(history.api_total, cost)
        if cost is None:
            history.unpriced_requests += record.requests
        if provider in FAMILY_BY_PROVIDER:
            history.families.add(FAMILY_BY_PROVIDER[provider])
        history.groups.add(_usage(record, model, cost))
        history.resumes.add(record, sheet_or_none)
    history.aggregate_rows = UsageRow.objects.filter(workload=workload, aggregate=True).count()
    harnesses = {HARNESS_BY_FORMAT.get(f, "api") for f in history.formats}
    history.harness = harnesses.pop() if len(harnesses) == 1 else "api"
    _judge(history)
    return history


def _judge(history: WorkloadHistory) -> None:
    if history.empty:
        return
    every = plan_histories()
    chosen = applicable(every, history.families) if history.families else []
    history.excluded = [h for h in every if h not in chosen]
    groups = history.groups
    history.verdicts = [
        plan_verdict(
            h,
            months=groups.months.windows,
            sessions=groups.sessions.windows,
            weeks=groups.weeks.windows,
            harness=history.harness,
        )
        for h in chosen
    ]
    history.best, history.options = cheapest(history.api_total, history.verdicts)


def workload_history(workload: Workload) -> WorkloadHistory:
    """``build_history``, cached until the rows, the catalog or the plans change."""
    stats = UsageRow.objects.filter(workload=workload).aggregate(n=Count("id"), top=Max("id"))
    key_parts = (
        workload.pk,
        stats["n"],
        stats["top"],
        catalog_generation().digest,
        plans_generation(),
    )
    key = "plans:history:" + hashlib.sha256(repr(key_parts).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = build_history(workload)
        cache.set(key, found, CACHE_SECONDS)
    return found
