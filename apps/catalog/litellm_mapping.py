"""LiteLLM's ``model_prices_and_context_window.json`` <-> catalog version data (no database).

LiteLLM prices are floats in USD per token; ours are Decimals in USD per million tokens.
Floats exist only at this file boundary: ``Decimal(repr(f))`` is the shortest decimal that
reads back as the same float, so 3e-06 per token becomes exactly $3 per MTok and exports
as 3e-06 again.

Every key of an entry is mapped, ignored as a known non-price key, or reported as unknown
with a count and example ids: nothing unknown is dropped silently. A malformed file is
refused as a whole, naming the entry and the field, before anything is written.
Reading and writing price versions is ``services/litellm.py``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from apps.common.display import plain_decimal
from apps.rating.engine import CACHE_METERS, TOKEN_METERS

from .models import Rate, RegionMultiplier
from .version_data import TIER_NAMES, CatalogDataError

MILLION = Decimal(1_000_000)
# Stored precision (the catalog's columns): a value finer than the column is rounded, and
# the report says so.
PRICE_PLACES = Rate._meta.get_field("price").decimal_places
MULTIPLIER_PLACES = RegionMultiplier._meta.get_field("multiplier").decimal_places
MAX_PRICE = Decimal(10) ** (Rate._meta.get_field("price").max_digits - PRICE_PLACES)

NOT_MODELS = frozenset({"sample_spec"})  # LiteLLM's own schema documentation entry
FILE_METADATA = frozenset({"last_updated"})  # added by mirrors such as RoCry/llm-api-price

# <base>[_above_<N>k_tokens][_<tier>]; LiteLLM's long-context threshold is exclusive
COST_KEY = re.compile(
    r"^(?P<base>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost_above_1hr|cache_creation_input_token_cost)"
    r"(?:_above_(?P<k>\d+)k_tokens)?(?:_(?P<tier>batches|flex|priority))?$"
)
_BASE_METERS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}
_TIER_SUFFIXES = {"batches": "batch", "flex": "flex", "priority": "priority"}
# DeepSeek-style spelling of the cache-read price; read only when cache_read is absent or equal
CACHE_HIT_KEY = "input_cost_per_token_cache_hit"
UPLIFT_PREFIX = "regional_processing_uplift_multiplier_"
CONTEXT_KEYS = frozenset({"max_input_tokens", "max_output_tokens", "max_tokens"})
IGNORED_KEYS = frozenset(
    {
        "mode",
        "litellm_provider",
        "source",
        "deprecation_date",
        "tool_use_system_prompt_tokens",
        "metadata",
        "comment",
        "rpm",
        "tpm",
        "output_vector_size",
        "prompt_cache_min_tokens",  # a cache-policy fact, kept in CachePolicy by hand
        "web_search_billing_unit",
        "audio_transcription_config",
        "bedrock_output_config_effort_ceiling",
        "gemini_audio_only_live",
        "gemini_native_audio",
        "uses_embed_content",
        "use_openai_responses_path",
    }
)
IGNORED_PREFIXES = ("supports_", "supported_", "bedrock_converse_supports_")
# What we price: text generation. Embeddings, images, audio and rerankers are skipped.
TEXT_MODES = frozenset({"chat", "completion", "responses", None})

# cache_creation_input_token_cost is Anthropic's 5-minute write (the 1h write has its own
# _above_1hr key), so it is cache_write_5m for Claude wherever it is sold. OpenAI bills
# writes from GPT-5.6 on, and that price covers a 30-minute retention (docs/rating.md, rule
# 3), so for OpenAI and Azure OpenAI it is cache_write_30m.
OPENAI_STYLE_PROVIDERS = frozenset({"openai", "azure", "azure_text", "text-completion-openai"})
# LiteLLM's "gemini" is Google's Gemini API, which the catalog calls "google".
PROVIDER_SLUGS = {"gemini": "google"}
PROVIDER_NAMES = {"google": "Google"}
LITELLM_PROVIDERS = {ours: theirs for theirs, ours in PROVIDER_SLUGS.items()}


@dataclass
class MappedEntry:
    key: str
    provider: str | None
    mode: str | None
    data: dict[str, Any]  # version data in the JSON form of docs/catalog-data.md
    context_window: int | None = None
    max_output_tokens: int | None = None
    unknown: list[str] = field(default_factory=list)
    rounded: list[str] = field(default_factory=list)

    @property
    def skip_reason(self) -> str | None:
        rates = self.data["rates"]
        if "input" not in rates and "output" not in rates:
            return "no token prices"
        if "output" not in rates:
            return "no output price"
        if "input" not in rates:
            return "no input price"
        if self.mode not in TEXT_MODES:
            return f"mode {self.mode}"
        if not self.provider:
            return "no litellm_provider"
        return None


def provider_slug(litellm_provider: str) -> str:
    """Our provider slug for a LiteLLM provider name: lowercase, slug characters, ≤ 40."""
    raw = litellm_provider.strip().lower()
    slug = re.sub(r"[^a-z0-9_-]+", "-", PROVIDER_SLUGS.get(raw, raw)).strip("-")
    return slug[:40] or "unknown"


def is_openai_style(provider: str, model_id: str) -> bool:
    """OpenAI's cache semantics: its own API, Azure OpenAI, or an ``openai/`` route segment."""
    return (
        provider.lower() in OPENAI_STYLE_PROVIDERS or "openai" in model_id.lower().split("/")[:-1]
    )


