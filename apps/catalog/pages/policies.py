"""Cache and batch policies on the model page: the provider's beside the model's override."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps.catalog.display import percent_display, safe_link, tokens_display, yes_no
from apps.catalog.models import BatchPolicy, CachePolicy
from apps.common.display import DASH


def cache_policy_fields(p: CachePolicy) -> list[tuple[str, str]]:
    return [
        ("Kind", p.get_kind_display()),
        ("Retentions (TTL)", ", ".join(p.ttl_options) or DASH),
        ("Default TTL", p.default_ttl or DASH),
        ("A hit refreshes the TTL", yes_no(p.hit_refreshes_ttl)),
        ("Minimum cacheable tokens", tokens_display(p.min_cacheable_tokens)),
        ("Cached in steps of", tokens_display(p.increment_tokens)),
        ("Max breakpoints", DASH if p.max_breakpoints is None else str(p.max_breakpoints)),
        ("Writes cost extra", yes_no(p.write_fee)),
        ("Assumed automatic hit rate", percent_display(p.automatic_hit_rate)),
        ("Checked", p.checked_on.isoformat() if p.checked_on else DASH),
    ]


def batch_policy_fields(p: BatchPolicy) -> list[tuple[str, str]]:
    return [
        ("Discount", percent_display(p.discount)),
        ("Applies to cache", yes_no(p.applies_to_cache)),
        (
            "Turnaround",
            DASH if p.turnaround_hours is None else f"within {p.turnaround_hours} h",
        ),
        (
            "Requests per batch",
            DASH if p.max_requests_per_batch is None else f"{p.max_requests_per_batch:,}",
        ),
        ("Checked", p.checked_on.isoformat() if p.checked_on else DASH),
    ]


@dataclass(frozen=True)
class PolicyTable:
    """A provider's policy beside the model's own override, field by field."""

    rows: list[tuple[str, str, str]]
    has_override: bool
    sources: list[tuple[str, str | None, str]]  # (whose, link, notes)

    def __bool__(self) -> bool:
        return bool(self.rows)


def policy_table(
    provider_policy: Any, model_policy: Any, fields: Callable[[Any], list[tuple[str, str]]]
) -> PolicyTable:
    present = [p for p in (provider_policy, model_policy) if p is not None]
    if not present:
        return PolicyTable([], False, [])
    left = fields(provider_policy) if provider_policy else None
    right = fields(model_policy) if model_policy else None
    labels = [label for label, _ in (left or right or [])]
    rows = [
        (
            label,
            left[i][1] if left else DASH,
            right[i][1] if right else "",
        )
        for i, label in enumerate(labels)
    ]
    sources = [
        (whose, safe_link(p.source_url), p.notes)
        for whose, p in (("Provider", provider_policy), ("This model", model_policy))
        if p is not None and (p.source_url or p.notes)
    ]
    return PolicyTable(rows, model_policy is not None, sources)
