"""Plan versions: immutable once published (model layer and database), publish, drafts, diff."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, connection, transaction

from apps.plans.models import (
    Plan,
    PlanVersion,
    PlanWindow,
    PublishedPlanVersionError,
    VersionStatus,
)
from apps.plans.selectors import version_diff
from apps.plans.services import version_create_draft_from, version_publish

pytestmark = pytest.mark.django_db
DB_ERRORS = (IntegrityError, InternalError)


def published(slug: str = "claude-max-20x", when: str = "2026-05-06") -> PlanVersion:
    return PlanVersion.objects.get(
        plan__slug=slug, effective_from=datetime.fromisoformat(when).replace(tzinfo=UTC)
    )


def draft(plan: Plan, when: datetime) -> PlanVersion:
    version = PlanVersion.objects.create(plan=plan, effective_from=when, source_url="https://example.test",
                                         checked_on=when.date(), monthly_price_usd=D("10"))  # fmt: skip
    PlanWindow.objects.create(version=version, kind="session_5h", unit="usd", low=D("1"),
                              low_source_url="https://example.test")  # fmt: skip
    return version


def test_a_published_version_refuses_changes_in_the_model_layer():
    version = published()
    version.notes = "edited"
    with pytest.raises(PublishedPlanVersionError):
        version.save()
    with pytest.raises(PublishedPlanVersionError):
        version.delete()
    window = version.windows.first()
    window.low = D("1")
    with pytest.raises(PublishedPlanVersionError):
        window.save()
    with pytest.raises(PublishedPlanVersionError):
        PlanWindow(version=version, kind="weekly", unit="usd").save()


def test_a_published_version_refuses_changes_in_the_database_itself():
    version = published()
    with pytest.raises(DB_ERRORS), transaction.atomic():
        PlanVersion.objects.filter(pk=version.pk).update(monthly_price_usd=D("1"))
    with pytest.raises(DB_ERRORS), transaction.atomic():
        PlanWindow.objects.filter(version=version).update(low=D("0"))
    with pytest.raises(DB_ERRORS), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO plans_planwindow (version_id, kind, label, harness, unit, "
            "usd_per_unit_source_url, low_source_url, mid_source_url, high_source_url, notes) "
            "VALUES (%s, 'weekly', '', '', 'usd', '', '', '', '', '')",
            [version.pk],
        )
    version.refresh_from_db()
    assert version.monthly_price_usd == D("200")


def test_a_draft_is_editable_until_published_and_then_applies():
    plan = Plan.objects.get(slug="cursor-pro")
    version = draft(plan, datetime(2027, 1, 1, tzinfo=UTC))
    version.monthly_price_usd = D("25")
    version.save()
    PlanWindow.objects.filter(version=version).update(low=D("2"))
    done = version_publish(version=version)
    assert done.status == VersionStatus.PUBLISHED and done.published_at is not None


def test_two_published_versions_of_a_plan_cannot_start_at_the_same_instant():
    plan = Plan.objects.get(slug="claude-max-20x")
    clash = draft(plan, datetime(2026, 5, 6, tzinfo=UTC))
    with pytest.raises(ValidationError, match="already has a published version"):
        version_publish(version=clash)
    with pytest.raises(DB_ERRORS), transaction.atomic():
        PlanVersion.objects.filter(pk=clash.pk).update(
            status="published", published_at=clash.created_at
        )


def test_estimates_must_not_decrease_low_to_high_in_the_database():
    version = draft(Plan.objects.get(slug="cursor-pro"), datetime(2027, 2, 1, tzinfo=UTC))
    with pytest.raises(DB_ERRORS), transaction.atomic():
        PlanWindow.objects.create(
            version=version, kind="weekly", unit="usd", low=D("5"), high=D("4")
        )


def test_a_draft_from_a_published_version_copies_every_term_and_window():
    source = published()
    copy = version_create_draft_from(
        version=source, effective_from=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert copy.status == VersionStatus.DRAFT and copy.derived_from == source
    assert copy.windows.count() == source.windows.count()
    changed = {row.field for row in version_diff(source, copy) if row.changed}
    assert changed == {"effective_from", "status", "notes"}


def test_the_diff_names_each_changed_capacity():
    before, after = published(when="2026-01-01"), published(when="2026-05-06")
    changed = {
        row.field: (row.left, row.right) for row in version_diff(before, after) if row.changed
    }
    assert changed["windows[session_5h].low"] == ("66", "132")
    assert changed["windows[session_5h].mid"] == ("200", "400")
    assert changed["windows[session_5h].high"] == ("363", "726")
