"""POST /api/v1/estimate: a quick workload's monthly cost on every model."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .conversation import conversation_dict
from .forms import quick_workload
from .imported import estimate_conversation
from .quick import WorkloadError
from .services import estimate
from .timeline import ConversationWorkload

MAX_BODY = 64 * 1024
MAX_CONVERSATION_REQUESTS = 1_000_000
# Omitted optional fields mean "no shared prefix, no batch"; the page has its own examples.
API_DEFAULTS = {
    "cached_prefix_tokens": 0,
    "mean_gap_seconds": 60,
    "batch_share": "0",
    "arrival": "poisson",
}


# A pure computation that changes nothing and uses no session: no CSRF token is needed,
# so scripts can call it (there is no cookie-authenticated state to forge).
@csrf_exempt
@require_http_methods(["POST"])
def estimate_view(request: HttpRequest) -> JsonResponse:
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": "request body too large", "field": "body"}, status=413)
    try:
        data = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JsonResponse({"error": "body: not valid JSON", "field": "body"}, status=400)
    try:
        if not isinstance(data, dict):
            raise WorkloadError("body", "must be a JSON object")
        models = data.get("models")
        if models is not None and (
            not isinstance(models, list) or not all(isinstance(m, str) for m in models)
        ):
            raise WorkloadError("models", "must be a list of model ids")
        if "conversations_per_month" in data:
            return _conversation(data, models)
        for required in ("requests_per_month", "input_tokens", "output_tokens"):
            if required not in data:
                raise WorkloadError(required, "is required")
        workload = quick_workload(data, defaults=API_DEFAULTS)
        results, unknown = estimate(workload, models=models)
    except WorkloadError as exc:
        return JsonResponse({"error": str(exc), "field": exc.field}, status=400)
    if models and unknown and not results:
        return JsonResponse(
            {"error": f"models: unknown model ids {unknown}", "field": "models"}, status=400
        )
    return JsonResponse(
        {
            "workload": _workload_dict(workload),
            "results": [r.as_dict() for r in results],
            "unknown_models": unknown,
        }
    )


def _conversation(data: dict, models) -> JsonResponse:
    """The conversation form: a seeded timeline replayed against every cache policy."""
    params = ConversationWorkload.from_mapping(data)
    if params.conversations_per_month * params.turns_per_conversation > MAX_CONVERSATION_REQUESTS:
        # a request answers in a few seconds at most; bigger months are a page/task job
        raise WorkloadError(
            "conversations_per_month",
            f"conversations x turns must be at most {MAX_CONVERSATION_REQUESTS:,} requests a month",
        )
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise WorkloadError("seed", "must be a whole number, 0 or more")
    timeline, results, unknown = estimate_conversation(params, models=models, seed=seed)
    if models and unknown and not results:
        return JsonResponse(
            {"error": f"models: unknown model ids {unknown}", "field": "models"}, status=400
        )
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


def _workload_dict(workload) -> dict:
    return {
        "requests_per_month": workload.requests_per_month,
        "input_tokens": workload.input_tokens,
        "output_tokens": workload.output_tokens,
        "cached_prefix_tokens": workload.cached_prefix_tokens,
        "mean_gap_seconds": workload.mean_gap_seconds,
        "batch_share": str(workload.batch_share),
        "arrival": workload.arrival,
    }
