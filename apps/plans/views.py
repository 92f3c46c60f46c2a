"""The plans pages: every plan, one plan's history, and an imported workload's windows.

Thin views: parse, call one selector, render. The windows page belongs to the workload's
owner (404 for anyone else, as every owned object).
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.common.htmx import HtmxHttpRequest
from apps.usage.models import Workload, WorkloadKind
from apps.usage.selectors import get_workload_for_user

from .history import workload_history
from .models import VENDORS, Plan
from .pages import plan_card, plan_history, windows_page
from .selectors import PlanRow, plan_versions, plans_at, vendors_with_plans, version_terms

VENDOR_SLUGS = {slug for slug, _ in VENDORS}


@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def plans_list(request: HtmxHttpRequest) -> HttpResponse:
    vendor = request.GET.get("vendor", "").strip()
    vendor = vendor if vendor in VENDOR_SLUGS else ""
    now = timezone.now()
    cards = [plan_card(row) for row in plans_at(now, vendor or None)]
    workloads = []
    if request.user.is_authenticated:
        workloads = list(
            Workload.objects.filter(owner=request.user, kind=WorkloadKind.IMPORTED).order_by(
                "-created_at"
            )[:20]
        )
    context = {"cards": cards, "vendors": vendors_with_plans(), "vendor": vendor, "now": now,
               "workloads": workloads}  # fmt: skip
    template = "plans/plans.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#table"
    return render(request, template, context)


@require_http_methods(["GET", "HEAD"])
def plan_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    plan = get_object_or_404(Plan, slug=slug)
    now = timezone.now()
    rows = [PlanRow(plan, v, version_terms(v)) for v in plan_versions(plan)]
    entries = plan_history(rows, now)
    current = next((e for e in entries if e.state == "current"), None)
    context = {"plan": plan, "entries": entries, "current": current, "now": now,
               "first": entries[0] if entries else None}  # fmt: skip
    return render(request, "plans/plan_detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def workload_windows(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    workload = get_workload_for_user(code=code, user=request.user)
    if workload is None:
        raise Http404("No such workload")
    context = windows_page(workload_history(workload))
    context["workload"] = workload
    return render(request, "plans/windows.html", context)
