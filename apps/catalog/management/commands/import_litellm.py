from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.litellm_mapping import parse_litellm_json
from apps.catalog.services.litellm import (
    LITELLM_SOURCE_URL,
    default_effective_from,
    litellm_import,
)
from apps.catalog.version_data import CatalogDataError, parse_instant


class Command(BaseCommand):
    help = (
        "Import LiteLLM's model_prices_and_context_window.json as import-sourced price "
        "versions (drafts unless --publish). Re-importing the same file changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--effective-from", help="ISO 8601 instant the prices apply from (default: now, UTC)"
        )
        parser.add_argument("--publish", action="store_true", help="publish the new versions")
        parser.add_argument(
            "--provider",
            action="extend",
            nargs="+",
            default=[],
            metavar="SLUG",
            help="only entries of these litellm_provider values",
        )
        parser.add_argument(
            "--only-known", action="store_true", help="only update models already in the catalog"
        )
        parser.add_argument("--source-url", default=LITELLM_SOURCE_URL)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options) -> None:
        try:
            path = Path(options["file"])
            data = parse_litellm_json(path.read_bytes(), name=path.name)
            when = options["effective_from"]
            report = litellm_import(
                data=data,
                effective_from=(
                    parse_instant(when, "--effective-from") if when else default_effective_from()
                ),
                publish=options["publish"],
                providers=set(options["provider"]) or None,
                only_known=options["only_known"],
                source_url=options["source_url"],
            )
        except (CatalogDataError, OSError) as exc:
            messages = getattr(exc, "messages", [str(exc)])
            raise CommandError(
                "LiteLLM file not imported (nothing was written):\n  " + "\n  ".join(messages)
            ) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        state = "published" if options["publish"] else "draft"
        self.stdout.write(
            f"litellm: {report.entries} entries, {report.versions_created} {state} versions "
            f"created, {report.unchanged} unchanged, {report.models_created} models created, "
            f"{sum(report.skipped.values())} skipped"
        )
        if report.unchanged_drafts:
            self.stdout.write(
                f"  {report.unchanged_drafts} unchanged entries match unpublished drafts: "
                "publish those in the admin"
            )
        for reason, count in sorted(report.skipped.items()):
            self.stdout.write(f"  skipped {count}: {reason}")
        for key, item in report.as_dict()["unknown_keys"].items():
            self.stdout.write(
                f"  not imported {key}: {item['count']} (e.g. {', '.join(item['examples'])})"
            )
        for error in report.errors:
            self.stderr.write(f"  error: {error}")
