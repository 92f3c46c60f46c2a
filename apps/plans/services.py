"""Writing plans: validate data, load the bundled file, publish, start a draft from a version.

The data form of a version is the one in ``data/plans.json`` (docs/plans.md). The bundled
loader, drafts and diffs all go through ``clean_version_data`` and ``version_to_data``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import VENDORS, Plan, PlanVersion, PlanWindow, VersionStatus
from .terms import FAMILY_LABELS, LEVELS, OVERAGE_KINDS, UNITS, WINDOW_KINDS

BUNDLED_PLANS = Path(__file__).resolve().parent / "data" / "plans.json"
VENDOR_SLUGS = frozenset(slug for slug, _ in VENDORS)
# What two versions must share to be the same terms: everything but the notes.
NOTE_KEYS = frozenset({"notes", "overage_notes"})


class PlanDataError(ValidationError):
    """Bad plan data; the message names the field."""


# --------------------------------------------------------------------------- parsing


def _amount(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        # floats are refused: money is written as a decimal string
        raise PlanDataError(f"{where}: must be a decimal string, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise PlanDataError(f"{where}: not a number: {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise PlanDataError(f"{where}: must be a finite number of 0 or more, got {value!r}")
    return number


def _opt_amount(value: Any, where: str) -> Decimal | None:
    return None if value is None else _amount(value, where)


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise PlanDataError(f"{where}: must be an ISO 8601 date-time")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise PlanDataError(f"{where}: not an ISO 8601 date-time: {value!r}") from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PlanDataError(f"{where}: not an ISO date: {value!r}") from exc


def _names(value: Any, where: str, allowed: frozenset[str] | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PlanDataError(f"{where}: must be a list of names")
    if allowed is not None and (unknown := [v for v in value if v not in allowed]):
        raise PlanDataError(f"{where}: unknown {unknown} (known: {', '.join(sorted(allowed))})")
    return list(value)


def _choice(value: Any, where: str, allowed: Any) -> str:
    if value not in allowed:
        raise PlanDataError(f"{where}: must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _source(ref: Any, sources: dict[str, Any], where: str) -> tuple[str, date]:
    """A source id of the file's ``sources`` as (url, date)."""
    if ref not in sources:
        raise PlanDataError(f"{where}: unknown source {ref!r}")
    entry = sources[ref]
    return str(entry["url"]), _date(entry["date"], f"sources.{ref}.date")


