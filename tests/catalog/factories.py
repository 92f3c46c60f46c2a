"""Hand-written helpers that build catalog rows through the services (djangoproject.com style)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apps.catalog.models import LanguageModel, ModelAlias, PriceVersion, Provider
from apps.catalog.services.versions import version_create, version_publish
from apps.catalog.version_data import clean_version_data


def make_provider(slug: str = "testprov", **kw: Any) -> Provider:
    kw.setdefault("name", slug.title())
    return Provider.objects.get_or_create(slug=slug, defaults=kw)[0]


def make_model(
    slug: str = "test-model-a", provider: Provider | None = None, aliases=(), **kw
) -> LanguageModel:
    provider = provider or make_provider()
    kw.setdefault("name", slug)
    model = LanguageModel.objects.create(provider=provider, slug=slug, **kw)
    for alias in aliases:
        ModelAlias.objects.create(alias=alias, model=model)
    return model


def make_version(
    model: LanguageModel,
    effective_from: str = "2026-01-01T00:00:00Z",
    *,
    publish: bool = True,
    **data: Any,
) -> PriceVersion:
    data.setdefault("rates", {"input": "3", "output": "15", "cache_read": "0.30"})
    data.setdefault("source_url", "https://example.com/pricing")
    data.setdefault("checked_on", "2026-01-01")
    clean = clean_version_data({"effective_from": effective_from, **data}, "test")
    version = version_create(model=model, data=clean)
    return version_publish(version=version) if publish else version


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
