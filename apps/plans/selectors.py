"""Reading plans: the versions in effect, a plan's history, diffs, and the pure terms.

``plan_histories()`` is what the window, verdict and resume code sees: every published
version of every plan as ``PlanTerms``, cached per process until a version is published.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Prefetch, QuerySet

from apps.common.display import plain_decimal

from .models import VENDORS, Plan, PlanVersion, PlanWindow, VersionStatus
from .services import version_to_data
from .terms import LEVELS, Estimate, PlanHistory, PlanTerms, WindowTerms

_lock = threading.Lock()
_cache: dict[str, tuple[Any, list[PlanHistory]]] = {}


def published_versions() -> QuerySet[PlanVersion]:
    return (
        PlanVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("plan")
        .prefetch_related(Prefetch("windows", queryset=PlanWindow.objects.order_by("pk")))
    )


def window_terms(window: PlanWindow) -> WindowTerms:
    estimates: dict[str, Estimate | None] = {}
    for level in LEVELS:
        amount = getattr(window, level)
        estimates[level] = (
            None
            if amount is None
            else Estimate(
                amount, getattr(window, f"{level}_source_url"), getattr(window, f"{level}_as_of")
            )
        )
    return WindowTerms(
        kind=window.kind,
        unit=window.unit,
        label=window.label,
        harness=window.harness,
        usd_per_unit=window.usd_per_unit,
        notes=window.notes,
        **estimates,
    )


def version_terms(version: PlanVersion) -> PlanTerms:
    plan = version.plan
    return PlanTerms(
        plan=plan.slug,
        name=plan.name,
        vendor=plan.vendor,
        effective_from=version.effective_from,
        monthly_price=version.monthly_price_usd,
        annual_price=version.annual_price_usd,
        min_seats=version.min_seats,
        per_seat=version.per_seat,
        harnesses=tuple(version.harnesses),
        families=tuple(version.model_families),
        overage_kind=version.overage_kind,
        overage_unit_price=version.overage_unit_price_usd,
        windows=tuple(window_terms(w) for w in version.windows.all()),
        version_id=str(version.pk),
    )


def plans_generation() -> tuple[Any, ...]:
    """Changes whenever a version is published (one cheap aggregate query)."""
    stats = PlanVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), top=Max("id"), last=Max("published_at")
    )
    return (stats["n"], stats["top"], stats["last"], Plan.objects.aggregate(n=Count("id"))["n"])


def plan_histories() -> list[PlanHistory]:
    """Every plan with its published versions as pure terms, in page order."""
    key = plans_generation()
    with _lock:
        hit = _cache.get("histories")
    if hit is not None and hit[0] == key:
        return hit[1]
    by_plan: dict[str, PlanHistory] = {}
    for plan in Plan.objects.all():
        by_plan[plan.slug] = PlanHistory(plan.slug, plan.name, plan.vendor)
    for version in published_versions():
        by_plan[version.plan.slug].versions.append(version_terms(version))
    histories = [PlanHistory(h.plan, h.name, h.vendor, h.versions) for h in by_plan.values()]
    with _lock:
        _cache["histories"] = (key, histories)
    return histories


# --------------------------------------------------------------------------- pages and API


def vendors_with_plans() -> list[tuple[str, str]]:
    slugs = set(Plan.objects.values_list("vendor", flat=True))
    return [(slug, label) for slug, label in VENDORS if slug in slugs]


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    version: PlanVersion
    terms: PlanTerms


def plans_at(when: datetime, vendor: str | None = None) -> list[PlanRow]:
    """Every plan with the version in effect at ``when``; plans not yet offered are left out."""
    current: dict[int, PlanVersion] = {}
    versions = published_versions().filter(effective_from__lte=when).order_by("effective_from")
    if vendor:
        versions = versions.filter(plan__vendor=vendor)
    for version in versions:
        current[version.plan_id] = version
    rows = [PlanRow(v.plan, v, version_terms(v)) for v in current.values()]
    return sorted(rows, key=lambda r: (r.plan.position, r.plan.slug))


def plan_versions(plan: Plan, *, include_drafts: bool = False) -> list[PlanVersion]:
    qs = (
        PlanVersion.objects.filter(plan=plan)
        .select_related("plan")
        .prefetch_related(Prefetch("windows", queryset=PlanWindow.objects.order_by("pk")))
    )
    if not include_drafts:
        qs = qs.filter(status=VersionStatus.PUBLISHED)
    return list(qs.order_by("effective_from", "pk"))


def version_in_effect(history: list[PlanVersion], when: datetime) -> PlanVersion | None:
    found = None
    for version in history:
        if version.is_published and version.effective_from <= when:
            found = version
    return found


def iso_utc(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else plain_decimal(value)


def window_object(window: WindowTerms) -> dict[str, Any]:
    return {
        "kind": window.kind,
        "label": window.label,
        "harness": window.harness or None,
        "unit": window.unit,
        "usd_per_unit": _dec(window.usd_per_unit),
        "capacity": {
            level: (
                None
                if (e := window.estimate(level)) is None
                else {
                    "amount": plain_decimal(e.amount),
                    "source_url": e.source_url,
                    "as_of": e.as_of.isoformat() if e.as_of else None,
                }
            )
            for level in LEVELS
        },
        "capacity_usd": {level: _dec(window.usd(level)) for level in LEVELS},
        "dollar_capacity_known": window.dollars_known,
        "notes": window.notes,
    }


def plan_object(row: PlanRow) -> dict[str, Any]:
    """The JSON shape of /api/v1/plans entries: money and capacity as decimal strings."""
    version, terms = row.version, row.terms
    annual = version.annual_price_usd
    return {
        "plan": row.plan.slug,
        "vendor": row.plan.vendor,
        "name": row.plan.name,
        "monthly_price_usd": plain_decimal(version.monthly_price_usd),
        "annual_price_usd": _dec(annual),
        # rounded to the cent: $100 a year is not a whole number of cents a month
        "annual_price_per_month_usd": None
        if annual is None
        else plain_decimal((annual / 12).quantize(Decimal("0.01"))),
        "per_seat": version.per_seat,
        "min_seats": version.min_seats,
        "harnesses": list(terms.harnesses),
        "model_families": list(terms.families),
        "covers_api": False,
        "overage": {
            "kind": version.overage_kind,
            "unit_price_usd": _dec(version.overage_unit_price_usd),
            "notes": version.overage_notes,
        },
        "windows": [window_object(w) for w in terms.windows],
        "version_id": version.pk,
        "effective_from": iso_utc(version.effective_from),
        "source_url": version.source_url,
        "checked_on": version.checked_on.isoformat(),
        "notes": version.notes,
    }


# --------------------------------------------------------------------------- diffs


@dataclass(frozen=True)
class DiffRow:
    field: str
    left: str
    right: str

    @property
    def changed(self) -> bool:
        return self.left != self.right


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(data, list) and data and isinstance(data[0], dict):
        out = {}
        for i, item in enumerate(data):
            name = f"{prefix}[{i}]"
            if isinstance(item, dict) and item.get("kind"):
                name = f"{prefix}[{item['kind']}{'/' + item['label'] if item.get('label') else ''}]"
            out.update(_flatten(item, name))
        return out
    if isinstance(data, list):
        return {prefix: ", ".join(map(str, data)) or "—"}
    if isinstance(data, Decimal):
        return {prefix: plain_decimal(data)}
    if isinstance(data, datetime):
        return {prefix: iso_utc(data)}
    if data is None or data == "":
        return {prefix: "—"}
    return {prefix: str(data.isoformat() if hasattr(data, "isoformat") else data)}


def version_diff(left: PlanVersion | None, right: PlanVersion) -> list[DiffRow]:
    """Field-by-field comparison of two versions (left None: everything is new)."""
    a = _flatten(version_to_data(left)) if left is not None else {}
    b = _flatten(version_to_data(right))
    if left is not None:
        a["status"] = left.status
    b["status"] = right.status
    keys = list(dict.fromkeys([*b, *a]))
    return [DiffRow(k, a.get(k, "—"), b.get(k, "—")) for k in keys]
