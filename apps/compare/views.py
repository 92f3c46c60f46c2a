"""The comparison page: a quick workload priced on every model, with filters, sort and charts.

All state lives in GET parameters, so every view of the page is a bookmarkable URL. htmx
requests get only the ``#results`` fragment; without JavaScript the form submits normally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from apps.catalog.selectors import providers_with_models

from .forms import DEFAULTS, quick_workload
from .quick import QuickWorkload, WorkloadError
from .selectors import (
    SORT_LABELS,
    Filters,
    catalog_generation,
    comparison_charts,
    comparison_rows,
    filter_rows,
    parse_sort,
    sort_rows,
)

WORKLOAD_FIELDS = (
    "requests_per_month",
    "input_tokens",
    "output_tokens",
    "cached_prefix_tokens",
    "mean_gap_seconds",
    "arrival",
)
# Every form field; batch_percent is a percentage, which quick_workload takes as a fraction.
FIELDS = (
    *WORKLOAD_FIELDS,
    "batch_percent",
    "provider",
    "min_context",
    "min_output",
    "max_cost",
    "model",
)
TITLES = {
    "requests_per_month": "Requests per month",
    "input_tokens": "Input tokens per request",
    "output_tokens": "Output tokens per request",
    "cached_prefix_tokens": "Stable prefix tokens",
    "mean_gap_seconds": "Mean gap",
    "arrival": "Arrivals",
    "batch_percent": "Batch share",
    "min_context": "Min context window",
    "min_output": "Min max output",
    "max_cost": "Max monthly cost",
    "model": "Model",
    "body": "Query",
}
# quick_workload names fields in its messages; the form says them in words.
LABELS = {
    "requests_per_month": "requests per month",
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "cached_prefix_tokens": "prefix tokens",
    "batch_share": "batch share",
}
MAX_PROVIDERS = 50
GAP_PRESETS = (("10", "10 s"), ("60", "1 min"), ("600", "10 min"), ("3600", "1 h"))


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@dataclass
class CompareForm:
    """The page's parameters: raw values to show back, parsed values, errors per field."""

    values: dict[str, str]
    providers: list[str]
    errors: dict[str, str] = field(default_factory=dict)
    workload: QuickWorkload | None = None
    filters: Filters = field(default_factory=Filters)
    sort: tuple[str, bool] = ("monthly_cost", False)
    model: str = ""

    @property
    def error_list(self) -> list[dict[str, str]]:
        return [
            {"name": n, "title": TITLES.get(n, n), "message": m} for n, m in self.errors.items()
        ]

    @property
    def fields(self) -> dict[str, dict[str, str]]:
        return {
            n: {"value": self.values.get(n, ""), "error": self.errors.get(n, "")} for n in FIELDS
        }


def _message(error: WorkloadError) -> tuple[str, str]:
    """(form field, message) for an error of quick_workload, in the form's own terms."""
    name = "batch_percent" if error.field == "batch_share" else error.field
    message = str(error).split(": ", 1)[-1]
    if name == "batch_percent":
        message = message.replace("between 0 and 1", "between 0 and 100")
    for key, label in LABELS.items():
        message = message.replace(key, label)
    return name, message


def _optional_int(params: QueryDict, name: str, errors: dict[str, str]) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        errors[name] = "must be a whole number, 0 or more"
        return None
    return int(raw)


def _optional_decimal(raw: str, name: str, errors: dict[str, str]) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        errors[name] = "must be a number, 0 or more"
        return None
    return value


def parse_compare(params: QueryDict) -> CompareForm:
    values = {n: params.get(n, str(DEFAULTS[n])) for n in WORKLOAD_FIELDS}
    values["batch_percent"] = params.get("batch_percent", "0")
    for name in ("min_context", "min_output", "max_cost", "model"):
        values[name] = params.get(name, "")
    providers = [p.strip() for p in params.getlist("provider") if p.strip()][:MAX_PROVIDERS]
    form = CompareForm(values=values, providers=providers)

    # A field present but empty is a mistake, not a request for the default.
    data: dict[str, Any] = {n: params[n] for n in WORKLOAD_FIELDS if n in params}
    for name, raw in data.items():
        if not str(raw).strip():
            form.errors[name] = "enter a value"
    percent = _optional_decimal(values["batch_percent"], "batch_percent", form.errors)
    if "batch_percent" in params and not values["batch_percent"].strip():
        form.errors["batch_percent"] = "enter a value"
    if percent is not None:
        data["batch_share"] = str(percent / 100)
    if not form.errors:
        try:
            form.workload = quick_workload(data)
        except WorkloadError as exc:
            name, message = _message(exc)
            form.errors[name] = message

    form.filters = Filters(
        providers=tuple(providers),
        min_context=_optional_int(params, "min_context", form.errors),
        min_output=_optional_int(params, "min_output", form.errors),
        max_cost=_optional_decimal(values["max_cost"], "max_cost", form.errors),
    )
    form.sort = parse_sort(params.get("sort"))
    form.model = values["model"].strip().lower()
    return form


def _sort_headers(key: str, descending: bool) -> dict[str, dict[str, str]]:
    """Per column: the sort value its link asks for, its aria-sort state and arrow."""
    headers = {}
    for column, label in SORT_LABELS.items():
        active = column == key
        headers[column] = {
            "label": label,
            "numeric": column not in ("provider", "model", "strategy"),
            # First click sorts ascending (cheapest first); a second click flips it.
            "next": f"-{column}" if active and not descending else column,
            "aria": ("descending" if descending else "ascending") if active else "none",
            "arrow": ("▼" if descending else "▲") if active else "",
        }
    return headers


def _providers(chosen: list[str]) -> list[dict[str, Any]]:
    return [
        {"slug": p.slug, "name": p.name, "checked": p.slug in chosen}
        for p in providers_with_models()
    ]


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def page(request: HtmxHttpRequest) -> HttpResponse:
    form = parse_compare(request.GET)
    # The provider boxes show even when the workload is invalid, so no filter is lost.
    context: dict[str, Any] = {
        "form": form,
        "providers": _providers(form.providers),
        "headers": _sort_headers(*form.sort),
        "sort": ("-" if form.sort[1] else "") + form.sort[0],
        "gap_presets": GAP_PRESETS,
    }
    if form.workload is not None:
        generation = catalog_generation()
        every = comparison_rows(form.workload, generation=generation)
        rows = sort_rows(filter_rows(every, form.filters), *form.sort)
        by_slug = {r.model: r for r in every}
        if form.model and form.model not in by_slug:
            form.errors["model"] = "no priced model has this id"
        cheapest = min(rows, key=lambda r: (r.monthly_cost, r.model)) if rows else None
        chosen = by_slug.get(form.model) or cheapest
        context.update(
            every=every,
            rows=rows,
            cheapest=cheapest,
            chosen=chosen,
            model_options=sorted(every, key=lambda r: (r.provider_name, r.name)),
        )
        if not form.errors:
            context["chart_set"] = comparison_charts(
                form.workload, rows, chosen=chosen, generation=generation
            )
    context["fields"] = form.fields  # after the model check, which may add an error
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    template = "compare/page.html"
    # A history-restore request wants the whole page back, not the fragment.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context, status=status)
