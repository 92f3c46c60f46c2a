"""Reading the catalog: the database queries (models, aliases, versions in effect, policies).

Everything here returns models or plain values; the page objects (``pages``), version
diffs (``diff``), API objects (``api_objects``) and words for people (``display``) are
built from them elsewhere.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from apps.rating.book import candidate_ids

from .models import (
    BatchPolicy,
    CachePolicy,
    LanguageModel,
    ModelAlias,
    PriceVersion,
    Provider,
    VersionStatus,
)


def published_versions() -> QuerySet[PriceVersion]:
    return PriceVersion.objects.filter(status=VersionStatus.PUBLISHED).prefetch_related(
        "rates", "region_multipliers", "time_bands"
    )


def resolve_model(raw: str) -> LanguageModel | None:
    """A model by canonical id or any alias spelling (dated snapshot, vendor prefix...)."""
    for candidate in candidate_ids(raw):
        model = LanguageModel.objects.select_related("provider").filter(slug=candidate).first()
        if model is not None:
            return model
        alias = ModelAlias.objects.select_related("model__provider").filter(alias=candidate).first()
        if alias is not None:
            return alias.model
    return None


def version_at(model: LanguageModel, when: datetime) -> PriceVersion | None:
    """The published version in effect at ``when`` (the latest starting at or before it)."""
    return (
        published_versions()
        .filter(model=model, effective_from__lte=when)
        .order_by("-effective_from")
        .first()
    )


def models_with_current_version(
    *, when: datetime | None = None, provider: str | None = None, query: str | None = None
) -> list[tuple[LanguageModel, PriceVersion]]:
    """Every model with the version in effect at ``when`` (default now); models without one are left out."""
    when = when or timezone.now()
    current = (
        PriceVersion.objects.filter(
            model=OuterRef("pk"), status=VersionStatus.PUBLISHED, effective_from__lte=when
        )
        .order_by("-effective_from")
        .values("pk")[:1]
    )
    models = LanguageModel.objects.select_related("provider").annotate(current_id=Subquery(current))
    models = models.filter(current_id__isnull=False)
    if provider:
        models = models.filter(provider__slug=provider)
    if query:
        q = query.strip().lower()
        models = models.filter(
            Q(slug__icontains=q) | Q(name__icontains=q) | Q(aliases__alias__icontains=q)
        ).distinct()
    models = models.prefetch_related(
        Prefetch("aliases", queryset=ModelAlias.objects.order_by("alias"))
    )
    model_list = list(models)
    versions = published_versions().in_bulk([m.current_id for m in model_list])
    return [(m, versions[m.current_id]) for m in model_list]


def model_history(model: LanguageModel, *, include_drafts: bool = False) -> list[PriceVersion]:
    qs = PriceVersion.objects.filter(model=model).prefetch_related(
        "rates", "region_multipliers", "time_bands"
    )
    if not include_drafts:
        qs = qs.filter(status=VersionStatus.PUBLISHED)
    return list(qs.order_by("effective_from", "pk"))


def version_in_effect(history: list[PriceVersion], when: datetime) -> PriceVersion | None:
    """From a model's published history (oldest first), the version in effect at ``when``."""
    current = None
    for version in history:
        if version.status == VersionStatus.PUBLISHED and version.effective_from <= when:
            current = version
    return current


def first_effective_from(model: LanguageModel) -> datetime | None:
    """When the model's first published version starts (None: nothing published)."""
    return (
        PriceVersion.objects.filter(model=model, status=VersionStatus.PUBLISHED)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )


def providers_with_models() -> list[Provider]:
    return list(Provider.objects.filter(models__isnull=False).distinct().order_by("name"))


def model_for_page(provider_slug: str, model_id: str) -> LanguageModel | None:
    """The model a /prices/<provider>/<model>/ URL names, by id or alias, under that provider only."""
    model = resolve_model(model_id)
    if model is None or model.provider.slug != provider_slug:
        return None
    return model


def policies[P: (CachePolicy, BatchPolicy)](
    model: LanguageModel, policy_model: type[P]
) -> tuple[P | None, P | None]:
    """(the provider's policy, the model's own override) of one kind, in one query."""
    rows = list(
        policy_model.objects.filter(provider_id=model.provider_id).filter(
            Q(model__isnull=True) | Q(model=model)
        )
    )
    provider_row = next((p for p in rows if p.model_id is None), None)
    model_row = next((p for p in rows if p.model_id == model.pk), None)
    return provider_row, model_row
