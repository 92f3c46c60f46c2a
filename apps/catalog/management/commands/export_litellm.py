from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.services.litellm import litellm_export
from apps.catalog.version_data import CatalogDataError, parse_instant


class Command(BaseCommand):
    help = (
        "Write the published prices in effect (now, or --at) in LiteLLM's "
        "model_prices_and_context_window.json format."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--at", help="ISO 8601 instant (default: now)")
        parser.add_argument("--output", help="write to FILE instead of standard output")
        parser.add_argument(
            "--include-aliases", action="store_true", help="also key each entry by its aliases"
        )

    def handle(self, *args, **options) -> None:
        try:
            at = parse_instant(options["at"], "--at") if options["at"] else None
        except CatalogDataError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        entries = litellm_export(at=at, include_aliases=options["include_aliases"])
        text = json.dumps(entries, indent=4) + "\n"
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        try:
            Path(options["output"]).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{options['output']}: {exc.strerror}") from exc
        self.stderr.write(f"litellm: {len(entries)} entries written to {options['output']}")
