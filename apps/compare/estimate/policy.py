"""A provider's prompt cache as the estimate sees it, and the strategies a workload can use.

Pure Python. A ``CachePolicyView`` is a catalog cache policy reduced to what pricing needs
(the model's own row over its provider's); ``strategies`` lists the caching strategies a
model offers, by the names ``quick``, ``replay`` and the pages share.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from apps.rating.engine import PriceSheet

RETENTION_SECONDS: Final = {"5m": 300, "30m": 1800, "1h": 3600, "12h": 43200, "24h": 86400}
# Automatic caches whose retention no source states: OpenAI documents its in-memory caches
# as "typically cleared after 5-10 minutes of inactivity", so assume the short end.
DEFAULT_AUTOMATIC_RETENTION: Final = 300
# A keep-alive ping: the cached prefix plus a token of new input and one of output.
PING_INPUT: Final = 1
PING_OUTPUT: Final = 1
MAX_PINGS_PER_GAP: Final = 10_000


@dataclass(frozen=True, slots=True)
class CachePolicyView:
    """What the estimate needs from a catalog cache policy (model row over provider row)."""

    kind: str  # explicit | automatic | both | none
    ttl_options: tuple[str, ...] = ()
    default_ttl: str = ""
    hit_refreshes_ttl: bool = True
    min_cacheable_tokens: int = 0
    increment_tokens: int = 1
    automatic_hit_rate: Decimal | None = None
    write_fee: bool = False


NO_CACHE: Final = CachePolicyView(kind="none")


def automatic_ttl(policy: CachePolicyView) -> str:
    """The retention of an automatic cache. With both kinds (Gemini), the default TTL is the
    explicit cache's; the implicit cache's retention is not published, so none is assumed."""
    return "" if policy.kind == "both" else (policy.default_ttl or "")


def strategies(sheet: PriceSheet, policy: CachePolicyView) -> list[tuple[str, str]]:
    """(name, label) of every caching strategy this model offers, 'none' first."""
    out = [("none", "no caching")]
    kind = policy.kind
    if kind in ("explicit", "both"):
        for ttl in policy.ttl_options:
            meter = f"cache_write_{ttl}"
            if kind == "explicit" and meter in sheet.rates:
                out.append((f"cache_{ttl}", f"explicit cache, {ttl} TTL"))
        if kind == "explicit" and "cache_write_5m" in sheet.rates and "5m" in policy.ttl_options:
            out.append(
                ("cache_5m_keepalive", "explicit cache, 5m TTL kept alive by pings when cheaper")
            )
        if (
            kind == "both"
            and sheet.storage_per_mtok_hour is not None
            and "cache_read" in sheet.rates
        ):
            out.append(
                (
                    "explicit_storage",
                    f"explicit cache with storage, {policy.default_ttl or '1h'} TTL",
                )
            )
    if kind in ("automatic", "both") and "cache_read" in sheet.rates:
        out.append(("automatic", "automatic prefix caching"))
        if policy.write_fee:
            for ttl in policy.ttl_options:
                if ttl != (policy.default_ttl or ttl) and f"cache_write_{ttl}" in sheet.rates:
                    out.append((f"automatic_{ttl}", f"automatic caching with {ttl} paid retention"))
    return out
