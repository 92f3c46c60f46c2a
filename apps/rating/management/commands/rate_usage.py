from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.rating.records import RecordError, parse_timestamp
from apps.rating.selectors import PricingChoiceError, rate_jsonl


class Command(BaseCommand):
    help = (
        "Price normalized usage records (JSON Lines, see docs/usage-record.md) at the prices of "
        "their own day, or repriced with --at / --version."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="JSON Lines file of normalized records, or - for stdin")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        # --version means a price version here, as the interface says; Django's own
        # --version (print Django's version) is replaced for this command.
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--at", help="reprice everything at the prices in effect at this ISO instant"
        )
        group.add_argument(
            "--version", dest="version_id", help="reprice everything under this price version id"
        )

    def handle(self, *args, **options) -> None:
        at = None
        if options["at"]:
            try:
                at = parse_timestamp(options["at"], "--at")
            except RecordError as exc:
                raise CommandError(str(exc)) from exc
        path = options["file"]
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8-sig")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            with stream:
                summary, errors, lines = rate_jsonl(
                    stream, source=path, at=at, version_id=options["version_id"]
                )
        except PricingChoiceError as exc:
            raise CommandError(str(exc)) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from exc
        result = summary.as_dict()
        result["lines_read"] = lines
        result["errors"] = errors.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self._print_table(result)

    def _print_table(self, result: dict) -> None:
        out = self.stdout
        out.write(f"{'provider':<10} {'model':<32} {'requests':>9} {'cost (USD)':>16}")
        for row in result["by_model"]:
            out.write(
                f"{row['provider']:<10} {row['model']:<32} {row['requests']:>9} {row['cost_usd']:>16}"
            )
        out.write(f"{'total':<53} {result['total_cost_usd']:>16}")
        unpriced = result["unpriced"]
        if unpriced["records"]:
            out.write(f"unpriced: {unpriced['records']} records ({', '.join(unpriced['models'])})")
            for reason, count in unpriced["reasons"].items():
                out.write(f"  {count} x {reason}")
        if result["errors"]["count"]:
            out.write(f"{result['errors']['count']} malformed lines, e.g.:")
            for sample in result["errors"]["samples"][:5]:
                out.write(f"  {sample}")
        for rec in result["reconciliation"]:
            out.write(
                f"reconciliation {rec['model']}: computed {rec['computed_usd']} vs billed "
                f"{rec['billed_usd']} (difference {rec['difference_usd']})"
            )
