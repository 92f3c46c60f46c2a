"""The admin: publish, new draft, diff, history, and who may change prices."""

from __future__ import annotations

from decimal import Decimal as D
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from apps.catalog.models import PriceVersion, Rate, VersionStatus

from .factories import make_model, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions():
    model = make_model("admin-test-model")
    old = make_version(
        model, "2026-01-01T00:00:00Z", rates={"input": "2", "output": "10", "cache_read": "0.2"}
    )
    new = make_version(
        model, "2026-10-07T00:00:00Z", rates={"input": "2", "output": "10", "cache_read": "0.1"}
    )
    draft = make_version(
        model, "2026-12-01T00:00:00Z", publish=False, rates={"input": "1.5", "output": "8"}
    )
    return {"model": model, "old": old, "new": new, "draft": draft}


@pytest.fixture
def staff_client(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def limited_staff(django_user_model):
    """Staff who may only view prices."""
    user = django_user_model.objects.create_user(
        "carol", "c@example.com", "pw-carol-123", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_priceversion", "view_languagemodel"])
    )
    client = Client()
    client.force_login(user)
    return client


def test_staff_publish_a_draft_from_its_page(staff_client, versions):
    draft = versions["draft"]
    url = reverse("admin:catalog_priceversion_publish", args=[draft.pk])
    response = staff_client.post(url)
    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED and draft.published_at is not None


def test_publishing_needs_post(staff_client, versions):
    url = reverse("admin:catalog_priceversion_publish", args=[versions["draft"].pk])
    assert staff_client.get(url).status_code == HTTPStatus.FORBIDDEN


def test_publish_action_reports_problems_and_publishes_the_rest(staff_client, versions):
    broken = make_version(versions["model"], "2027-01-01T00:00:00Z", publish=False)
    Rate.objects.filter(version=broken, meter="output").delete()
    response = staff_client.post(
        reverse("admin:catalog_priceversion_changelist"),
        {"action": "publish_selected", "_selected_action": [versions["draft"].pk, broken.pk]},
        follow=True,
    )
    assert response.status_code == HTTPStatus.OK
    assert "a standard output price is required" in response.content.decode()
    assert PriceVersion.objects.get(pk=versions["draft"].pk).status == VersionStatus.PUBLISHED
    assert PriceVersion.objects.get(pk=broken.pk).status == VersionStatus.DRAFT


def test_a_published_version_page_is_read_only_and_cannot_be_deleted(staff_client, versions):
    old = versions["old"]
    url = reverse("admin:catalog_priceversion_change", args=[old.pk])
    page = staff_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert 'name="source_url"' not in page.content.decode()  # rendered read-only
    staff_client.post(
        url, {"notes": "changed", "effective_from_0": "2020-01-01", "effective_from_1": "00:00"}
    )
    old.refresh_from_db()
    assert old.notes == "" and old.effective_from.year == 2026
    delete = staff_client.post(
        reverse("admin:catalog_priceversion_delete", args=[old.pk]), {"post": "yes"}
    )
    assert delete.status_code == HTTPStatus.FORBIDDEN
    assert PriceVersion.objects.filter(pk=old.pk).exists()


def test_staff_start_a_new_draft_from_any_version(staff_client, versions):
    url = reverse("admin:catalog_priceversion_new_draft", args=[versions["old"].pk])
    assert staff_client.get(url).status_code == HTTPStatus.OK
    response = staff_client.post(url, {"effective_from": "2027-02-01 00:00"})
    assert response.status_code == HTTPStatus.FOUND
    draft = PriceVersion.objects.get(derived_from=versions["old"])
    assert draft.status == VersionStatus.DRAFT
    assert draft.rates.get(meter="cache_read").price == D("0.2")


def test_diff_shows_versions_side_by_side_with_changes_marked(staff_client, versions):
    url = reverse("admin:catalog_priceversion_diff", args=[versions["old"].pk, versions["new"].pk])
    page = staff_client.get(url).content.decode()
    assert "rates.cache_read" in page
    assert "<strong>0.1</strong>" in page
    assert "field" in page and "differ" in page


def test_compare_action_redirects_to_the_diff(staff_client, versions):
    response = staff_client.post(
        reverse("admin:catalog_priceversion_changelist"),
        {"action": "compare_two", "_selected_action": [versions["old"].pk, versions["new"].pk]},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse(
        "admin:catalog_priceversion_diff", args=[versions["old"].pk, versions["new"].pk]
    )


def test_model_history_lists_every_version_with_what_changed(staff_client, versions):
    url = reverse("admin:catalog_languagemodel_price_history", args=[versions["model"].pk])
    page = staff_client.get(url).content.decode()
    assert (
        page.count("#" + str(versions["old"].pk)) >= 1 and "#" + str(versions["draft"].pk) in page
    )
    assert "rates.cache_read: 0.2 → 0.1" in page


@pytest.mark.parametrize(
    "url_name",
    ["admin:catalog_priceversion_changelist", "admin:catalog_priceversion_add"],
)
def test_anonymous_and_non_staff_users_are_sent_to_login(bob, url_name, versions):
    anonymous = Client()
    assert anonymous.get(reverse(url_name)).status_code == HTTPStatus.FOUND
    signed_in = Client()
    signed_in.force_login(bob)
    response = signed_in.get(reverse(url_name))
    assert response.status_code == HTTPStatus.FOUND and "/login/" in response["Location"]


def test_non_staff_cannot_publish_or_create_drafts(bob, versions):
    client = Client()
    client.force_login(bob)
    client.post(reverse("admin:catalog_priceversion_publish", args=[versions["draft"].pk]))
    client.post(
        reverse("admin:catalog_priceversion_new_draft", args=[versions["old"].pk]),
        {"effective_from": "2027-02-01 00:00"},
    )
    assert PriceVersion.objects.get(pk=versions["draft"].pk).status == VersionStatus.DRAFT
    assert not PriceVersion.objects.filter(derived_from=versions["old"]).exists()


def test_view_only_staff_cannot_change_prices(limited_staff, versions):
    draft = versions["draft"]
    assert (
        limited_staff.get(reverse("admin:catalog_priceversion_changelist")).status_code
        == HTTPStatus.OK
    )
    publish = limited_staff.post(reverse("admin:catalog_priceversion_publish", args=[draft.pk]))
    assert publish.status_code == HTTPStatus.FORBIDDEN
    new = limited_staff.post(
        reverse("admin:catalog_priceversion_new_draft", args=[draft.pk]),
        {"effective_from": "2027-02-01 00:00"},
    )
    assert new.status_code == HTTPStatus.FORBIDDEN
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_admin_writes_need_a_csrf_token(alice, versions):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        reverse("admin:catalog_priceversion_publish", args=[versions["draft"].pk])
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert PriceVersion.objects.get(pk=versions["draft"].pk).status == VersionStatus.DRAFT
