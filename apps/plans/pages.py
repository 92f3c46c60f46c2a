"""What the plans pages show, built from plans and histories (no queries of its own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from apps.common.display import DASH, usd

from .charts import windows_figure
from .display import (
    WindowLine,
    annual_per_month_text,
    families_text,
    overage_text,
    safe_link,
    share_text,
    term_changes,
    window_line,
)
from .history import WorkloadHistory
from .models import Plan, PlanVersion
from .selectors import PlanRow
from .terms import LEVELS
from .verdict import STATUS_TEXT, Fit, PlanVerdict, shares
from .windows import Window, burn

MAX_WINDOW_ROWS = 500


@dataclass(frozen=True)
class PlanCard:
    plan: Plan
    version: PlanVersion
    monthly: str
    annual: str
    seats: str
    families: str
    harnesses: str
    overage: str
    windows: list[WindowLine]
    source_link: str | None


def plan_card(row: PlanRow) -> PlanCard:
    v, terms = row.version, row.terms
    if v.per_seat:
        seats = (
            f"per seat, at least {v.min_seats}"
            if v.min_seats
            else "per seat (minimum not in the sources)"
        )
    else:
        seats = "one person"
    return PlanCard(
        plan=row.plan,
        version=v,
        monthly=usd(v.monthly_price_usd),
        annual=annual_per_month_text(v.annual_price_usd),
        seats=seats,
        families=families_text(terms.families),
        harnesses=", ".join(terms.harnesses),
        overage=overage_text(v.overage_kind, v.overage_unit_price_usd, v.overage_notes),
        windows=[window_line(w) for w in terms.windows],
        source_link=safe_link(v.source_url),
    )


@dataclass(frozen=True)
class HistoryEntry:
    card: PlanCard
    state: str  # "past", "current" or "scheduled"
    changes: list[str]


def plan_history(rows: list[PlanRow], now: datetime) -> list[HistoryEntry]:
    """Every published version, oldest first, with what changed from the one before."""
    current = max((r for r in rows if r.version.effective_from <= now), default=None,
                  key=lambda r: r.version.effective_from)  # fmt: skip
    entries = []
    for index, row in enumerate(rows):
        if row.version.effective_from > now:
            state = "scheduled"
        else:
            state = "current" if row is current else "past"
        changes = term_changes(rows[index - 1].terms, row.terms) if index else []
        entries.append(HistoryEntry(plan_card(row), state, changes))
    return entries


# --------------------------------------------------------------------------- the windows page


@dataclass
class WindowRow:
    window: Window
    cost: str
    models: str
    shares: list[dict[str, str]]  # per banded plan: {"mid": "4.2%", "range": "1.7% – 9.4%"}

    @property
    def counts(self) -> dict[str, str]:
        w = self.window
        return {
            "requests": f"{w.requests:,}",
            "input": f"{w.input_tokens:,}",
            "cache_read": f"{w.cache_read_tokens:,}",
            "cache_write": f"{w.cache_write_tokens:,}",
            "output": f"{w.output_tokens:,}",
        }


@dataclass
class MonthRow:
    """One way to buy the history (the API or a plan), month by month."""

    key: str
    name: str
    cells: list[dict[str, str]] = field(default_factory=list)  # per month: cost and a note
    total: str = DASH
    status: str = ""


def _share_cells(fits: dict[datetime, Fit], start: datetime) -> dict[str, str]:
    found = fits.get(start)
    if found is None:
        return {"mid": DASH, "range": "", "verdict": ""}
    known = [s for s in found.share.values() if s is not None]
    span = f"{share_text(min(known))} – {share_text(max(known))}" if len(known) > 1 else ""
    return {"mid": share_text(found.share["mid"]), "range": span, "verdict": found.verdict}


def _week_cell(verdict: PlanVerdict, start: datetime) -> str:
    """The share of the plan's weekly cap a week used, as a range over the estimates."""
    for month in verdict.months:
        for item in month.fits:
            if item.kind == "weekly" and item.start == start:
                known = [s for s in item.share.values() if s is not None]
                if known:
                    return " – ".join(
                        dict.fromkeys(share_text(s) for s in (min(known), max(known)))
                    )
    return DASH


