from __future__ import annotations

import io
import json
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.catalog.services.catalog_load import BUNDLED_CATALOG, catalog_load, read_catalog_file
from apps.catalog.version_data import CatalogDataError


class Command(BaseCommand):
    help = (
        "Load the bundled price catalog (or FILE in the same format). Re-running changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", default=str(BUNDLED_CATALOG))
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options) -> None:
        try:
            report = catalog_load(read_catalog_file(Path(options["file"])))
        except (CatalogDataError, OSError) as exc:
            messages = getattr(exc, "messages", [str(exc)])
            raise CommandError(
                "catalog not loaded (nothing was written):\n  " + "\n  ".join(messages)
            ) from exc
        if Path(options["file"]) == Path(BUNDLED_CATALOG) and apps.is_installed("apps.plans"):
            # The bundled catalog includes the subscription plans (their own command, by name:
            # the catalog app does not import the plans app).
            call_command("load_plans", verbosity=0, stdout=io.StringIO())
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        if options["verbosity"] == 0:
            return
        self.stdout.write(
            f"catalog: {report.models_created} models and {report.versions_created} price versions created, "
            f"{report.versions_unchanged} versions unchanged, {report.aliases_created} aliases added"
            + ("" if report.changed else " (nothing to do)")
        )