def _window(data: Any, sources: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PlanDataError(f"{where}: must be an object")
    out: dict[str, Any] = {
        "kind": _choice(data.get("kind"), f"{where}.kind", WINDOW_KINDS),
        "label": str(data.get("label") or ""),
        "harness": str(data.get("harness") or ""),
        "unit": _choice(data.get("unit", "usd"), f"{where}.unit", UNITS),
        "usd_per_unit": _opt_amount(data.get("usd_per_unit"), f"{where}.usd_per_unit"),
        "usd_per_unit_source_url": "",
        "notes": str(data.get("notes") or ""),
    }
    if out["usd_per_unit"] is not None:
        ref = data.get("usd_per_unit_source")
        out["usd_per_unit_source_url"] = _source(ref, sources, f"{where}.usd_per_unit_source")[0]
    for level in LEVELS:
        estimate = data.get(level)
        out[level], out[f"{level}_source_url"], out[f"{level}_as_of"] = None, "", None
        if estimate is None:
            continue
        if not isinstance(estimate, dict):
            raise PlanDataError(f"{where}.{level}: must be an object with amount and source")
        out[level] = _amount(estimate.get("amount"), f"{where}.{level}.amount")
        url, as_of = _source(estimate.get("source"), sources, f"{where}.{level}.source")
        out[f"{level}_source_url"], out[f"{level}_as_of"] = url, as_of
    present = [out[level] for level in LEVELS if out[level] is not None]
    if present != sorted(present):
        raise PlanDataError(f"{where}: low, mid and high must not decrease")
    return out


def clean_version_data(data: Any, sources: dict[str, Any], where: str) -> dict[str, Any]:
    """A version's data with Decimals, dates and resolved sources; raises PlanDataError."""
    if not isinstance(data, dict):
        raise PlanDataError(f"{where}: must be an object")
    url, checked_on = _source(data.get("source"), sources, f"{where}.source")
    overage = data.get("overage") or {}
    min_seats = data.get("min_seats", 1)
    if min_seats is not None and (
        isinstance(min_seats, bool) or not isinstance(min_seats, int) or min_seats < 1
    ):
        raise PlanDataError(f"{where}.min_seats: a whole number of 1 or more, or null")
    harnesses = _names(data.get("harnesses", []), f"{where}.harnesses")
    if "api" in harnesses:
        raise PlanDataError(f"{where}.harnesses: no plan covers the API")
    windows = data.get("windows", [])
    if not isinstance(windows, list):
        raise PlanDataError(f"{where}.windows: must be a list")
    return {
        "effective_from": _instant(data.get("effective_from"), f"{where}.effective_from"),
        "source_url": url,
        "checked_on": checked_on,
        "notes": str(data.get("notes") or ""),
        "monthly_price_usd": _amount(data.get("monthly_price_usd"), f"{where}.monthly_price_usd"),
        "annual_price_usd": _opt_amount(data.get("annual_price_usd"), f"{where}.annual_price_usd"),
        "per_seat": bool(data.get("per_seat", False)),
        "min_seats": min_seats,
        "harnesses": harnesses,
        "model_families": _names(
            data.get("model_families", []), f"{where}.model_families", frozenset(FAMILY_LABELS)
        ),
        "overage_kind": _choice(
            overage.get("kind", "unknown"), f"{where}.overage.kind", OVERAGE_KINDS
        ),
        "overage_unit_price_usd": _opt_amount(
            overage.get("unit_price_usd"), f"{where}.overage.unit_price_usd"
        ),
        "overage_notes": str(overage.get("notes") or ""),
        "windows": [_window(w, sources, f"{where}.windows[{i}]") for i, w in enumerate(windows)],
    }


WINDOW_FIELDS = (
    "kind", "label", "harness", "unit", "usd_per_unit", "usd_per_unit_source_url",
    "low", "low_source_url", "low_as_of", "mid", "mid_source_url", "mid_as_of",
    "high", "high_source_url", "high_as_of", "notes",
)  # fmt: skip
VERSION_FIELDS = (
    "effective_from", "source_url", "checked_on", "notes", "monthly_price_usd",
    "annual_price_usd", "per_seat", "min_seats", "harnesses", "model_families",
    "overage_kind", "overage_unit_price_usd", "overage_notes",
)  # fmt: skip


def version_to_data(version: PlanVersion) -> dict[str, Any]:
    """The comparable data form of a stored version (its windows prefetched or not)."""
    data = {name: getattr(version, name) for name in VERSION_FIELDS}
    data["effective_from"] = version.effective_from.astimezone(UTC)
    data["windows"] = [
        {name: getattr(w, name) for name in WINDOW_FIELDS}
        for w in sorted(version.windows.all(), key=lambda w: w.pk)
    ]
    return data


def _normalized(value: Any) -> Any:
    """Decimals by value (2 == 2.0000), notes left out: what two equal versions share."""
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items() if k not in NOTE_KEYS}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    return value


def same_terms(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _normalized(a) == _normalized(b)


# --------------------------------------------------------------------------- writing


@transaction.atomic
def version_create(
    *, plan: Plan, data: dict[str, Any], derived_from: PlanVersion | None = None
) -> PlanVersion:
    """A DRAFT version with its windows, from cleaned data."""
    version = PlanVersion(
        plan=plan,
        derived_from=derived_from,
        status=VersionStatus.DRAFT,
        **{name: data[name] for name in VERSION_FIELDS},
    )
    version.full_clean(exclude=["plan", "derived_from"], validate_constraints=False)
    version.save()
    PlanWindow.objects.bulk_create(
        PlanWindow(version=version, **{name: w[name] for name in WINDOW_FIELDS})
        for w in data["windows"]
    )
    return version


def version_problems(version: PlanVersion) -> list[str]:
    """What stops a draft from being published (empty: fine)."""
    problems = []
    for window in version.windows.all():
        for level in LEVELS:
            if getattr(window, level) is not None and not getattr(window, f"{level}_source_url"):
                problems.append(f"windows: the {level} estimate of {window} has no source")
        amounts = [getattr(window, level) for level in LEVELS]
        present = [a for a in amounts if a is not None]
        if present != sorted(present):
            problems.append(f"windows: low, mid and high of {window} must not decrease")
    clash = (
        PlanVersion.objects.filter(
            plan_id=version.plan_id,
            effective_from=version.effective_from,
            status=VersionStatus.PUBLISHED,
        )
        .exclude(pk=version.pk)
        .exists()
    )
    if clash:
        problems.append(
            f"effective_from: {version.plan.name} already has a published version starting "
            f"{version.effective_from:%Y-%m-%d %H:%M} UTC"
        )
    return problems


@transaction.atomic
def version_publish(*, version: PlanVersion) -> PlanVersion:
    locked = PlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)
    if locked.status == VersionStatus.PUBLISHED:
        raise PlanDataError(f"plan version {locked.pk} is already published")
    problems = version_problems(locked)
    if problems:
        raise PlanDataError(problems)
    locked.status = VersionStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at"])
    return locked


