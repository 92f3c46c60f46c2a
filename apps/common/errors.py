"""The site's 404 and 500: JSON under /api/, a page in the site's layout everywhere else."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": f"no such endpoint or object: {request.path}"}, status=404)
    message = ""
    if exception is not None and exception.args and isinstance(exception.args[0], str):
        message = exception.args[0]  # our Http404 messages are written for people
    return render(request, "404.html", {"message": message}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request context: whatever failed must not fail again here."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": "internal error; it has been logged"}, status=500)
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
