"""Uploading usage logs and following their import. Thin views: parse, call a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from .forms import UploadForm
from .imports.ending import delete_uploads_at
from .imports.quotas import UploadRefused, upload_refusal
from .models import ImportJob, Workload
from .selectors import get_job_for_user
from .services import ImportRejected, import_job_cancel, import_job_create
from .uploads import SizeCapUploadHandler, store_uploads


@login_required
@require_http_methods(["GET"])
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = ImportJob.objects.filter(owner=request.user).select_related("workload")[:50]
    return render(request, "usage/import_list.html", {"jobs": jobs, "form": UploadForm()})


@csrf_exempt  # the size-cap handler must be installed before CSRF reads the body
@login_required
@require_http_methods(["POST"])
def import_create(request: HttpRequest) -> HttpResponse:
    cap = SizeCapUploadHandler(request)
    request.upload_handlers.insert(0, cap)
    return _import_create(request, cap)


@csrf_protect
def _import_create(request: HttpRequest, cap: SizeCapUploadHandler) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if cap.exceeded:
        form.add_error("files", "The upload is larger than the limit of this site.")
    if not form.is_valid():
        return render(request, "usage/import_list.html", {"form": form, "jobs": []}, status=400)
    # over the user's quota or rate: refused before anything is stored
    refusal = upload_refusal(request.user, sum(f.size for f in form.cleaned_data["files"]))
    if refusal is not None:
        return _refused(request, form, refusal, refusal.status)
    name = form.cleaned_data["workload"].strip()
    workload, _ = Workload.objects.get_or_create(owner=request.user, name=name)
    stored = store_uploads(form.cleaned_data["files"])
    try:
        job = import_job_create(
            workload=workload, owner=request.user, files=stored, format=form.cleaned_data["format"]
        )
    except (ImportRejected, UploadRefused) as exc:
        delete_uploads_at([path for _, path, _ in stored])
        return _refused(request, form, exc, getattr(exc, "status", 400))
    return redirect("usage:import_detail", code=job.code)


def _refused(request: HttpRequest, form: UploadForm, exc: Exception, status: int) -> HttpResponse:
    form.add_error(None, str(exc))
    context = {"form": form, "jobs": []}
    return render(request, "usage/import_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
@vary_on_headers("HX-Request")
def import_detail(request: HttpRequest, code) -> HttpResponse:
    job = get_job_for_user(code=code, user=request.user)
    if job is None:
        raise Http404("No such import")
    context = {
        "job": job,
        "now": timezone.now(),
        "eager": settings.CELERY_TASK_ALWAYS_EAGER,  # no broker: nothing resumes a lost job
        "redelivery_minutes": settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] // 60,
    }
    if getattr(request, "htmx", False):
        response = render(request, "usage/import_detail.html#progress", context)
        if not job.is_active:
            # 286 tells htmx to stop polling; the fragment still carries the final state
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return stop
        return response
    return render(request, "usage/import_detail.html", context)


@login_required
@require_http_methods(["POST"])
def import_cancel(request: HttpRequest, code) -> HttpResponse:
    job = get_job_for_user(code=code, user=request.user)
    if job is None:
        raise Http404("No such import")
    if import_job_cancel(job=job):
        messages.info(request, "Import cancelled. Records already imported stay in the workload.")
    return redirect("usage:import_detail", code=job.code)
