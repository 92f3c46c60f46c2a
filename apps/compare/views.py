"""The comparison pages: a workload priced on every model, with filters, sort and charts.

``/compare/`` takes the quick form (the default) or the conversation form
(``form=conversation``); ``/compare/workload/<code>/`` replays an imported workload on every
model. All state lives in GET parameters, so every view of a page is a bookmarkable URL.
htmx requests get only the ``#results`` fragment; without JavaScript the form submits
normally.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.catalog.selectors import providers_with_models
from apps.common.htmx import HtmxHttpRequest
from apps.common.throttle import charge_compute, compute_units
from apps.rating.adapter import Generation, catalog_generation
from apps.usage.selectors import get_workload_for_user

from .chartsets import ChartSet, comparison_charts, imported_chart
from .conversation_charts import conversation_charts
from .display import logs_cost, month_shape, versus
from .estimate.timeline import planned_requests
from .forms import GAPS, CompareForm, carried, gap_hints, parse_filters_only, parse_page
from .rows import Row, comparison_rows, conversation_rows, imported_rows, sort_headers, table
from .sources import latest_import
from .subscription_page import SubscriptionSection, section_for_row

GAP_PRESETS = (("10", "10 s"), ("60", "1 min"), ("600", "10 min"), ("3600", "1 h"))
FORMS = (("quick", "Quick estimate"), ("conversation", "Conversations"))


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def page(request: HtmxHttpRequest) -> HttpResponse:
    form = parse_page(request.GET)
    context = _base_context(request, form)
    context.update(
        kind=form.kind,
        forms=FORMS,
        carried=carried(request.GET, form.kind),
        gap_presets=GAP_PRESETS,
        gaps=GAPS,
        gap_hints=gap_hints(form),
    )
    if form.ready:
        requests = planned_requests(form.conversation) if form.conversation is not None else 0
        verdict = charge_compute(request, compute_units(requests))
        if not verdict.allowed:
            response = render(
                request,
                "429.html",
                {"message": verdict.message},
                status=HTTPStatus.TOO_MANY_REQUESTS,
            )
            response["Retry-After"] = str(verdict.retry_after)
            return response
        generation = catalog_generation()
        if form.conversation is not None:
            replay = conversation_rows(form.conversation, seed=form.seed, generation=generation)
            context.update(replay=replay, shape=month_shape(form.conversation))
            context.update(_table(form, replay.rows))
        elif form.workload is not None:
            context.update(_table(form, comparison_rows(form.workload, generation=generation)))
        if not form.errors:
            context["chart_set"] = _charts(form, context, generation)
            context["subscriptions"] = _subscriptions(form, context, generation)
    return _respond(request, "compare/page.html", context, form)


def _charts(form: CompareForm, context: dict[str, Any], generation: Generation) -> ChartSet:
    rows, chosen = context["rows"], context["chosen"]
    if form.conversation is not None:
        return conversation_charts(
            form.conversation, rows, seed=form.seed, chosen=chosen, generation=generation
        )
    assert form.workload is not None
    return comparison_charts(form.workload, rows, chosen=chosen, generation=generation)


def _subscriptions(
    form: CompareForm, context: dict[str, Any], generation: Generation
) -> SubscriptionSection | None:
    """The chosen model's month against the plans that cover it (requests or conversations)."""
    chosen = context["chosen"]
    if chosen is None:
        return None
    if form.conversation is not None:
        return section_for_row(chosen, requests=context["replay"].requests,
                               unit="conversations", generation=generation,
                               volume=form.conversation.conversations_per_month)  # fmt: skip
    assert form.workload is not None
    volume = form.workload.requests_per_month
    return section_for_row(
        chosen, requests=volume, unit="requests", volume=volume, generation=generation
    )


@login_required
@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def workload(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    """An imported workload: what the logs cost, and the same traffic on every model now."""
    found = get_workload_for_user(code=code, user=request.user)
    if found is None:
        raise Http404("No such workload")
    form = parse_filters_only(request.GET)
    context = _base_context(request, form, cost_label="Cost")
    context["workload"] = found
    job = latest_import(found)
    if job is not None:
        replay = imported_rows(found, job_id=job.pk, generation=catalog_generation())
        logs = logs_cost(job.summary)
        context.update(_table(form, replay.rows), job=job, replay=replay, logs=logs)
        context["own_models"] = logs.slugs
        if context["cheapest"] is not None:
            context["versus"] = versus(logs.total, context["cheapest"].monthly_cost)
        if not form.errors and replay.rows:
            context["chart_set"] = ChartSet([imported_chart(logs, context["rows"])])
    return _respond(request, "compare/workload.html", context, form)


# --------------------------------------------------------------------------- shared rendering


def _base_context(
    request: HtmxHttpRequest, form: CompareForm, cost_label: str = ""
) -> dict[str, Any]:
    # The provider boxes show even when the workload is invalid, so no filter is lost.
    providers = [
        {"slug": p.slug, "name": p.name, "checked": p.slug in form.providers}
        for p in providers_with_models()
    ]
    return {
        "form": form,
        "providers": providers,
        "headers": sort_headers(*form.sort, cost_label=cost_label),
        "sort": ("-" if form.sort[1] else "") + form.sort[0],
        # the fragment refreshes what lives outside it (errors, tabs) out of band
        "fragment": bool(request.htmx) and not request.htmx.history_restore_request,
    }


def _table(form: CompareForm, every: list[Row]) -> dict[str, Any]:
    """The table's context; a chosen model that no row has is an error of the form."""
    shown = table(every, form.filters, form.sort, form.model)
    if shown.unknown_model:
        form.errors["model"] = "no priced model has this id"
    return shown.context()


def _respond(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], form: CompareForm
) -> HttpResponse:
    context["fields"] = form.fields  # after the model check, which may add an error
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    # A history-restore request wants the whole page back, not the fragment.
    if context["fragment"]:
        template += "#results"
    return render(request, template, context, status=status)
