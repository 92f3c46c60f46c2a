"""POST /api/v1/breakeven: one model's month on the API against every subscription plan.

The body is a quick or conversation workload exactly as ``/api/v1/estimate`` takes it,
plus ``model``; or ``workload_id``, the code of an imported workload (its owner only:
401 signed out, 404 for anyone else). Parsing, errors and the compute budget are those of
the estimate API; the rules are ``apps.plans.breakeven`` (docs/plans.md, "Break-even").
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.common.display import plain_decimal
from apps.common.http import ApiError, json_error, read_json_object
from apps.common.throttle import compute_units
from apps.plans.breakeven import PlanChoice, breakeven
from apps.plans.selectors import iso_utc
from apps.plans.terms import LEVELS
from apps.usage.selectors import get_workload_for_user

from .api import MAX_BODY, parse_conversation, parse_quick, throttled
from .estimate.results import ModelEstimate, money
from .estimate.workload import WorkloadError
from .sources import estimate, estimate_conversation, usage_row_count
from .subscriptions import (
    ASSUMPTIONS,
    IMPORTED_ASSUMPTIONS,
    ImportedSubscriptions,
    Subscriptions,
    described,
    imported,
)

MAX_MODEL_LENGTH = 200
VOLUME_PLACES = Decimal("0.01")
# The fields of a described workload: with workload_id they would be ignored, so they are refused.
WORKLOAD_FIELDS = ("requests_per_month", "input_tokens", "output_tokens", "conversations_per_month")


def _volume(value: Decimal | None) -> str | None:
    """A volume a month as a decimal string, to the hundredth of a request."""
    return None if value is None else plain_decimal(value.quantize(VOLUME_PLACES))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else money(value)


def plan_json(choice: PlanChoice, per_conversation: Decimal | None = None) -> dict[str, Any]:
    """One plan: price, monthly capacity, break-even, where it stops covering, verdict."""
    result, cap = choice.result, choice.capacity.capacity
    usable = choice.covers_model
    body: dict[str, Any] = {
        "plan": choice.plan,
        "name": choice.name,
        "vendor": choice.vendor,
        "monthly_price_usd": plain_decimal(choice.price),
        "seats": choice.seats,
        "covers_model": choice.covers_model,
        "capacity_usd": {level: _money(cap.at(level)) for level in LEVELS},
        "capacity_known": choice.capacity.known,
        "unknown_capacity_windows": list(choice.capacity.unknown_windows),
        "break_even_requests_per_month": _volume(result.breakeven_volume) if usable else None,
        "covers_requests_per_month": {
            level: _volume(result.covers_until[level]) if usable else None for level in LEVELS
        },
        "verdict": choice.verdict,
        "note": choice.note,
    }
    if per_conversation is not None:
        per = breakeven(per_conversation, choice.price, cap)
        body["break_even_conversations_per_month"] = (
            _volume(per.breakeven_volume) if usable else None
        )
        body["covers_conversations_per_month"] = {
            level: _volume(per.covers_until[level]) if usable else None for level in LEVELS
        }
    if choice.hits is not None:
        body["hits"] = choice.hits
    return body


def _described_json(found: Subscriptions, form: str) -> dict[str, Any]:
    return {
        "form": form,
        "model": found.model,
        "name": found.name,
        "provider": found.provider,
        "strategy": found.strategy,
        "api_monthly_cost_usd": money(found.api_cost),
        "requests_per_month": found.requests,
        "cost_per_request_usd": money(found.cost_per_request, places=8),
        "at": iso_utc(found.when) if found.when else None,
        "plans": [plan_json(c) for c in found.choices],
        "assumptions": list(ASSUMPTIONS),
    }


def _model(data: dict[str, Any]) -> str:
    model = data.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > MAX_MODEL_LENGTH:
        raise ApiError("model: is required (a model id or alias)", field="model")
    return model.strip()


def _the_one(model: str, results: list[ModelEstimate], unknown: list[str]) -> ModelEstimate:
    if unknown:
        raise ApiError(f"model: unknown model {model!r}", field="model")
    if not results:
        raise ApiError(f"model: {model!r} has no price in effect now", field="model")
    return results[0]


def _subscriptions(found: ModelEstimate, requests: int) -> Subscriptions:
    return described(provider=found.provider, model=found.model, name=found.name,
                     api_cost=found.best.cost, requests=requests, strategy=found.best.name)  # fmt: skip


def _quick(request: HttpRequest, data: dict[str, Any]) -> JsonResponse:
    model = _model(data)
    workload = parse_quick(data)
    if (limited := throttled(request, compute_units(0))) is not None:
        return limited
    results, unknown = estimate(workload, models=[model])
    found = _the_one(model, results, unknown)
    return JsonResponse(
        _described_json(_subscriptions(found, workload.requests_per_month), "quick")
    )


def _conversation(request: HttpRequest, data: dict[str, Any]) -> JsonResponse:
    model = _model(data)
    params, seed, requests = parse_conversation(data)
    if (limited := throttled(request, compute_units(requests))) is not None:
        return limited
    timeline, results, unknown = estimate_conversation(params, models=[model], seed=seed)
    found = _subscriptions(_the_one(model, results, unknown), int(timeline.n))
    conversations = params.conversations_per_month
    body = _described_json(found, "conversation")
    per_conversation = found.api_cost / conversations if conversations else Decimal(0)
    body.update(
        conversations_per_month=conversations,
        cost_per_conversation_usd=money(per_conversation, places=8),
        seed=seed,
        plans=[plan_json(c, per_conversation) for c in found.choices],
    )
    return JsonResponse(body)


def _imported_json(found: ImportedSubscriptions) -> dict[str, Any]:
    return {
        "form": "imported",
        "model": found.models[0] if len(found.models) == 1 else None,
        "models": found.models,
        "harness": found.harness,
        "months": found.months,
        "api_monthly_cost_usd": money(found.api_monthly_cost),
        "api_total_usd": money(found.api_total),
        "requests_per_month": _volume(found.requests_per_month),
        "cost_per_request_usd": money(found.cost_per_request, places=8),
        "unpriced_requests": found.unpriced_requests,
        "plans": [plan_json(c) for c in found.choices],
        "assumptions": list(IMPORTED_ASSUMPTIONS),
    }


def _imported(request: HttpRequest, data: dict[str, Any]) -> JsonResponse:
    if "model" in data:
        raise ApiError(
            "model: not used with workload_id (the log's own models are priced)", field="model"
        )
    if any(name in data for name in WORKLOAD_FIELDS):
        raise ApiError("workload_id: send a workload or workload_id, not both", field="workload_id")
    raw = data.get("workload_id")
    try:
        code = uuid.UUID(raw) if isinstance(raw, str) and len(raw) <= 64 else None
    except ValueError:
        code = None
    if code is None:
        raise ApiError("workload_id: must be an imported workload's code", field="workload_id")
    if not request.user.is_authenticated:
        raise ApiError(
            "workload_id: sign in to use an imported workload", field="workload_id", status=401
        )
    workload = get_workload_for_user(code=code, user=request.user)
    if workload is None:
        raise ApiError("workload_id: no such workload", field="workload_id", status=404)
    if (limited := throttled(request, compute_units(usage_row_count(workload)))) is not None:
        return limited
    found = imported(workload)
    if found is None:
        raise ApiError(
            "workload_id: the workload has no requests with their own time", field="workload_id"
        )
    return JsonResponse(_imported_json(found))


# A computation that changes nothing: no CSRF token is needed, as for /api/v1/estimate. With
# workload_id it reads the signed-in owner's workload, which another site cannot read back.
@csrf_exempt
def breakeven_view(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = json_error(405, f"method {request.method} not allowed; POST a workload")
        response["Allow"] = "POST"
        return response
    try:
        data = read_json_object(request, max_bytes=MAX_BODY)
        if "workload_id" in data:
            return _imported(request, data)
        if "conversations_per_month" in data:
            return _conversation(request, data)
        return _quick(request, data)
    except ApiError as exc:
        return json_error(exc.status, str(exc), exc.field)
    except WorkloadError as exc:
        return json_error(400, str(exc), exc.field)
