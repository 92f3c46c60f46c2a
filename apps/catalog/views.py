"""Public catalog pages: the price list and one model's prices and history."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.common.htmx import HtmxHttpRequest

from .charts import PricePoint, price_history_figure
from .display import METER_LABELS
from .pages.model_detail import model_page
from .pages.prices import OTHER_SORT_KEYS, parse_price_sort, price_table
from .selectors import model_for_page, providers_with_models
from .version_data import base_rates

MAX_QUERY_LENGTH = 100


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def prices(request: HtmxHttpRequest) -> HttpResponse:
    provider = request.GET.get("provider", "").strip()
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    table = price_table(
        provider=provider or None, query=query or None, sort=request.GET.get("sort")
    )
    headers = _sort_headers(table.sort, [*table.meters])
    context = {
        "table": table,
        "headers": headers,
        "meter_headers": [headers[m] for m in table.meters],
        "providers": providers_with_models(),
        "provider": provider,
        "query": query,
    }
    template = "catalog/prices.html"
    # A history-restore request wants the whole page back, not the fragment.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#table"
    return render(request, template, context)


def _sort_headers(current: str, meters: list[str]) -> dict[str, dict[str, str]]:
    """Per sortable column: the sort value its link asks for and its aria-sort state."""
    key, descending = parse_price_sort(current)
    labels = {**OTHER_SORT_KEYS, **{m: METER_LABELS[m] for m in meters}}
    headers = {}
    for column, label in labels.items():
        active = column == key
        headers[column] = {
            "key": column,
            "label": label,
            # First click sorts ascending (cheapest first); a second click flips it.
            "next": f"-{column}" if active and not descending else column,
            "aria": ("descending" if descending else "ascending") if active else "none",
            "arrow": ("▼" if descending else "▲") if active else "",
        }
    return headers


@require_http_methods(["GET", "HEAD"])
def model_detail(request: HttpRequest, provider: str, model: str) -> HttpResponse:
    found = model_for_page(provider, model)
    if found is None:
        raise Http404("No such model under this provider")
    if found.slug != model:
        return redirect("catalog:model_detail", provider=found.provider.slug, model=found.slug)
    now = timezone.now()
    page = model_page(found, when=now)
    figure = price_history_figure(
        [PricePoint(v.effective_from, base_rates(v)) for v in page.history], today=now
    )
    return render(request, "catalog/model_detail.html", {"page": page, "figure": figure})
