"""Price sheets for engine tests, with the fact sheet's real prices (USD per MTok)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from apps.rating.engine import LongContextTier, PriceSheet, TimeBand

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def sheet(model: str, provider: str = "anthropic", version: str | None = None, **kw) -> PriceSheet:
    kw.setdefault("effective_from", T0)
    return PriceSheet(version_id=version or model, provider=provider, model=model, **kw)


SONNET_45 = sheet(
    "claude-sonnet-4-5",
    rates={
        "input": D("3"),
        "output": D("15"),
        "cache_read": D("0.30"),
        "cache_write_5m": D("3.75"),
        "cache_write_1h": D("6"),
    },
    long_context=LongContextTier(
        threshold=200_000,
        rates={
            "input": D("6"),
            "output": D("22.50"),
            "cache_read": D("0.60"),
            "cache_write_5m": D("7.50"),
            "cache_write_1h": D("12"),
        },
    ),
    tier_multipliers={"batch": D("0.5")},
)

HAIKU_45 = sheet(
    "claude-haiku-4-5",
    rates={
        "input": D("1"),
        "output": D("5"),
        "cache_read": D("0.10"),
        "cache_write_5m": D("1.25"),
        "cache_write_1h": D("2"),
    },
    tier_multipliers={"batch": D("0.5")},
)

HAIKU_55 = sheet(
    "claude-haiku-5-5",
    rates={
        "input": D("0.10"),
        "output": D("0.50"),
        "cache_read": D("0.01"),
        "cache_write_5m": D("0.125"),
        "cache_write_1h": D("0.20"),
    },
    long_context=LongContextTier(
        threshold=100_000,
        rates={
            "input": D("0.50"),
            "output": D("2.50"),
            "cache_read": D("0.05"),
            "cache_write_5m": D("0.625"),
            "cache_write_1h": D("1.00"),
        },
    ),
    tier_multipliers={"batch": D("0.5")},
)

OPUS_46 = sheet(
    "claude-opus-4-6",
    rates={
        "input": D("5"),
        "output": D("25"),
        "cache_read": D("0.50"),
        "cache_write_5m": D("6.25"),
        "cache_write_1h": D("10"),
    },
    tier_multipliers={"batch": D("0.5"), "fast": D("6")},
    region_multipliers={"us": D("1.1")},
)

GPT_54 = sheet(
    "gpt-5.4",
    provider="openai",
    rates={"input": D("2.50"), "output": D("15"), "cache_read": D("0.25")},
    long_context=LongContextTier(
        threshold=272_000,
        rates={"input": D("5"), "output": D("22.50"), "cache_read": D("0.50")},
        input_multiplier=D("2"),
        output_multiplier=D("1.5"),
    ),
    tier_multipliers={"batch": D("0.5"), "flex": D("0.5"), "priority": D("2")},
)

# Same rule expressed only as multipliers (how an admin might enter a new GPT model).
GPT_54_MULTIPLIERS = sheet(
    "gpt-5.4-mult",
    provider="openai",
    rates={"input": D("2.50"), "output": D("15"), "cache_read": D("0.25")},
    long_context=LongContextTier(
        threshold=272_000, input_multiplier=D("2"), output_multiplier=D("1.5")
    ),
)

GPT_5 = sheet(
    "gpt-5",
    provider="openai",
    rates={"input": D("1.25"), "output": D("10"), "cache_read": D("0.125")},
    tier_multipliers={"batch": D("0.5"), "flex": D("0.5"), "priority": D("2")},
)

# DeepSeek from 2026-08-16 16:00 UTC: list (peak) rates; off-peak = 50% outside
# 01:00-04:00 and 06:00-10:00 UTC.
OFF_PEAK = D("0.5")
DEEPSEEK_FLASH = sheet(
    "deepseek-flash",
    provider="deepseek",
    rates={"input": D("0.30"), "output": D("1.20"), "cache_read": D("0.006")},
    time_bands=(
        TimeBand(0, 60, OFF_PEAK, "off-peak"),
        TimeBand(240, 360, OFF_PEAK, "off-peak"),
        TimeBand(600, 1440, OFF_PEAK, "off-peak"),
    ),
)

GROK_47 = sheet(
    "grok-4.7",
    provider="xai",
    rates={"input": D("2"), "output": D("6"), "cache_read": D("0.50")},
    long_context=LongContextTier(
        threshold=200_000,
        inclusive=True,
        rates={"input": D("4"), "output": D("12"), "cache_read": D("1")},
    ),
    call_fees={"web_search": D("5")},
    region_multipliers={"us": D("1.1")},
)

GEMINI_25_PRO = sheet(
    "gemini-2.5-pro",
    provider="google",
    rates={"input": D("1.25"), "output": D("10"), "cache_read": D("0.125")},
    storage_per_mtok_hour=D("4.50"),
)
