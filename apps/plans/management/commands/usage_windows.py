from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.plans.history import build_history
from apps.plans.report import history_json, history_text
from apps.usage.models import Workload


class Command(BaseCommand):
    help = (
        "An imported workload's 5-hour windows, weeks and months, each plan's share of them, "
        "and what the history cost on each plan and on the API."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--workload", required=True, help="workload name (as given to import_usage)"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        # The operator's own workloads (imported from the command line) have no owner and
        # unique names; a user's workload is found by name only when no one else uses it.
        named = Workload.objects.filter(name=options["workload"])
        workload = named.filter(owner__isnull=True).first()
        if workload is None:
            found = list(named[:2])
            if not found:
                raise CommandError(f"no workload named {options['workload']!r}")
            if len(found) > 1:
                raise CommandError(f"several users have a workload named {options['workload']!r}")
            workload = found[0]
        history = build_history(workload)
        if options["json"]:
            self.stdout.write(json.dumps(history_json(history)))
            return
        self.stdout.write(history_text(history))