def _fit(value: Decimal, places: int) -> tuple[Decimal, bool]:
    """``value`` within ``places`` decimals, without exponent; and whether it was rounded."""
    fitted = value
    if value.as_tuple().exponent < -places:  # type: ignore[operator]
        fitted = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    normal = fitted.normalize()
    if normal.as_tuple().exponent > 0:  # type: ignore[operator]
        normal = normal.quantize(Decimal(1))
    return normal, fitted != value


def _number(value: Any, where: str, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatalogDataError(f"{where}: must be a number ({what}), got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise CatalogDataError(f"{where}: must be finite, got {value!r}")
    if value < 0:
        raise CatalogDataError(f"{where}: must not be negative, got {value!r}")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def per_token_to_mtok(value: Any, where: str) -> tuple[Decimal, bool]:
    """USD per token (a JSON number) → USD per million tokens, and whether it was rounded."""
    price = _number(value, where, "USD per token") * MILLION
    if price >= MAX_PRICE:
        raise CatalogDataError(f"{where}: {value!r} per token is beyond any real price")
    return _fit(price, PRICE_PLACES)


def mtok_to_per_token(price: Decimal) -> float:
    """USD per million tokens → the float LiteLLM writes: $3 → 3e-06."""
    return float(price / MILLION)


def _token_count(value: Any, where: str) -> int | None:
    if value is None:
        return None
    bad = isinstance(value, bool) or not isinstance(value, int | float)
    if bad or value < 0 or (isinstance(value, float) and not value.is_integer()):
        raise CatalogDataError(f"{where}: must be a whole number of tokens, got {value!r}")
    return int(value)


def _meter(base: str, openai_style: bool) -> str:
    if base == "cache_creation_input_token_cost":
        return "cache_write_30m" if openai_style else "cache_write_5m"
    return _BASE_METERS[base]


def _is_ignored(key: str) -> bool:
    return key in IGNORED_KEYS or key.startswith(IGNORED_PREFIXES)


def map_entry(key: str, entry: Any) -> MappedEntry:
    """One LiteLLM entry as version data; raises CatalogDataError naming the key and field."""
    where = f'"{key}"'
    if not isinstance(entry, dict):
        raise CatalogDataError(f"{where}: must be an object, got {type(entry).__name__}")
    provider, mode = entry.get("litellm_provider"), entry.get("mode")
    if provider is not None and not isinstance(provider, str):
        raise CatalogDataError(f"{where}.litellm_provider: must be a string, got {provider!r}")
    openai_style = is_openai_style(provider or "", key)
    out = MappedEntry(
        key=key, provider=provider, mode=mode if isinstance(mode, str) else None, data={}
    )
    rates: dict[str, Decimal] = {}
    long_by_k: dict[int, dict[str, tuple[Decimal, str]]] = {}
    tier_rates: dict[str, dict[str, Decimal]] = {}
    regions: dict[str, Decimal] = {}
    tiers: dict[str, Decimal] = {}

    def price(name: str) -> Decimal:
        value, rounded = per_token_to_mtok(entry[name], f"{where}.{name}")
        if rounded:
            out.rounded.append(name)
        return value

    for name in entry:
        match = COST_KEY.match(name)
        if match:
            value, meter = price(name), _meter(match["base"], openai_style)
            k, tier = int(match["k"] or 0), match["tier"]
            if (match["k"] and tier) or (match["k"] and k == 0):
                out.unknown.append(name)  # our long-context rates are standard tier only
            elif k:
                long_by_k.setdefault(k, {})[meter] = (value, name)
            elif tier:
                tier_rates.setdefault(_TIER_SUFFIXES[tier], {})[meter] = value
            else:
                rates[meter] = value
        elif name == "provider_specific_entry":
            _provider_specific(entry[name], where, regions, tiers, out)
        elif name.startswith(UPLIFT_PREFIX):
            region = name.removeprefix(UPLIFT_PREFIX).lower()
            value = _multiplier(entry[name], f"{where}.{name}", out, name)
            if regions.setdefault(region, value) != value:
                out.unknown.append(name)
        elif name in CONTEXT_KEYS:
            _token_count(entry[name], f"{where}.{name}")
        elif name != CACHE_HIT_KEY and not _is_ignored(name):
            out.unknown.append(name)
    if CACHE_HIT_KEY in entry:
        hit = price(CACHE_HIT_KEY)
        if rates.setdefault("cache_read", hit) != hit:
            out.unknown.append(CACHE_HIT_KEY)
    out.context_window = _token_count(
        entry.get("max_input_tokens", entry.get("max_tokens")), f"{where}.max_input_tokens"
    )
    out.max_output_tokens = _token_count(
        entry.get("max_output_tokens"), f"{where}.max_output_tokens"
    )
    out.data = {"rates": {m: plain_decimal(p) for m, p in rates.items()}}
    if long_by_k:
        k = min(long_by_k)  # one threshold per version; any other is reported, not guessed
        out.unknown += [
            name for other in long_by_k if other != k for _, name in long_by_k[other].values()
        ]
        out.data["long_context"] = {
            "threshold": k * 1000,
            "inclusive": False,
            "rates": {m: plain_decimal(p) for m, (p, _) in long_by_k[k].items()},
        }
    if tier_rates:
        out.data["tier_rates"] = {
            t: {m: plain_decimal(p) for m, p in r.items()} for t, r in tier_rates.items()
        }
    if tiers:
        out.data["tiers"] = {t: plain_decimal(m) for t, m in tiers.items()}
    if regions:
        out.data["regions"] = {r: plain_decimal(m) for r, m in regions.items()}
    return out


def _multiplier(value: Any, where: str, out: MappedEntry, name: str) -> Decimal:
    fitted, rounded = _fit(_number(value, where, "a multiplier"), MULTIPLIER_PLACES)
    if rounded:
        out.rounded.append(name)
    return fitted


def _provider_specific(
    value: Any,
    where: str,
    regions: dict[str, Decimal],
    tiers: dict[str, Decimal],
    out: MappedEntry,
) -> None:
    """``{"us": 1.1, "fast": 6.0}``: tier names are tier multipliers, anything else a region."""
    if not isinstance(value, dict):
        raise CatalogDataError(f"{where}.provider_specific_entry: must be an object")
    for name, item in value.items():
        label = f"provider_specific_entry.{name}"
        if isinstance(item, bool) or not isinstance(item, int | float) or len(name) > 20:
            out.unknown.append(label)  # e.g. {"bedrock_invocation_schema": "titan_v2"}
            continue
        multiplier = _multiplier(item, f"{where}.{label}", out, label)
        if name in TIER_NAMES:
            tiers[name] = multiplier
        elif regions.setdefault(name.lower(), multiplier) != multiplier:
            out.unknown.append(label)


def parse_litellm_json(raw: bytes | str, name: str = "file") -> dict[str, Any]:
    """The decoded file; raises CatalogDataError when it is not a JSON object."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise CatalogDataError(f"{name}: not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise CatalogDataError(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise CatalogDataError(f"{name}: expected a JSON object of model entries")
    return data


def map_file(data: Any) -> list[MappedEntry]:
    """Every model entry mapped, or CatalogDataError listing every problem (up to 50)."""
    if not isinstance(data, dict):
        raise CatalogDataError("file: expected a JSON object of model entries")
    mapped, problems = [], []
    for key, entry in data.items():
        if key in NOT_MODELS or (key in FILE_METADATA and not isinstance(entry, dict)):
            continue
        try:
            mapped.append(map_entry(key, entry))
        except CatalogDataError as exc:
            problems += exc.messages
    if problems:
        more = [f"... and {len(problems) - 50} more"] if len(problems) > 50 else []
        raise CatalogDataError(problems[:50] + more)
    return mapped


def litellm_entry(
    *,
    provider: str,
    model_id: str,
    data: dict[str, Any],
    context_window: int | None = None,
    max_output_tokens: int | None = None,
    source_url: str = "",
) -> dict[str, Any]:
    """A LiteLLM entry from cleaned version data (``version_to_data``).

    LiteLLM has no place for time bands, fees, cache storage, 12h/24h writes, explicit
    fast-tier rates or the ``*`` region; those are left out. Its long-context keys name
    thousands of tokens, so an inclusive or uneven threshold is written to the nearest 1K.
    """
    openai_style = is_openai_style(provider, model_id)
    entry: dict[str, Any] = {
        "litellm_provider": LITELLM_PROVIDERS.get(provider, provider),
        "mode": "chat",
    }
    if context_window:
        entry["max_input_tokens"] = context_window
    if max_output_tokens:
        entry["max_output_tokens"] = max_output_tokens
    if context_window or max_output_tokens:
        entry["max_tokens"] = max_output_tokens or context_window  # older readers use it
    rates = data["rates"]
    entry.update(_cost_keys(rates, openai_style, ""))
    long = data.get("long_context")
    if long:
        long_rates = dict(long["rates"])
        for meter, base in rates.items():
            factor = long["output_multiplier" if meter == "output" else "input_multiplier"]
            if meter not in long_rates and factor is not None:
                long_rates[meter] = base * factor
        suffix = f"_above_{round(long['threshold'] / 1000)}k_tokens"
        entry.update(_cost_keys(long_rates, openai_style, suffix))
    for tier, suffix in (("batch", "_batches"), ("flex", "_flex"), ("priority", "_priority")):
        entry.update(_cost_keys(_tier_rates(data, tier), openai_style, suffix))
    specific: dict[str, float] = {}
    for region, multiplier in data.get("regions", {}).items():
        if region == "*":
            continue
        if openai_style:
            entry[f"{UPLIFT_PREFIX}{region}"] = float(multiplier)
        else:
            specific[region] = float(multiplier)
    if data.get("tiers", {}).get("fast") is not None:
        specific["fast"] = float(data["tiers"]["fast"])
    if specific:
        entry["provider_specific_entry"] = specific
    if source_url:
        entry["source"] = source_url
    return entry


def _tier_rates(data: dict[str, Any], tier: str) -> dict[str, Decimal]:
    """Explicit tier prices, else list price × the tier multiplier (as the engine rates)."""
    explicit = data.get("tier_rates", {}).get(tier, {})
    multiplier = data.get("tiers", {}).get(tier)
    out = dict(explicit)
    if multiplier is None:
        return out
    for meter, base in data["rates"].items():
        if meter in explicit or meter not in TOKEN_METERS:
            continue
        if meter in CACHE_METERS and not data.get("tier_multipliers_apply_to_cache", True):
            continue
        out[meter] = base * multiplier
    return out


def _cost_keys(rates: dict[str, Decimal], openai_style: bool, suffix: str) -> dict[str, float]:
    out = {}
    for meter, key in (
        ("input", "input_cost_per_token"),
        ("output", "output_cost_per_token"),
        ("cache_read", "cache_read_input_token_cost"),
        ("cache_write_1h", "cache_creation_input_token_cost_above_1hr"),
    ):
        if meter in rates:
            out[key + suffix] = mtok_to_per_token(rates[meter])
    preferred = (
        ("cache_write_30m", "cache_write_5m")
        if openai_style
        else ("cache_write_5m", "cache_write_30m")
    )
    write = next((rates[m] for m in preferred if m in rates), None)
    if write is not None:
        out["cache_creation_input_token_cost" + suffix] = mtok_to_per_token(write)
    return out