def version_create_draft_from(
    *, version: PlanVersion, effective_from: datetime | None = None
) -> PlanVersion:
    """A new draft with every term of ``version``; effective from tomorrow 00:00 UTC by default."""
    data = version_to_data(version)
    if effective_from is None:
        tomorrow = timezone.now().astimezone(UTC).date() + timedelta(days=1)
        effective_from = datetime.combine(tomorrow, time(0), tzinfo=UTC)
    data["effective_from"] = effective_from
    data["notes"] = f"Draft started from version {version.pk}."
    return version_create(plan=version.plan, data=data, derived_from=version)


# --------------------------------------------------------------------------- the bundled file


@dataclass
class LoadReport:
    plans_created: int = 0
    plans_updated: int = 0
    versions_created: int = 0
    versions_unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.plans_created or self.plans_updated or self.versions_created)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "changed": self.changed}


def read_plans_file(path: Path = BUNDLED_PLANS) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PlanDataError(f"{path.name}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("plans"), list):
        raise PlanDataError(f"{path.name}: expected an object with a 'plans' list")
    if not isinstance(data.get("sources"), dict):
        raise PlanDataError(f"{path.name}: expected a 'sources' object")
    return data


@transaction.atomic
def plans_load(data: dict[str, Any]) -> LoadReport:
    """Write plans and their published versions; change nothing that matches.

    A bundled version that differs from a published one at the same instant is a conflict:
    published history is never rewritten, so the whole load is rolled back.
    """
    report = LoadReport()
    sources = data["sources"]
    to_publish: list[tuple[Plan, dict[str, Any]]] = []
    for p_index, pdata in enumerate(data["plans"]):
        where = f"plans[{p_index}]"
        plan = _plan(pdata, where, report)
        to_publish += _versions(plan, pdata.get("versions") or [], sources, where, report)
    if report.conflicts:
        raise PlanDataError(report.conflicts)
    now = timezone.now()
    for plan, clean in to_publish:
        version = version_create(plan=plan, data=clean)
        # one UPDATE after the windows are in: migration 0002 freezes a published version's rows
        PlanVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.PUBLISHED, published_at=now
        )
        report.versions_created += 1
    return report


def _plan(pdata: Any, where: str, report: LoadReport) -> Plan:
    if not isinstance(pdata, dict) or not pdata.get("slug"):
        raise PlanDataError(f"{where}.slug: required")
    values = {
        "vendor": _choice(pdata.get("vendor"), f"{where}.vendor", sorted(VENDOR_SLUGS)),
        "name": str(pdata.get("name") or pdata["slug"]),
        "position": int(pdata.get("position") or 0),
        "notes": str(pdata.get("notes") or ""),
    }
    plan = Plan.objects.filter(slug=pdata["slug"]).first()
    if plan is None:
        plan = Plan(slug=pdata["slug"], **values)
        plan.full_clean()
        plan.save()
        report.plans_created += 1
        return plan
    changed = [k for k, v in values.items() if getattr(plan, k) != v]
    if changed:
        for k in changed:
            setattr(plan, k, values[k])
        plan.save(update_fields=changed)
        report.plans_updated += 1
    return plan


def _versions(
    plan: Plan, versions: list[Any], sources: dict[str, Any], where: str, report: LoadReport
) -> list[tuple[Plan, dict[str, Any]]]:
    published = {
        v.effective_from: v
        for v in PlanVersion.objects.filter(
            plan=plan, status=VersionStatus.PUBLISHED
        ).prefetch_related("windows")
    }
    previous: datetime | None = None
    new = []
    for index, vdata in enumerate(versions):
        vwhere = f"{where}.versions[{index}]"
        clean = clean_version_data(vdata, sources, vwhere)
        if previous is not None and clean["effective_from"] <= previous:
            raise PlanDataError(f"{vwhere}.effective_from: versions must be in increasing order")
        previous = clean["effective_from"]
        existing = published.get(clean["effective_from"])
        if existing is None:
            new.append((plan, clean))
        elif same_terms(version_to_data(existing), clean):
            report.versions_unchanged += 1
        else:
            report.conflicts.append(
                f"{vwhere}: {plan.slug} already has different published terms from "
                f"{clean['effective_from']:%Y-%m-%d %H:%M} UTC (id {existing.pk}); "
                "publish a new version instead"
            )
    return new
