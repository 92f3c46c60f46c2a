"""What the estimate core is given, read from the database; and the calls that price it.

The one module of the comparison that reads the database for ``apps.compare.estimate``:
candidates from the catalog (each model's price sheet at a date, its cache policy, what
the page shows) and an imported workload's usage rows. ``estimate``, ``estimate_conversation``
and ``estimate_imported`` read those inputs once and call the core once; the workload they
are given is already valid (parsed by ``forms`` or ``ConversationWorkload.from_mapping``).

Catalog reads live in the one catalog-generation cache (``apps.rating.adapter``): the price
book until the catalog changes, models and cache policies also at most a minute old.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.catalog.models import CachePolicy, LanguageModel, Provider
from apps.rating.adapter import Generation, catalog_generation, published_book
from apps.usage.models import ImportJob, JobStatus, UsageRow, Workload

from .estimate.conversation import estimate_timeline, estimate_workload
from .estimate.logs import ROW_FIELDS, timeline_from_usage_rows
from .estimate.policy import NO_CACHE, CachePolicyView
from .estimate.quick import QuickWorkload, estimate_quick
from .estimate.results import Candidate, ModelEstimate
from .estimate.timeline import ConversationWorkload, Timeline

# Cache-policy and model edits change no catalog generation: they show within a minute.
CATALOG_MAX_AGE = 60.0


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What the comparison shows of a model besides its prices."""

    name: str
    context_window: int | None
    max_output_tokens: int | None


@dataclass(frozen=True, slots=True)
class CatalogFacts:
    """Models, cache policies and provider names, read together and cached together."""

    models: dict[str, ModelFacts]
    policies: dict[str, CachePolicyView]
    provider_names: dict[str, str]


def _policy_view(row: CachePolicy | None) -> CachePolicyView:
    if row is None:
        return NO_CACHE
    return CachePolicyView(
        kind=row.kind,
        ttl_options=tuple(row.ttl_options or ()),
        default_ttl=row.default_ttl,
        hit_refreshes_ttl=row.hit_refreshes_ttl,
        min_cacheable_tokens=row.min_cacheable_tokens or 0,
        increment_tokens=row.increment_tokens or 1,
        automatic_hit_rate=row.automatic_hit_rate,
        write_fee=row.write_fee,
    )


def _read_catalog() -> CatalogFacts:
    """Cache policy per model slug (the model's own row, else its provider's) and the rest."""
    rows = list(CachePolicy.objects.select_related("provider", "model"))
    by_provider = {r.provider.slug: r for r in rows if r.model_id is None}
    by_model = {r.model.slug: r for r in rows if r.model is not None}
    models: dict[str, ModelFacts] = {}
    policies: dict[str, CachePolicyView] = {}
    for model in LanguageModel.objects.select_related("provider"):
        models[model.slug] = ModelFacts(model.name, model.context_window, model.max_output_tokens)
        row = by_model.get(model.slug) or by_provider.get(model.provider.slug)
        policies[model.slug] = _policy_view(row)
    names = dict(Provider.objects.values_list("slug", "name"))
    return CatalogFacts(models, policies, names)


def catalog_facts(generation: Generation) -> CatalogFacts:
    return generation.local("compare-catalog", _read_catalog, max_age=CATALOG_MAX_AGE)


def candidates(
    models: Iterable[str] | None = None,
    when: datetime | None = None,
    *,
    generation: Generation | None = None,
) -> tuple[list[Candidate], list[str]]:
    """Every model with a price at ``when`` (or the given ids/aliases); also the ids not found."""
    when = when or timezone.now()
    generation = generation or catalog_generation()
    book = published_book(generation)
    wanted: list[str] | None = None
    unknown: list[str] = []
    if models:
        wanted = []
        for raw in models:
            slug = book.resolve(raw)
            if slug:
                wanted.append(slug)
            else:
                unknown.append(raw)
    facts = catalog_facts(generation)
    out = []
    for slug in wanted if wanted is not None else book.models():
        sheet = book.sheet_at(slug, when)
        model = facts.models.get(slug)
        if sheet is None or model is None:
            continue
        policy = facts.policies.get(slug, NO_CACHE)
        out.append(
            Candidate(sheet, policy, model.name, model.context_window, model.max_output_tokens)
        )
    return out, unknown


def estimate(
    workload: QuickWorkload,
    *,
    models: Iterable[str] | None = None,
    when: datetime | None = None,
    generation: Generation | None = None,
) -> tuple[list[ModelEstimate], list[str]]:
    """A valid quick workload on every model (or the given ids/aliases) with a price now."""
    when = when or timezone.now()
    found, unknown = candidates(models, when, generation=generation)
    return estimate_quick(workload, found, when), unknown


def estimate_conversation(
    params: ConversationWorkload,
    *,
    models: Iterable[str] | None = None,
    when: datetime | None = None,
    seed: int = 0,
    generation: Generation | None = None,
) -> tuple[Timeline, list[ModelEstimate], list[str]]:
    """A valid conversation workload on every model: (timeline, estimates, unknown ids)."""
    when = when or timezone.now()
    found, unknown = candidates(models, when, generation=generation)
    timeline, estimates = estimate_workload(params, found, when, seed=seed)
    return timeline, estimates, unknown


def timeline_for_workload(workload: Workload | int) -> Timeline:
    """An imported workload's rows (ordered by session and time) as a timeline."""
    rows = (
        UsageRow.objects.filter(workload=workload)
        .order_by("session_id", "timestamp", "id")
        .values(*ROW_FIELDS)
        .iterator(chunk_size=20_000)
    )
    return timeline_from_usage_rows(rows)


def usage_row_count(workload: Workload | int) -> int:
    """How many usage rows an imported workload holds (what replaying it costs)."""
    return UsageRow.objects.filter(workload=workload).count()


def estimate_imported(
    workload: Workload | int,
    *,
    models: Iterable[str] | None = None,
    when: datetime | None = None,
    seed: int = 0,
    automatic_hit_rate: Any = None,
    generation: Generation | None = None,
) -> tuple[Timeline, list[ModelEstimate], list[str]]:
    """An imported workload's traffic replayed on every model's cache, priced at ``when``."""
    when = when or timezone.now()
    timeline = timeline_for_workload(workload)
    found, unknown = candidates(models, when, generation=generation)
    estimates = estimate_timeline(timeline, found, when, seed=seed, hit_rate=automatic_hit_rate)
    return timeline, estimates, unknown


def latest_import(workload: Workload) -> ImportJob | None:
    """The workload's last finished import: its summary prices every row of the workload."""
    return (
        ImportJob.objects.filter(workload=workload, status=JobStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )
