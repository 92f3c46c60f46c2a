"""The data form of a price version (docs/catalog-data.md): validate it, read it from rows.

The bundled loader, the LiteLLM importer, drafts, diffs and the API all go through it. No
writes here (services/versions.py stores versions) and no queries: ``version_to_data``
reads the rows a version was fetched with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from apps.common.display import plain_decimal
from apps.rating.engine import FEE_METERS, SERVICE_TIERS, TOKEN_METERS

from .models import PriceVersion

TIER_NAMES = tuple(t for t in SERVICE_TIERS if t != "standard")
RATE_METERS = frozenset((*TOKEN_METERS, *FEE_METERS))


class CatalogDataError(ValidationError):
    """Bad catalog data; the message names the field."""


# --------------------------------------------------------------------------- parsing helpers


def parse_price(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        # floats are refused: 0.1 + 0.2 is not how money is written down
        raise CatalogDataError(f"{field}: must be a decimal string, got {value!r}")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise CatalogDataError(f"{field}: not a number: {value!r}") from exc
    if not price.is_finite():
        raise CatalogDataError(f"{field}: must be finite, got {value!r}")
    if price < 0:
        raise CatalogDataError(f"{field}: must not be negative, got {value!r}")
    return price


def parse_instant(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise CatalogDataError(f"{field}: must be an ISO 8601 date-time")
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CatalogDataError(f"{field}: not an ISO 8601 date-time: {value!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def parse_date(value: Any, field: str):
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError as exc:
        raise CatalogDataError(f"{field}: not an ISO date: {value!r}") from exc


def _minute(value: Any, field: str) -> int:
    if not isinstance(value, str) or ":" not in value:
        raise CatalogDataError(f"{field}: must be HH:MM, got {value!r}")
    hours, minutes = value.split(":", 1)
    if not (hours.isdigit() and minutes.isdigit()):
        raise CatalogDataError(f"{field}: must be HH:MM, got {value!r}")
    total = int(hours) * 60 + int(minutes)
    if not 0 <= total <= 1440 or int(minutes) >= 60:
        raise CatalogDataError(f"{field}: must be between 00:00 and 24:00, got {value!r}")
    return total


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _rates(data: Any, field: str, *, meters: frozenset[str] = RATE_METERS) -> dict[str, Decimal]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CatalogDataError(f"{field}: must be an object of meter to price")
    out = {}
    for meter, value in data.items():
        if meter not in meters:
            raise CatalogDataError(
                f"{field}.{meter}: unknown meter (known: {', '.join(sorted(meters))})"
            )
        out[meter] = parse_price(value, f"{field}.{meter}")
    return out


# --------------------------------------------------------------------------- data <-> rows


def clean_version_data(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate a version's data and return it with Decimals and datetimes; raises CatalogDataError."""
    if not isinstance(data, dict):
        raise CatalogDataError(f"{where}: must be an object")
    out: dict[str, Any] = {
        "effective_from": parse_instant(data.get("effective_from"), f"{where}.effective_from"),
        "source_url": str(data.get("source_url") or ""),
        "source_kind": data.get("source_kind") or "official",
        "checked_on": parse_date(data.get("checked_on"), f"{where}.checked_on"),
        "notes": str(data.get("notes") or ""),
        "rates": _rates(data.get("rates"), f"{where}.rates"),
    }
    if out["source_kind"] not in ("official", "secondary", "import"):
        raise CatalogDataError(f"{where}.source_kind: must be official, secondary or import")
    if "input" not in out["rates"] or "output" not in out["rates"]:
        raise CatalogDataError(f"{where}.rates: input and output prices are required")
    long = data.get("long_context")
    if long:
        threshold = long.get("threshold")
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold <= 0:
            raise CatalogDataError(f"{where}.long_context.threshold: must be a positive integer")
        out["long_context"] = {
            "threshold": threshold,
            "inclusive": bool(long.get("inclusive", False)),
            "rates": _rates(
                long.get("rates"), f"{where}.long_context.rates", meters=frozenset(TOKEN_METERS)
            ),
            "input_multiplier": _opt_price(
                long.get("input_multiplier"), f"{where}.long_context.input_multiplier"
            ),
            "output_multiplier": _opt_price(
                long.get("output_multiplier"), f"{where}.long_context.output_multiplier"
            ),
        }
    else:
        out["long_context"] = None
    tiers = data.get("tiers") or {}
    for name in tiers:
        if name not in TIER_NAMES:
            raise CatalogDataError(
                f"{where}.tiers.{name}: unknown service tier (known: {', '.join(TIER_NAMES)})"
            )
    out["tiers"] = {
        k: parse_price(v, f"{where}.tiers.{k}") for k, v in tiers.items() if v is not None
    }
    tier_rates = data.get("tier_rates") or {}
    out["tier_rates"] = {}
    for name, rates in tier_rates.items():
        if name not in TIER_NAMES:
            raise CatalogDataError(f"{where}.tier_rates.{name}: unknown service tier")
        out["tier_rates"][name] = _rates(
            rates, f"{where}.tier_rates.{name}", meters=frozenset(TOKEN_METERS)
        )
    out["tier_multipliers_apply_to_cache"] = bool(data.get("tier_multipliers_apply_to_cache", True))
    regions = data.get("regions") or {}
    out["regions"] = {
        str(k).lower(): parse_price(v, f"{where}.regions.{k}") for k, v in regions.items()
    }
    bands: list[dict[str, Any]] = []
    for i, band in enumerate(data.get("time_bands") or []):
        f = f"{where}.time_bands[{i}]"
        start, end = _minute(band.get("start"), f + ".start"), _minute(band.get("end"), f + ".end")
        if start >= end:
            raise CatalogDataError(f"{f}: start must be before end")
        weekdays = band.get("weekdays")
        if weekdays is not None and (
            not isinstance(weekdays, list)
            or not all(isinstance(d, int) and 0 <= d <= 6 for d in weekdays)
        ):
            raise CatalogDataError(f"{f}.weekdays: a list of 0 (Monday) .. 6 (Sunday), or null")
        bands.append(
            {
                "label": str(band.get("label") or ""),
                "start": start,
                "end": end,
                "multiplier": parse_price(band.get("multiplier"), f + ".multiplier"),
                "weekdays": sorted(weekdays) if weekdays is not None else None,
            }
        )
    bands.sort(key=lambda b: b["start"])
    for a, b in zip(bands, bands[1:], strict=False):
        if b["start"] < a["end"] and _days_overlap(a["weekdays"], b["weekdays"]):
            raise CatalogDataError(
                f"{where}.time_bands: bands {_hhmm(a['start'])} and {_hhmm(b['start'])} overlap"
            )
    out["time_bands"] = bands
    fees = data.get("fees") or {}
    out["fees"] = _rates(fees, f"{where}.fees", meters=frozenset(FEE_METERS))
    out["storage_per_mtok_hour"] = _opt_price(
        data.get("storage_per_mtok_hour"), f"{where}.storage_per_mtok_hour"
    )
    return out