def _range(low: Decimal | None, high: Decimal | None) -> str:
    if low is None or high is None:
        return DASH
    return usd(low) if low == high else f"{usd(low)} – {usd(high)}"


def _plan_summary(verdict: PlanVerdict) -> dict[str, Any]:
    status = verdict.status
    if status == "hits":
        text = f"hit the limit {verdict.mid_hits:,} time{'s' if verdict.mid_hits != 1 else ''}"
    elif status == "partial":
        text = "fits the known limits; unknown capacity of " + ", ".join(verdict.unknown)
    else:
        text = STATUS_TEXT[status]
    counted = status in ("fits", "hits", "partial")
    hits = " / ".join(str(verdict.hits(level)) for level in LEVELS) if counted else DASH
    total = verdict.total("mid")
    return {
        "verdict": verdict,
        "status": status,
        "text": text,
        "hits": hits,
        "total": usd(total) if total is not None else DASH,
        "range": _range(verdict.total("low"), verdict.total("high")),
        "eligible": verdict.eligible,
    }


def _burn(history: WorkloadHistory, banded: list[PlanVerdict]) -> dict[str, Any] | None:
    if history.empty:
        return None
    latest = history.groups.sessions.windows[-1]
    pace = burn(latest)
    rows = []
    for verdict in banded:
        fits = [f for f in verdict.sessions if f.start == latest.start]
        if not fits or pace.projected_cost is None:
            continue
        projected = shares(pace.projected_cost, fits[0].capacity)
        rows.append({"name": verdict.name, "now": share_text(fits[0].share["mid"]),
                     "projected": {lv: share_text(projected[lv]) for lv in LEVELS}})  # fmt: skip
    return {
        "window": latest,
        "burn": pace,
        "usd_per_hour": usd(pace.usd_per_hour) if pace.usd_per_hour is not None else DASH,
        "tokens_per_minute": f"{pace.tokens_per_minute:,.0f}"
        if pace.tokens_per_minute is not None
        else DASH,
        "projected_cost": usd(pace.projected_cost) if pace.projected_cost is not None else DASH,
        "projected_tokens": f"{pace.projected_tokens:,.0f}"
        if pace.projected_tokens is not None
        else DASH,
        "plans": rows,
    }


def _months(history: WorkloadHistory, verdicts: list[PlanVerdict]) -> dict[str, Any]:
    months = history.groups.months.windows
    keys = [date(m.start.year, m.start.month, 1) for m in months]
    api = MonthRow("api", "API at list prices", [{"cost": usd(m.cost), "note": ""} for m in months],
                   usd(history.api_total), "fits")  # fmt: skip
    rows = [api]
    for verdict in verdicts:
        by_month = {m.month: m for m in verdict.months}
        row = MonthRow(verdict.plan, verdict.name, status=verdict.status)
        for key in keys:
            found = by_month.get(key)
            total = found.total("mid") if found else None
            status = found.status if found else "unavailable"
            note = {"unknown": "unknown capacity", "partial": "capacity partly unknown",
                    "unavailable": "no terms then"}.get(status, "")  # fmt: skip
            if found is not None and found.mid_hits:
                note = f"hit the limit {found.mid_hits:,}×"
            row.cells.append({"cost": usd(total) if total is not None else DASH, "note": note})
        whole = verdict.total("mid")
        row.total = usd(whole) if whole is not None else DASH
        rows.append(row)
    return {
        "months": keys,
        "requests": [f"{m.requests:,}" for m in months],
        "resume_premium": [usd(history.resumes.by_month.get(k, Decimal(0))) for k in keys],
        "rows": rows,
    }


