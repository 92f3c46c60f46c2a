from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.plans.services import BUNDLED_PLANS, PlanDataError, plans_load, read_plans_file


class Command(BaseCommand):
    help = "Load the bundled subscription plans (or FILE in the same format). Re-running changes nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", default=str(BUNDLED_PLANS))
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options) -> None:
        try:
            report = plans_load(read_plans_file(Path(options["file"])))
        except (PlanDataError, OSError) as exc:
            messages = getattr(exc, "messages", [str(exc)])
            raise CommandError(
                "plans not loaded (nothing was written):\n  " + "\n  ".join(messages)
            ) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        if options["verbosity"] == 0:
            return
        self.stdout.write(
            f"plans: {report.plans_created} plans and {report.versions_created} versions created, "
            f"{report.versions_unchanged} versions unchanged"
            + ("" if report.changed else " (nothing to do)")
        )
