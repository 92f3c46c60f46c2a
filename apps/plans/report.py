"""A workload's windows and verdict as JSON (``usage_windows --json``) or as text.

Money is a decimal string, exact; shares are decimal strings rounded to six places (they
are ratios, not amounts); times are ISO 8601 UTC with a ``Z``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.common.display import plain_decimal, usd

from .history import WorkloadHistory
from .pages import assumptions
from .selectors import iso_utc
from .terms import LEVELS
from .verdict import STATUS_TEXT, PlanVerdict
from .windows import Window, burn

SHARE_PLACES = Decimal("0.000001")


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else plain_decimal(value)


def _share(value: Decimal | None) -> str | None:
    return None if value is None else plain_decimal(value.quantize(SHARE_PLACES))


def window_json(window: Window) -> dict[str, Any]:
    return {
        "start": iso_utc(window.start),
        "end": iso_utc(window.end),
        "requests": window.requests,
        "input_tokens": window.input_tokens,
        "cache_read_tokens": window.cache_read_tokens,
        "cache_write_tokens": window.cache_write_tokens,
        "output_tokens": window.output_tokens,
        "api_cost_usd": plain_decimal(window.cost),
        "unpriced_requests": window.unpriced_requests,
        "models": window.model_names,
    }


def plan_json(verdict: PlanVerdict) -> dict[str, Any]:
    return {
        "plan": verdict.plan,
        "name": verdict.name,
        "vendor": verdict.vendor,
        "status": verdict.status,
        "eligible": verdict.eligible,
        "hits": {level: verdict.hits(level) for level in LEVELS},
        "total_usd": {level: _dec(verdict.total(level)) for level in LEVELS},
        "unknown_capacity": verdict.unknown,
        "windows": [
            {
                "start": iso_utc(f.start),
                "capacity_usd": {level: _dec(f.capacity[level]) for level in LEVELS},
                "share": {level: _share(f.share[level]) for level in LEVELS},
                "verdict": f.verdict,
            }
            for f in verdict.sessions
        ],
        "months": [
            {
                "month": m.month.strftime("%Y-%m"),
                "version_id": m.terms.version_id if m.terms else None,
                "price_usd": plain_decimal(m.price),
                "overage_usd": {level: _dec(m.overage[level]) for level in LEVELS},
                "total_usd": {level: _dec(m.total(level)) for level in LEVELS},
                "hits": dict(m.hits),
                "status": m.status,
            }
            for m in verdict.months
        ],
    }


def history_json(history: WorkloadHistory) -> dict[str, Any]:
    groups = history.groups
    latest = None
    if not history.empty:
        window = groups.sessions.windows[-1]
        pace = burn(window)
        latest = {
            "start": iso_utc(window.start),
            "end": iso_utc(window.end),
            "usd_per_hour": _dec(pace.usd_per_hour),
            "tokens_per_minute": _dec(pace.tokens_per_minute),
            "projected_cost_usd": _dec(pace.projected_cost),
        }
    resumes = history.resumes
    return {
        "harness": history.harness,
        "model_families": sorted(history.families),
        "windows": [window_json(w) for w in groups.sessions.windows],
        "weeks": [window_json(w) for w in groups.weeks.windows],
        "months": [
            {
                **window_json(m),
                "resume_premium_usd": plain_decimal(
                    resumes.by_month.get(m.start.date().replace(day=1), Decimal(0))
                ),
            }
            for m in groups.months.windows
        ],  # fmt: skip
        "plans": [plan_json(v) for v in history.verdicts],
        "api_total_usd": plain_decimal(history.api_total),
        "cheapest": (
            {
                "option": history.best.key,
                "name": history.best.name,
                "total_usd": plain_decimal(history.best.total),
            }
            if history.best
            else None
        ),  # fmt: skip
        "latest_window": latest,
        "resumes": {
            "total_premium_usd": plain_decimal(resumes.total),
            "by_month": [
                {
                    "month": m.strftime("%Y-%m"),
                    "resumes": resumes.count_by_month.get(m, 0),
                    "premium_usd": plain_decimal(p),
                }
                for m, p in sorted(resumes.by_month.items())
            ],
            "top": [
                {
                    "time": iso_utc(r.timestamp),
                    "session_id": r.session_id,
                    "model": r.model,
                    "idle_seconds": int(r.idle.total_seconds()),
                    "ttl": r.ttl,
                    "context_tokens": r.context_tokens,
                    "rewritten_tokens": r.rewritten_tokens,
                    "premium_usd": plain_decimal(r.premium),
                    "cost_usd": plain_decimal(r.cost),
                }
                for r in resumes.top
            ],
        },  # fmt: skip
        "unpriced_requests": history.unpriced_requests,
        "aggregate_rows_left_out": history.aggregate_rows,
        "assumptions": assumptions(history),
    }


def history_text(history: WorkloadHistory) -> str:
    groups = history.groups
    if history.empty:
        return "no requests with their own time: nothing to group into windows"
    lines = [
        f"{len(groups.sessions.windows)} five-hour sessions, API at list prices {usd(history.api_total)}"
    ]
    for w in groups.sessions.windows:
        lines.append(f"  {iso_utc(w.start)}  {w.requests:>6,} requests  {usd(w.cost):>12}")
    for v in history.verdicts:
        total = v.total("mid")
        lines.append(
            f"{v.name:<28} {STATUS_TEXT[v.status]:<45} {usd(total) if total is not None else '—':>12}"
        )
    if history.best:
        lines.append(f"cheapest: {history.best.name} at {usd(history.best.total)}")
    return "\n".join(lines)