def assumptions(history: WorkloadHistory) -> list[str]:
    harness = history.harness
    notes = [
        "API: every request at the list price of the version in effect at its own time.",
        "Plans: monthly billing at the minimum number of seats (one where the sources give "
        "no minimum); the price of the version in effect at the month's first request.",
        "A 5-hour session opens with the first request after the previous one closed and "
        "lasts five hours; weeks are ISO weeks in UTC; each window counts against the plan "
        "version in effect when it opened.",
        "A plan whose capacity is only known in prompts, messages or credits of unknown "
        "value is 'unknown capacity', never assumed to fit; such plans are not chosen.",
        "Only plans that cover every model family of this history are compared "
        f"({families_text(sorted(history.families))}); no plan covers the API itself.",
    ]
    if harness == "api":
        notes.append(
            "These logs are API calls: a plan would cover this usage only if it ran through "
            "the plan's own apps (Claude Code, Codex, Cursor, Copilot...)."
        )
    else:
        notes.append(f"Harness: {harness}. Limits that count another app's usage are left out.")
    if history.unpriced_requests:
        notes.append(f"{history.unpriced_requests:,} requests have no price and count as $0 nowhere: "
                     "they are left out of every dollar figure.")  # fmt: skip
    if history.aggregate_rows:
        notes.append(f"{history.aggregate_rows:,} aggregate rows (daily exports) have no per-request "
                     "time and are left out of the windows.")  # fmt: skip
    return notes


def windows_page(history: WorkloadHistory) -> dict[str, Any]:
    verdicts = history.verdicts
    banded = [
        v
        for v in verdicts
        if any(any(x is not None for x in f.capacity.values()) for f in v.sessions)
    ]
    sessions = history.groups.sessions.windows
    shown = sessions[-MAX_WINDOW_ROWS:]
    by_start = [{f.start: f for f in v.sessions} for v in banded]
    rows = [
        WindowRow(
            window=w,
            cost=usd(w.cost),
            models=", ".join(w.model_names),
            shares=[_share_cells(fits, w.start) for fits in by_start],
        )
        for w in reversed(shown)
    ]
    weeks = [
        {
            "window": week,
            "requests": f"{week.requests:,}",
            "cost": usd(week.cost),
            "shares": [_week_cell(v, week.start) for v in banded],
        }
        for week in history.groups.weeks.windows
    ]
    return {
        "history": history,
        "requests_total": f"{sum(m.requests for m in history.groups.months.windows):,}",
        "sessions_total": f"{len(sessions):,}",
        "sessions_count": len(sessions),
        "figure": windows_figure(sessions, verdicts),
        "banded": banded,
        "rows": rows,
        "hidden_rows": max(0, len(sessions) - MAX_WINDOW_ROWS),
        "weeks": weeks,
        "latest": _burn(history, banded),
        "summaries": [_plan_summary(v) for v in verdicts],
        "monthly": _months(history, verdicts),
        "best": history.best,
        "best_total": usd(history.best.total) if history.best else DASH,
        "options": [{"option": o, "total": usd(o.total)} for o in history.options],
        "api_total": usd(history.api_total),
        "assumptions": assumptions(history),
        "excluded": [h.name for h in history.excluded],
        "resume_months": [
            {"month": m, "premium": usd(p), "count": history.resumes.count_by_month.get(m, 0)}
            for m, p in sorted(history.resumes.by_month.items())
        ],
        "resumes": [
            {
                "resume": r,
                "premium": usd(r.premium),
                "cost": usd(r.cost),
                "idle": _duration(r.idle.total_seconds()),
                "context": f"{r.context_tokens:,}",
                "rewritten": f"{r.rewritten_tokens:,}",
            }
            for r in history.resumes.top
        ],  # fmt: skip
        "resume_total": usd(history.resumes.total),
    }


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"
