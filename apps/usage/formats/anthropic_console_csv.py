"""Claude Console CSV exports: token usage and cost (log-formats.md section 3.4).

**Token usage** ``claude_api_tokens_<YYYY_MM>.csv``: one row per day x model x key x
workspace x usage type x context window, with disjoint token columns (Anthropic counts
never include cache tokens in input, section 0.1). Each row is one aggregate record.

**Cost** ``claude_api_cost_<from>_to_<to>.csv``: long format, one row per day x model x key x
token type with ``cost_usd`` in dollars (rounded to cents per row). A cost row says what was
charged, never how many tokens, so each becomes an aggregate record with zero tokens and
``billed_cost_usd`` = ``cost_usd``: imported beside the token export of the same days it
adds the billed dollars per model and day without touching the token counts. Rows with
identical keys occur and are SUMMED (the sample of 2026-02-12 has two
``input_cache_write_5m`` rows for Sonnet 4.5). Web-search rows carry no model (``--``) and
are skipped with their amount in the reason.

Both exports: ``model`` may be a display name ("Claude Haiku 4.5", "Claude 3.5 Sonnet
2024-10-22"), normalized to the API id spelling the catalog resolves ("claude-haiku-4-5",
"claude-3-5-sonnet-20241022"); dates are UTC midnight; ``context_window`` uses the Unicode
``≤``; the files may start with a BOM. Neither export counts requests: ``requests`` is 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime

from apps.rating.engine import UsageRecord
from apps.rating.records import RecordError, int_field, parse_timestamp, usd_field

from .anthropic_usage_report import anthropic_tier, long_context_flag, region
from .base import Event, LineError, Merge, Parsed, Skipped
from .openai_dashboard_csv import csv_header, iter_csv
from .openai_usage_api import bounded_key

TOKEN_COLUMNS = frozenset({"model_version", "usage_input_tokens_no_cache"})
COST_COLUMNS = frozenset({"model", "token_type", "cost_usd"})
_DATED_NAME = re.compile(r"^(?P<name>.*?)\s+(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$")
_SEPARATORS = re.compile(r"[\s.]+")
_NONE = frozenset({"", "--"})


def model_id(raw: str) -> str:
    """An API-id spelling for a Console model cell; API ids pass through unchanged.

    "Claude Haiku 4.5" -> "claude-haiku-4-5"; "Claude 3.5 Sonnet 2024-10-22" ->
    "claude-3-5-sonnet-20241022" (the dated display names of older models).
    """
    text = raw.strip()
    if " " not in text:
        return text
    text = text.lower()
    match = _DATED_NAME.match(text)
    suffix = ""
    if match:
        text, suffix = match["name"], f"-{match['y']}{match['m']}{match['d']}"
    return _SEPARATORS.sub("-", text).strip("-") + suffix


def usage_day(cells: Mapping[str, str]) -> datetime:
    value = cells.get("usage_date_utc", "")
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError as exc:
        raise RecordError("usage_date_utc", f"must be YYYY-MM-DD, got {value[:40]!r}") from exc
    # the column is named _utc: midnight UTC; 2000 to 2100, as every usage record
    return parse_timestamp(day.replace(tzinfo=UTC), "usage_date_utc")


def _tier(cells: Mapping[str, str]) -> str:
    # usage_type is the service tier in the token export ("standard", "batch"); the cost
    # export writes "message" for every token row, which says nothing about the tier.
    usage_type = cells.get("usage_type", "")
    return anthropic_tier("" if usage_type in ("message", "--") else usage_type, cells.get("speed"))


def _key(kind: str, cells: Mapping[str, str], names: tuple[str, ...]) -> str:
    values = [cells.get(n) or None for n in names]
    return bounded_key(f"anthropic_console_csv:{kind}", json.dumps(values, ensure_ascii=False))


_TOKEN_KEY = (
    "usage_date_utc",
    "model_version",
    "workspace",
    "api_key",
    "usage_type",
    "context_window",
    "inference_geo",
    "speed",
)
_COST_KEY = (
    "usage_date_utc",
    "model",
    "workspace",
    "api_key",
    "api_key_id",
    "usage_type",
    "context_window",
    "token_type",
    "cost_type",
    "inference_geo",
    "speed",
)


def token_record(cells: Mapping[str, str]) -> UsageRecord:
    return UsageRecord(
        provider="anthropic",
        model=model_id(cells["model_version"]),
        timestamp=usage_day(cells),
        input_tokens=int_field(cells, "usage_input_tokens_no_cache"),
        cache_read_tokens=int_field(cells, "usage_input_tokens_cache_read"),
        cache_write_5m_tokens=int_field(cells, "usage_input_tokens_cache_write_5m"),
        cache_write_1h_tokens=int_field(cells, "usage_input_tokens_cache_write_1h"),
        output_tokens=int_field(cells, "usage_output_tokens"),
        web_search_calls=int_field(cells, "web_search_count"),
        service_tier=_tier(cells),
        region=region(cells.get("inference_geo")),
        requests=0,
        long_context=long_context_flag(cells.get("context_window")),
    )


def cost_record(cells: Mapping[str, str]) -> UsageRecord:
    amount = usd_field(cells, "cost_usd", allow_negative=True)
    if amount is None:
        raise RecordError("cost_usd", "is required")
    return UsageRecord(
        provider="anthropic",
        model=model_id(cells["model"]),
        timestamp=usage_day(cells),
        service_tier=_tier(cells),
        region=region(cells.get("inference_geo")),
        billed_cost_usd=amount,
        requests=0,
    )


class AnthropicConsoleCSVParser:
    name = "anthropic_console_csv"
    description = "Claude Console token usage or cost CSV export (claude_api_tokens/cost_*.csv)"

    def sniff(self, head: bytes, filename: str) -> bool:
        header = csv_header(head)
        return "usage_date_utc" in header and (header >= TOKEN_COLUMNS or header >= COST_COLUMNS)

    def parse(self, lines: Iterable[bytes], filename: str) -> Iterator[Event]:
        for row in iter_csv(lines):
            if isinstance(row, LineError):
                yield row
                continue
            number, cells = row
            if "model_version" in cells:
                yield self._tokens(number, cells)
            elif "cost_usd" in cells:
                yield self._cost(number, cells)
            else:
                yield LineError(number, "neither a Console token row nor a cost row")
                return

    def _tokens(self, number: int, cells: dict[str, str]) -> Event:
        if cells["model_version"] in _NONE:
            return LineError(number, "model_version: is required")
        try:
            record = token_record(cells)
        except RecordError as exc:
            return LineError(number, str(exc))
        return Parsed(
            record, _key("tokens", cells, _TOKEN_KEY), number, merge=Merge.SUM, aggregate=True
        )

    def _cost(self, number: int, cells: dict[str, str]) -> Event:
        if cells.get("model", "") in _NONE:
            kind = cells.get("cost_type") or "cost"
            return Skipped(
                number, f"{kind} charge of ${cells.get('cost_usd')} has no model in the export"
            )
        try:
            record = cost_record(cells)
        except RecordError as exc:
            return LineError(number, str(exc))
        return Parsed(
            record, _key("cost", cells, _COST_KEY), number, merge=Merge.SUM, aggregate=True
        )


PARSER = AnthropicConsoleCSVParser()