def _days_overlap(a: list[int] | None, b: list[int] | None) -> bool:
    return a is None or b is None or bool(set(a) & set(b))


def _opt_price(value: Any, field: str) -> Decimal | None:
    return None if value is None else parse_price(value, field)


def version_to_data(version: PriceVersion) -> dict[str, Any]:
    """The comparable data form of a stored version (Decimals, not strings)."""
    rates, long_rates, tier_rates, fees = version.split_rates()
    long = None
    if version.long_context_threshold:
        long = {
            "threshold": version.long_context_threshold,
            "inclusive": version.long_context_inclusive,
            "rates": long_rates,
            "input_multiplier": version.long_context_input_multiplier,
            "output_multiplier": version.long_context_output_multiplier,
        }
    tiers = {
        name: getattr(version, f"{name}_multiplier")
        for name in TIER_NAMES
        if getattr(version, f"{name}_multiplier") is not None
    }
    bands = [
        {
            "label": b.label,
            "start": b.start_minute,
            "end": b.end_minute,
            "multiplier": b.multiplier,
            "weekdays": [int(d) for d in b.weekdays.split(",")] if b.weekdays else None,
        }
        for b in sorted(version.time_bands.all(), key=lambda b: b.start_minute)
    ]
    return {
        "effective_from": version.effective_from.astimezone(UTC),
        "source_url": version.source_url,
        "source_kind": version.source_kind,
        "checked_on": version.checked_on,
        "notes": version.notes,
        "rates": rates,
        "long_context": long,
        "tiers": tiers,
        "tier_rates": tier_rates,
        "tier_multipliers_apply_to_cache": version.tier_multipliers_apply_to_cache,
        "regions": {r.region: r.multiplier for r in version.region_multipliers.all()},
        "time_bands": bands,
        "fees": fees,
        "storage_per_mtok_hour": version.storage_per_mtok_hour,
    }


def data_to_json(data: dict[str, Any]) -> dict[str, Any]:
    """Turn cleaned version data back into the JSON form of docs/catalog-data.md."""

    def conv(value: Any) -> Any:
        if isinstance(value, Decimal):
            return plain_decimal(value)
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: conv(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [conv(v) for v in value]
        return value

    out = conv(data)
    out["time_bands"] = [
        {
            **band,
            "start": _hhmm(data["time_bands"][i]["start"]),
            "end": _hhmm(data["time_bands"][i]["end"]),
        }
        for i, band in enumerate(out.get("time_bands", []))
    ]
    for key in ("long_context", "tiers", "tier_rates", "regions", "time_bands", "fees"):
        if not out.get(key):
            out.pop(key, None)
    return out


def same_prices(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two cleaned versions price identically (metadata such as notes ignored)."""
    keys = (
        "rates",
        "long_context",
        "tiers",
        "tier_rates",
        "tier_multipliers_apply_to_cache",
        "regions",
        "time_bands",
        "fees",
        "storage_per_mtok_hour",
    )
    return all(a.get(k) == b.get(k) for k in keys)


def base_rates(version: PriceVersion) -> dict[str, Decimal]:
    """Standard-tier, base-context token prices of a version (uses the prefetched rates)."""
    return {
        r.meter: r.price
        for r in version.rates.all()
        if r.context == "base" and not r.service_tier and r.meter in TOKEN_METERS
    }
