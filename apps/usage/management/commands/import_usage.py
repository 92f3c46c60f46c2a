from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.usage.formats import PARSER_MODULES, UnknownFormatError
from apps.usage.models import ImportJob, JobStatus
from apps.usage.services import (
    ImportRejected,
    import_job_create,
    import_job_run,
    job_report,
    workload_get_or_create,
)


class Command(BaseCommand):
    help = (
        "Import usage logs or exports (files, folders, .gz/.zip/.tar archives) into a workload and "
        "price them. Runs on a Celery worker when a broker is configured, in-process otherwise."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", help="files or folders (e.g. ~/.claude/projects)")
        parser.add_argument("--workload", required=True, help="workload name (created if new)")
        parser.add_argument(
            "--format", default="", choices=["", *PARSER_MODULES], help="skip detection"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--timeout", type=int, default=6 * 3600, help="seconds to wait for a worker"
        )

    def handle(self, *args, **options) -> None:
        paths = [Path(p).expanduser().resolve() for p in options["paths"]]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}")
        workload = workload_get_or_create(name=options["workload"])
        try:
            job = import_job_create(
                workload=workload,
                files=[(p.name, p, False) for p in paths],
                format=options["format"],
            )
        except (UnknownFormatError, ImportRejected) as exc:
            raise CommandError(str(exc)) from exc
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # In-process: run now rather than at commit (inside a caller's transaction, such as
            # a test, on_commit would never fire). The queued on_commit run then finds it done.
            import_job_run(job_id=job.pk)
        job = self._wait(job, options["timeout"], quiet=options["json"])
        if job.status == JobStatus.FAILED:
            raise CommandError(f"import failed: {job.message}")
        report = job_report(job)
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        self._print(report)

    def _wait(self, job: ImportJob, timeout: int, quiet: bool) -> ImportJob:
        """In-process (eager) runs are finished already; with a broker, poll the job row."""
        deadline = time.monotonic() + timeout
        job.refresh_from_db()
        while job.is_active:
            if time.monotonic() > deadline:
                raise CommandError(
                    f"import {job.code} still {job.status} after {timeout}s; is a worker running?"
                )
            if not quiet and not settings.CELERY_TASK_ALWAYS_EAGER:
                sys.stderr.write(
                    f"\r{job.percent:3d}%  {job.lines_read:,} lines, {job.records_imported:,} records"
                )
            time.sleep(0.5)
            job.refresh_from_db()
        return job

    def _print(self, r: dict) -> None:
        w = self.stdout.write
        w(
            f"{r['lines_read']:,} lines read, {r['records_imported']:,} records imported, "
            f"{r['duplicates_skipped']:,} duplicates skipped, {r['lines_skipped']:,} lines without usage, "
            f"{r['errors']['count']:,} errors"
        )
        for row in r["by_model"]:
            w(
                f"  {row['provider']:<10} {row['model']:<32} {row['requests']:>9,} requests  ${row['cost_usd']}"
            )
        w(f"  total ${r['total_cost_usd']}")
        if r["unpriced"]["records"]:
            w(
                f"  unpriced: {r['unpriced']['records']:,} records ({', '.join(r['unpriced']['models'])})"
            )
        for sample in r["errors"]["samples"][:10]:
            w(f"  {sample['file']}:{sample['line']}: {sample['reason']}")
