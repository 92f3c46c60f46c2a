"""Price versions: immutability once published, the version in effect per instant, bad data."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, connection, transaction

from apps.catalog.diff import version_diff
from apps.catalog.models import PriceVersion, PublishedVersionError, Rate, VersionStatus
from apps.catalog.selectors import resolve_model, version_at
from apps.catalog.services.versions import version_create_draft_from, version_publish
from apps.catalog.version_data import CatalogDataError, clean_version_data

from .factories import make_model, make_version, utc

pytestmark = pytest.mark.django_db

DB_ERRORS = (IntegrityError, InternalError)


def test_published_version_refuses_changes_in_the_model_layer():
    version = make_version(make_model())
    version.notes = "edited"
    with pytest.raises(PublishedVersionError):
        version.save()
    with pytest.raises(PublishedVersionError):
        version.delete()
    rate = version.rates.get(meter="input")
    rate.price = D("1")
    with pytest.raises(PublishedVersionError):
        rate.save()
    with pytest.raises(PublishedVersionError):
        Rate(version=version, meter="cache_write_5m", price=D("1")).save()


def test_published_version_refuses_changes_in_the_database_itself():
    version = make_version(make_model())
    # queryset.update() bypasses save(): the trigger still refuses it
    with pytest.raises(DB_ERRORS), transaction.atomic():
        PriceVersion.objects.filter(pk=version.pk).update(notes="sneaky")
    with pytest.raises(DB_ERRORS), transaction.atomic():
        Rate.objects.filter(version=version).update(price=D("0"))
    with pytest.raises(DB_ERRORS), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_rate (version_id, meter, context, service_tier, price) "
            "VALUES (%s, 'cache_write_1h', 'base', '', 1)",
            [version.pk],
        )
    version.refresh_from_db()
    assert version.notes == ""
    assert version.rates.get(meter="input").price == D("3")


def test_drafts_stay_editable_until_published():
    version = make_version(make_model(), publish=False)
    version.notes = "fine"
    version.save()
    Rate.objects.filter(version=version, meter="input").update(price=D("2.5"))
    published = version_publish(version=version)
    assert published.status == VersionStatus.PUBLISHED and published.published_at is not None


def test_the_version_in_effect_is_the_latest_one_starting_at_or_before_the_instant():
    model = make_model()
    v1 = make_version(model, "2026-01-01T00:00:00Z", rates={"input": "3", "output": "15"})
    v2 = make_version(model, "2026-10-07T00:00:00Z", rates={"input": "2", "output": "10"})
    v3 = make_version(
        model, "2027-01-01T00:00:00Z", rates={"input": "1", "output": "5"}
    )  # scheduled
    make_version(model, "2026-05-01T00:00:00Z", publish=False, rates={"input": "9", "output": "9"})
    assert version_at(model, utc("2025-12-31T23:59:59Z")) is None
    assert version_at(model, utc("2026-01-01T00:00:00Z")) == v1
    assert version_at(model, utc("2026-05-02T00:00:00Z")) == v1  # drafts never apply
    assert version_at(model, utc("2026-10-06T23:59:59Z")) == v1
    assert version_at(model, utc("2026-10-07T00:00:00Z")) == v2
    assert version_at(model, utc("2027-06-01T00:00:00Z")) == v3


def test_two_published_versions_cannot_start_at_the_same_instant():
    model = make_model()
    make_version(model, "2026-01-01T00:00:00Z")
    clash = make_version(model, "2026-01-01T00:00:00Z", publish=False)
    with pytest.raises(ValidationError, match="already has a published version"):
        version_publish(version=clash)
    # and the database's partial unique index holds even without the service
    with pytest.raises(DB_ERRORS), transaction.atomic():
        PriceVersion.objects.filter(pk=clash.pk).update(
            status="published", published_at=clash.created_at
        )


def test_a_draft_started_from_a_published_version_copies_every_price():
    model = make_model()
    source = make_version(
        model,
        rates={"input": "3", "output": "15", "cache_write_1h": "6"},
        long_context={"threshold": 200000, "rates": {"input": "6", "output": "22.5"}},
        tiers={"batch": "0.5"},
        regions={"us": "1.1"},
        time_bands=[{"label": "off-peak", "start": "10:00", "end": "24:00", "multiplier": "0.5"}],
    )
    draft = version_create_draft_from(version=source, effective_from=utc("2026-12-01T00:00:00Z"))
    assert draft.status == VersionStatus.DRAFT and draft.derived_from == source
    changed = [row.field for row in version_diff(source, draft) if row.changed]
    assert set(changed) == {"effective_from", "status", "notes"}


def test_diff_names_each_changed_price():
    model = make_model()
    a = make_version(
        model, "2026-01-01T00:00:00Z", rates={"input": "2", "output": "10", "cache_read": "0.2"}
    )
    b = make_version(
        model, "2026-10-07T00:00:00Z", rates={"input": "2", "output": "10", "cache_read": "0.1"}
    )
    changed = {row.field: (row.left, row.right) for row in version_diff(a, b) if row.changed}
    assert changed["rates.cache_read"] == ("0.2", "0.1")
    assert "rates.input" not in changed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rates": {"input": "-1", "output": "2"}}, "rates.input: must not be negative"),
        ({"rates": {"input": "abc", "output": "2"}}, "rates.input: not a number"),
        ({"rates": {"input": 0.1, "output": "2"}}, "rates.input: must be a decimal string"),
        ({"rates": {"input": "1"}}, "input and output prices are required"),
        (
            {"rates": {"input": "1", "output": "1", "cache_write_2h": "1"}},
            "cache_write_2h: unknown meter",
        ),
        ({"effective_from": "yesterday"}, "effective_from: not an ISO 8601"),
        ({"tiers": {"turbo": "2"}}, "tiers.turbo: unknown service tier"),
        (
            {
                "time_bands": [
                    {"start": "00:00", "end": "05:00", "multiplier": "0.5"},
                    {"start": "04:00", "end": "06:00", "multiplier": "0.5"},
                ]
            },
            "overlap",
        ),
    ],
)
def test_bad_version_data_is_refused_with_the_field_named(data, message):
    base = {"effective_from": "2026-01-01T00:00:00Z", "rates": {"input": "1", "output": "2"}}
    with pytest.raises(CatalogDataError, match=message):
        clean_version_data({**base, **data}, "v")


def test_negative_prices_are_refused_by_the_database_too():
    version = make_version(make_model(), publish=False)
    with pytest.raises(DB_ERRORS), transaction.atomic():
        Rate.objects.filter(version=version, meter="input").update(price=D("-1"))


def test_aliases_resolve_to_the_same_model():
    model = make_model("test-sonnet-x", aliases=["test-sonnet-x-20250929"])
    for raw in ("test-sonnet-x", "test-sonnet-x-20250929", "acme/test-sonnet-x", "TEST-SONNET-X"):
        assert resolve_model(raw) == model
    assert resolve_model("test-sonnet-y") is None
