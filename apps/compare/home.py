"""The front page: what the site answers in one screen, and one live example priced now."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.catalog.models import LanguageModel, Provider
from apps.common.display import usd
from apps.rating.adapter import Generation, catalog_generation

from .forms import DEFAULTS, quick_workload
from .sources import estimate

# The example: the quick form's defaults (a chat-style app with a shared system prompt).
EXAMPLE_QUERY = "requests_per_month=100000&input_tokens=3000&output_tokens=400&cached_prefix_tokens=2000&mean_gap_seconds=30"


@dataclass(frozen=True)
class ExampleRow:
    name: str
    provider: str
    monthly: str
    strategy: str


@dataclass(frozen=True)
class Example:
    rows: list[ExampleRow]
    cheapest: str
    dearest: str
    spread: str  # how many times the dearest costs the cheapest
    models: int


def _example(generation: Generation) -> Example | None:
    results, _ = estimate(quick_workload(DEFAULTS), generation=generation)
    priced = sorted((r for r in results if r.best.cost > 0), key=lambda r: r.best.cost)
    if not priced:
        return None
    picks = [*priced[:3], *priced[-2:]] if len(priced) > 5 else priced
    rows = [
        ExampleRow(r.name or r.model, r.provider, usd(r.best.cost), r.best.label) for r in picks
    ]
    spread = (priced[-1].best.cost / priced[0].best.cost).quantize(Decimal(1))
    return Example(
        rows, usd(priced[0].best.cost), usd(priced[-1].best.cost), f"{spread:,}", len(priced)
    )


def _counts() -> dict[str, Any]:
    return {
        "models": LanguageModel.objects.count(),
        "providers": Provider.objects.filter(models__isnull=False).distinct().count(),
    }


@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    generation = catalog_generation()
    example = generation.shared("home-example", (), lambda: _example(generation))
    counts = generation.shared("home-counts", (), _counts)
    context = {"example": example, "example_query": EXAMPLE_QUERY, **counts}
    return render(request, "home.html", context)
