"""POST /api/v1/estimate: a quick or conversation workload's monthly cost on every model.

The body is parsed and validated once (``forms.quick_workload`` or
``ConversationWorkload.from_mapping``), the compute budget charged, then ``sources`` reads
the candidates and calls the estimate core once.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.common.http import ApiError, json_error, read_json_object
from apps.common.throttle import charge_compute, compute_units

from .estimate.quick import QuickWorkload
from .estimate.results import ModelEstimate, conversation_dict
from .estimate.timeline import ConversationWorkload, planned_requests
from .estimate.workload import WorkloadError
from .forms import MAX_SEED, quick_workload
from .sources import estimate, estimate_conversation

MAX_BODY = 64 * 1024
MAX_CONVERSATION_REQUESTS = 1_000_000
MAX_MODELS = 500
# Omitted optional fields mean "no shared prefix, no batch"; the page has its own examples.
API_DEFAULTS = {
    "cached_prefix_tokens": 0,
    "mean_gap_seconds": 60,
    "batch_share": "0",
    "arrival": "poisson",
}


def throttled(request: HttpRequest, units: int) -> JsonResponse | None:
    """A 429 with ``Retry-After`` when this client has spent its compute budget, else None."""
    verdict = charge_compute(request, units)
    if verdict.allowed:
        return None
    response = json_error(429, verdict.message)
    response["Retry-After"] = str(verdict.retry_after)
    return response


# A pure computation that changes nothing and uses no session: no CSRF token is needed,
# so scripts can call it (there is no cookie-authenticated state to forge).
@csrf_exempt
def estimate_view(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = json_error(405, f"method {request.method} not allowed; POST a workload")
        response["Allow"] = "POST"
        return response
    try:
        data = read_json_object(request, max_bytes=MAX_BODY)
        models = _models(data.get("models"))
        if "conversations_per_month" in data:
            return _conversation(request, data, models)
        return _quick(request, data, models)
    except ApiError as exc:
        return json_error(exc.status, str(exc), exc.field)
    except WorkloadError as exc:
        return json_error(400, str(exc), exc.field)


def _models(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise WorkloadError("models", "must be a list of model ids")
    if len(value) > MAX_MODELS:
        raise WorkloadError("models", f"at most {MAX_MODELS} model ids")
    return value


def _unknown_only(
    models: list[str] | None, unknown: list[str], results: list[ModelEstimate]
) -> JsonResponse | None:
    if models and unknown and not results:
        return json_error(400, f"models: unknown model ids {unknown}", "models")
    return None


def parse_quick(data: dict[str, Any]) -> QuickWorkload:
    """The quick workload of a JSON body: the three sizes required, the rest defaulted."""
    for required in ("requests_per_month", "input_tokens", "output_tokens"):
        if required not in data:
            raise WorkloadError(required, "is required")
    return quick_workload(data, defaults=API_DEFAULTS)


def parse_conversation(data: dict[str, Any]) -> tuple[ConversationWorkload, int, int]:
    """The conversation workload of a JSON body: (workload, seed, requests it will send).

    The work is bounded before it starts: requests after the context strategy (compaction
    adds one per compaction), not conversations x turns.
    """
    params = ConversationWorkload.from_mapping(data)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise WorkloadError("seed", f"must be a whole number from 0 to {MAX_SEED:,}")
    requests = planned_requests(params)
    if requests > MAX_CONVERSATION_REQUESTS:
        raise WorkloadError(
            "conversations_per_month",
            f"the month would send {requests:,} requests (compactions included); "
            f"at most {MAX_CONVERSATION_REQUESTS:,} in one request",
        )
    return params, seed, requests


def _quick(request: HttpRequest, data: dict[str, Any], models: list[str] | None) -> JsonResponse:
    workload = parse_quick(data)
    if (limited := throttled(request, compute_units(0))) is not None:
        return limited
    results, unknown = estimate(workload, models=models)
    if (error := _unknown_only(models, unknown, results)) is not None:
        return error
    return JsonResponse(
        {
            "workload": _workload_dict(workload),
            "results": [r.as_dict() for r in results],
            "unknown_models": unknown,
        }
    )


def _conversation(
    request: HttpRequest, data: dict[str, Any], models: list[str] | None
) -> JsonResponse:
    """The conversation form: a seeded timeline replayed against every cache policy."""
    params, seed, requests = parse_conversation(data)
    if (limited := throttled(request, compute_units(requests))) is not None:
        return limited
    timeline, results, unknown = estimate_conversation(params, models=models, seed=seed)
    if (error := _unknown_only(models, unknown, results)) is not None:
        return error
    return JsonResponse(
        {
            "workload": {
                "form": "conversation",
                "requests": int(timeline.n),
                "seed": seed,
                "notes": list(timeline.notes),
            },
            "results": [conversation_dict(r) for r in results],
            "unknown_models": unknown,
        }
    )


def _workload_dict(workload: QuickWorkload) -> dict[str, Any]:
    return {
        "requests_per_month": workload.requests_per_month,
        "input_tokens": workload.input_tokens,
        "output_tokens": workload.output_tokens,
        "cached_prefix_tokens": workload.cached_prefix_tokens,
        "mean_gap_seconds": workload.mean_gap_seconds,
        "batch_share": str(workload.batch_share),
        "arrival": workload.arrival,
    }
