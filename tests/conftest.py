"""Shared fixtures. Personas follow healthchecks: alice (staff), bob (signed-in user), anonymous."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    """`postgres` and `broker` tests skip visibly without those services, and fail in CI."""
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_broker = not settings.CELERY_TASK_ALWAYS_EAGER
    if REQUIRE_SERVICES and not (on_postgres and has_broker):
        raise pytest.UsageError(
            "REQUIRE_SERVICES=1 but DATABASE_URL/CELERY_BROKER_URL do not point at them"
        )
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            reason = "needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)"
            item.add_marker(pytest.mark.skip(reason=reason))
        if "broker" in item.keywords and not has_broker:
            reason = "needs a Celery broker: set CELERY_BROKER_URL=redis://... (CI does)"
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the bundled catalog once per test session, as `make run` does."""
    with django_db_blocker.unblock():
        call_command("load_catalog", verbosity=0)
        call_command("load_plans", verbosity=0)


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    """Tests share one client address; the tests of the limits themselves set them low."""
    settings.COMPUTE_UNITS_PER_MINUTE_ANON = 10**9
    settings.COMPUTE_UNITS_PER_MINUTE_USER = 10**9
    settings.LOGIN_MAX_FAILURES = 10**9


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(
        "alice", "alice@example.com", "pw-alice-123", is_staff=True, is_superuser=True
    )


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "pw-bob-123")


@pytest.fixture
def db_vendor() -> str:
    return connection.vendor
