"""Read-only JSON API of the catalog (/api/v1/). Prices are decimal strings, never floats.

Every answer may be cached for five minutes by anyone: the catalog is public and a price
change is a new dated version, so a slightly stale answer is still a true statement about
the instant it names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt

from apps.common.dates import DateError, parse_instant

from .api_objects import iso_utc, price_object, version_prices
from .models import LanguageModel
from .selectors import (
    first_effective_from,
    model_history,
    models_with_current_version,
    resolve_model,
    version_at,
    version_in_effect,
)

ALLOWED_METHODS = ("GET", "HEAD")
CACHE_SECONDS = 300
# "2026-03-01T00:00:00+01:00" typed into a URL unencoded arrives with a space for the "+".
_SPACE_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")

View = Callable[..., JsonResponse]


class BadRequest(ValueError):
    """A client error; the message is the reason shown in the 400 body."""


def api_view(view: View) -> View:
    """GET/HEAD only, JSON errors (405 too), and the public cache header.

    CSRF-exempt because it never writes: a POST gets this JSON 405, not the CSRF page.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if request.method not in ALLOWED_METHODS:
            response = _error(405, f"method {request.method} not allowed; this API is read-only")
            response["Allow"] = ", ".join(ALLOWED_METHODS)
            return response
        try:
            response = view(request, *args, **kwargs)
        except BadRequest as exc:
            response = _error(400, str(exc))
        patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
        return response

    return wrapper


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def parse_at(raw: str | None) -> datetime:
    """The ``at`` parameter as an aware UTC instant; absent means now.

    ISO 8601 with ``Z`` or an offset; no offset means UTC; a date alone means 00:00 UTC.
    Bounded (1970 to 9000) by the shared date parser, so no date overflows.
    """
    if raw is None or not raw.strip():
        return timezone.now()
    text = _SPACE_OFFSET.sub(r"\1+\2", raw.strip()[:64])
    try:
        return parse_instant(text, "at")
    except DateError as exc:
        raise BadRequest(
            f"at: {exc.message} "
            "(examples: 2026-03-01, 2026-03-01T12:00:00Z, 2026-03-01T12:00:00+02:00)"
        ) from exc


def _no_version(model: LanguageModel, when: datetime) -> JsonResponse:
    reason = f"model {model.slug!r} has no published price version in effect at {iso_utc(when)}"
    first = first_effective_from(model)
    if first is None:
        reason += "; it has no published prices at all"
    elif first > when:
        reason += f"; its first version starts at {iso_utc(first)}"
    return _error(404, reason)


def _unknown(raw: str) -> JsonResponse:
    return _error(404, f"unknown model {raw!r} (not a model id or alias in the catalog)")


@api_view
def models_list(request: HttpRequest) -> JsonResponse:
    when = parse_at(request.GET.get("at"))
    provider = request.GET.get("provider", "").strip() or None
    pairs = models_with_current_version(when=when, provider=provider)
    return JsonResponse({"models": [price_object(m, v) for m, v in pairs]})


@api_view
def model_detail(request: HttpRequest, model: str) -> JsonResponse:
    when = parse_at(request.GET.get("at"))
    found = resolve_model(model)
    if found is None:
        return _unknown(model)
    history = model_history(found)
    version = version_in_effect(history, when)
    if version is None:
        return _no_version(found, when)
    body = price_object(found, version)
    body["history"] = [
        {
            "version_id": v.pk,
            "effective_from": iso_utc(v.effective_from),
            "prices": version_prices(v),
        }
        for v in history
    ]
    return JsonResponse(body)


@api_view
def prices(request: HttpRequest) -> JsonResponse:
    raw = request.GET.get("model", "").strip()
    if not raw:
        raise BadRequest("model: required query parameter, e.g. ?model=claude-sonnet-4-5")
    when = parse_at(request.GET.get("at"))
    found = resolve_model(raw)
    if found is None:
        return _unknown(raw)
    version = version_at(found, when)
    if version is None:
        return _no_version(found, when)
    return JsonResponse({**price_object(found, version), "at": iso_utc(when)})
