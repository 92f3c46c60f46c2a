"""The JSON objects of the catalog API (/api/v1/): prices as decimal strings, never floats.

Built from versions fetched by ``selectors`` (no queries of their own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.common.display import plain_decimal

from .models import LanguageModel, PriceVersion
from .version_data import base_rates, data_to_json, version_to_data

API_PRICE_KEYS = (
    "input",
    "output",
    "cache_read",
    "cache_write_5m",
    "cache_write_30m",
    "cache_write_1h",
    "cache_write_12h",
    "cache_write_24h",
)


def price_object(model: LanguageModel, version: PriceVersion) -> dict[str, Any]:
    """The JSON shape of /api/v1/models entries and /api/v1/prices."""
    data = version_to_data(version)
    prices = {k: _dec(v) for k, v in data["rates"].items() if k in API_PRICE_KEYS}
    long = data["long_context"]
    return {
        "provider": model.provider.slug,
        "model": model.slug,
        "name": model.name,
        "aliases": [a.alias for a in model.aliases.all()],
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "status": model.status,
        "prices": prices,
        "unit": "USD per 1M tokens",
        "long_context": (
            {
                "threshold_tokens": long["threshold"],
                "inclusive": long["inclusive"],
                "prices": {k: _dec(v) for k, v in long["rates"].items()},
                "input_multiplier": _dec(long["input_multiplier"]),
                "output_multiplier": _dec(long["output_multiplier"]),
            }
            if long
            else None
        ),
        "service_tier_multipliers": {k: _dec(v) for k, v in data["tiers"].items()},
        "region_multipliers": {k: _dec(v) for k, v in data["regions"].items()},
        "time_bands": data_to_json(data).get("time_bands", []),
        "fees_per_1k_calls": {k: _dec(v) for k, v in data["fees"].items()},
        "storage_per_mtok_hour": _dec(data["storage_per_mtok_hour"]),
        "version_id": version.pk,
        "effective_from": iso_utc(version.effective_from),
        "source_url": version.source_url,
        "source_kind": version.source_kind,
        "checked_on": version.checked_on.isoformat() if version.checked_on else None,
    }


def version_prices(version: PriceVersion) -> dict[str, str | None]:
    """The ``prices`` object of the API for one version: decimal strings by meter."""
    rates = base_rates(version)
    return {k: _dec(rates[k]) for k in API_PRICE_KEYS if k in rates}


def iso_utc(when: datetime) -> str:
    """An instant as the API writes it: ISO 8601 in UTC with a Z."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else plain_decimal(value)
