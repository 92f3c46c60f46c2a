from __future__ import annotations

import pytest

from pricing_site.celery import app as celery_app


@pytest.fixture(autouse=True)
def tasks_in_process(request, settings):
    """Imports run in-process in these tests, even where CI configures a broker.

    The tests run inside a transaction that never commits, so a task enqueued on commit
    would never reach a worker. Tests marked `broker` use a real worker instead.
    """
    if request.node.get_closest_marker("broker"):
        yield
        return
    # read Celery's own setting first: the first read loads its configuration from Django's
    # settings, and must not capture this test's override
    previous = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
