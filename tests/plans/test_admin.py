"""Staff edit drafts, publish, start a draft from any version, diff and read the history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.plans.models import Plan, PlanVersion, VersionStatus

pytestmark = pytest.mark.django_db


def version(slug: str, when: str) -> PlanVersion:
    return PlanVersion.objects.get(
        plan__slug=slug, effective_from=datetime.fromisoformat(when).replace(tzinfo=UTC)
    )


def test_staff_start_a_draft_edit_it_and_publish_it(client, alice):
    client.force_login(alice)
    source = version("cursor-pro", "2026-01-01")
    response = client.post(f"/admin/plans/planversion/{source.pk}/new-draft/",
                           {"effective_from": "2027-01-01 00:00"})  # fmt: skip
    draft = PlanVersion.objects.get(plan__slug="cursor-pro", status=VersionStatus.DRAFT)
    assert response.status_code == 302 and draft.derived_from == source
    assert draft.windows.count() == 1
    page = client.get(f"/admin/plans/planversion/{draft.pk}/change/").content.decode()
    assert "Publish" in page and "Diff with previous" in page
    client.post(f"/admin/plans/planversion/{draft.pk}/publish/")
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED


def test_a_published_version_is_read_only_in_the_admin(client, alice):
    client.force_login(alice)
    published = version("claude-max-20x", "2026-05-06")
    page = client.get(f"/admin/plans/planversion/{published.pk}/change/").content.decode()
    assert 'name="monthly_price_usd"' not in page and "New draft from this" in page
    assert (
        client.post(f"/admin/plans/planversion/{published.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def test_diff_and_history(client, alice, bob):
    client.force_login(alice)
    a, b = version("claude-max-20x", "2026-01-01"), version("claude-max-20x", "2026-05-06")
    diff = client.get(f"/admin/plans/planversion/diff/{a.pk}/{b.pk}/").content.decode()
    assert "windows[session_5h].mid" in diff and "400" in diff
    plan = Plan.objects.get(slug="claude-max-20x")
    history = client.get(f"/admin/plans/plan/{plan.pk}/history-of-terms/").content.decode()
    assert "3 versions" in history
    client.force_login(bob)  # not staff
    assert client.get(f"/admin/plans/plan/{plan.pk}/history-of-terms/").status_code == 302


def test_django_s_own_change_history_pages_still_work(client, alice):
    client.force_login(alice)
    plan = Plan.objects.get(slug="cursor-pro")
    assert client.get(f"/admin/plans/plan/{plan.pk}/history/").status_code == 200
    published = version("cursor-pro", "2026-01-01")
    assert client.get(f"/admin/plans/planversion/{published.pk}/history/").status_code == 200
