"""Concurrent uploads on the default SQLite set-up wait for each other instead of failing.

Three uploads at once used to end in "database is locked" (a 500) with their jobs stuck
"running". The settings make SQLite writers take the lock at BEGIN and wait for it
(``transaction_mode`` IMMEDIATE, ``timeout``) in WAL mode. The test runs the real default
set-up in a subprocess: its own SQLite file (the test database is an in-memory one that
threads cannot share like a file), tasks in-process, three threads posting at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.usage.helpers import BIG_SESSION, REPO


def test_three_uploads_at_once_on_sqlite_all_finish(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "",  # tasks in-process, as `make run`
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "IMPORT_BATCH_RECORDS": "10",  # many short write transactions that interleave
        "DJANGO_SETTINGS_MODULE": "pricing_site.settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.usage.concurrent_uploads", str(BIG_SESSION)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["responses"] == [302, 302, 302], report
    assert [(j["status"], j["records"]) for j in report["jobs"]] == [("done", 217)] * 3, report
    assert not list(Path(tmp_path / "uploads").rglob("*.jsonl"))  # deleted once imported


def test_sqlite_writers_wait_for_the_lock():
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 20
        assert "journal_mode=WAL" in options["init_command"]
