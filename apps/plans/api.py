"""The plans JSON API: GET /api/v1/plans and POST /api/v1/resume-cost.

Money and capacity are decimal strings. Bad input is a 400 ``{"error", "field"}`` naming
the field, read through the shared bounded parsers; the resume calculator is a pure
computation open to anyone, so it spends the caller's compute budget (429 past it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt

from apps.common.dates import DateError, parse_instant
from apps.common.display import plain_decimal
from apps.common.http import ApiError, json_error, read_json_object
from apps.common.numbers import NumberError, parse_int
from apps.common.throttle import charge_compute
from apps.rating.adapter import published_book
from apps.rating.engine import MONEY_CONTEXT, PriceSheet

from .models import VENDORS
from .resume import TTL_SECONDS, ResumeAnswer, ResumeError, ResumeQuestion, resume_cost
from .selectors import iso_utc, plan_histories, plan_object, plans_at
from .terms import FAMILY_BY_PROVIDER, LEVELS

MAX_BODY = 4 * 1024
CACHE_SECONDS = 300
MAX_CONTEXT_TOKENS = 10_000_000  # far past any model's context window
MAX_IDLE_SECONDS = 366 * 24 * 3600
VENDOR_SLUGS = frozenset(slug for slug, _ in VENDORS)


def _method_not_allowed(request: HttpRequest, allowed: str) -> JsonResponse:
    response = json_error(405, f"method {request.method} not allowed; use {allowed}")
    response["Allow"] = allowed
    return response


# Read-only and public: no session state to forge, so no CSRF token (a POST gets a JSON 405).
@csrf_exempt
def plans_view(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET, HEAD")
    raw_at = request.GET.get("at", "").strip()
    try:
        when = parse_instant(raw_at[:64], "at") if raw_at else timezone.now()
    except DateError as exc:
        return json_error(400, f"at: {exc.message} (e.g. 2026-06-01T00:00:00Z)", "at")
    vendor = request.GET.get("vendor", "").strip()
    if vendor and vendor not in VENDOR_SLUGS:
        return json_error(
            400, f"vendor: must be one of {', '.join(sorted(VENDOR_SLUGS))}", "vendor"
        )
    body = {
        "at": iso_utc(when),
        "plans": [plan_object(row) for row in plans_at(when, vendor or None)],
    }
    response = JsonResponse(body)
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response


def _count(data: dict[str, Any], name: str, *, required: bool, maximum: int) -> int:
    if name not in data or data[name] is None:
        if required:
            raise ApiError(f"{name}: is required", field=name)
        return 0
    try:
        return parse_int(data[name], name, maximum=maximum)
    except NumberError as exc:
        raise ApiError(str(exc), field=name) from exc


def parse_question(data: dict[str, Any]) -> tuple[str, ResumeQuestion]:
    model = data.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > 200:
        raise ApiError("model: is required (a model id or alias)", field="model")
    ttl = data.get("ttl")
    if ttl not in TTL_SECONDS:
        raise ApiError(f"ttl: must be one of {', '.join(TTL_SECONDS)}", field="ttl")
    question = ResumeQuestion(
        context_tokens=_count(data, "context_tokens", required=True, maximum=MAX_CONTEXT_TOKENS),
        new_input_tokens=_count(
            data, "new_input_tokens", required=False, maximum=MAX_CONTEXT_TOKENS
        ),
        output_tokens=_count(data, "output_tokens", required=True, maximum=MAX_CONTEXT_TOKENS),
        idle_seconds=_count(data, "idle_seconds", required=True, maximum=MAX_IDLE_SECONDS),
        ttl=str(ttl),
        drop_tokens=_count(data, "drop_tokens", required=False, maximum=MAX_CONTEXT_TOKENS),
    )
    if question.drop_tokens > question.context_tokens:
        raise ApiError("drop_tokens: must not be more than context_tokens", field="drop_tokens")
    return model.strip(), question


def _sheet(model: str, when: datetime) -> PriceSheet:
    book = published_book()
    slug = book.resolve(model)
    if slug is None:
        raise ApiError(f"model: unknown model {model!r}", field="model")
    sheet = book.sheet_at(slug, when)
    if sheet is None:
        raise ApiError(f"model: {slug} has no price in effect now", field="model")
    return sheet


def window_share(cost: Decimal, provider: str, when: datetime) -> list[dict[str, Any]]:
    """The share of each covering plan's 5-hour window that ``cost`` uses, per estimate."""
    family = FAMILY_BY_PROVIDER.get(provider)
    out = []
    for history in plan_histories():
        terms = history.at(when)
        if terms is None or family not in terms.families:
            continue
        for window in terms.windows_of("session_5h", ""):
            entry: dict[str, Any] = {"plan": history.plan, "name": history.name}
            for level in LEVELS:
                capacity = window.usd(level)
                entry[level] = (
                    plain_decimal(MONEY_CONTEXT.divide(cost, capacity)) if capacity else None
                )
            if not window.dollars_known:
                entry["note"] = "unknown capacity: no dollar size is published"
            out.append(entry)
    return out


def _answer(answer: ResumeAnswer) -> dict[str, Any]:
    def dec(value: Decimal | None) -> str | None:
        return None if value is None else plain_decimal(value)

    return {
        "cost_usd": dec(answer.cost),
        "cache": answer.cache,
        "warm_cost_usd": dec(answer.warm_cost),
        "expired_cost_usd": dec(answer.expired_cost),
        "keepalive_cost_usd": dec(answer.keepalive_cost),
        "keepalive_pings": answer.pings,
        "ping_cost_usd": dec(answer.ping_cost),
        "drop_cost_usd": dec(answer.drop_cost),
        "drop_saving_usd": dec(answer.drop_saving),
        "drop_saving_per_later_message_usd": dec(answer.drop_saving_per_later_message),
    }


# A pure computation that changes nothing and uses no session: no CSRF token is needed.
@csrf_exempt
def resume_cost_view(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    try:
        model, question = parse_question(read_json_object(request, max_bytes=MAX_BODY))
        verdict = charge_compute(request, 1)
        if not verdict.allowed:
            response = json_error(429, verdict.message)
            response["Retry-After"] = str(verdict.retry_after)
            return response
        now = timezone.now()
        sheet = _sheet(model, now)
        answer = resume_cost(question, sheet, now)
    except ApiError as exc:
        return json_error(exc.status, str(exc), exc.field)
    except ResumeError as exc:
        return json_error(400, str(exc), exc.field)
    body = {
        "model": sheet.model,
        "price_version": sheet.version_id,
        "ttl": question.ttl,
        **_answer(answer),
        "window_share": window_share(answer.cost, sheet.provider, now),
    }
    return JsonResponse(body)
