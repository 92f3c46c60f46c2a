"""Three uploads at once on a fresh SQLite file, tasks in-process: the default set-up.

Run by test_sqlite_concurrency.py in a subprocess (its own database file, not the test
database): ``python -m tests.usage.concurrent_uploads <session.jsonl>``; prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pricing_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from apps.usage.models import ImportJob  # noqa: E402

UPLOADS = 3


def main(session: bytes) -> dict:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    users = [get_user_model().objects.create_user(f"user{i}") for i in range(UPLOADS)]
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        clients.append(client)
    start = threading.Barrier(UPLOADS)
    statuses: dict[int, object] = {}

    def upload(i: int) -> None:
        start.wait()
        try:
            response = clients[i].post(
                reverse("usage:import_create"),
                {"workload": f"w{i}", "files": [SimpleUploadedFile("s.jsonl", session)]},
            )
            statuses[i] = response.status_code
        except Exception as exc:  # noqa: BLE001 - reported to the test
            statuses[i] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(UPLOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = [
        {"status": j.status, "records": j.records_imported, "message": j.message}
        for j in ImportJob.objects.order_by("pk")
    ]
    return {"responses": [statuses.get(i) for i in range(UPLOADS)], "jobs": jobs}


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as handle:
        print(json.dumps(main(handle.read())))
