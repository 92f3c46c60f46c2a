"""What every JSON endpoint shares: one error shape, a bounded body reader, the client's address.

Errors are ``{"error": "...", "field": "..."}`` (``field`` when one input is at fault) with
a 4xx status; nothing a client sends can turn into an HTML page or a 500 here.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse

# Nesting deeper than this is no workload; json.loads itself would recurse ~1,000 levels
# deep and raise RecursionError. Checked on the raw bytes before parsing.
MAX_JSON_DEPTH = 32


class ApiError(ValueError):
    """A client error: the status, the reason and the field at fault (if one is)."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


def json_error(status: int, message: str, field: str = "") -> JsonResponse:
    body = {"error": message, "field": field} if field else {"error": message}
    return JsonResponse(body, status=status)


def _depth(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text, strings skipped (a byte scan, no parse)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def read_json_object(request: HttpRequest, *, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, or ``ApiError`` (413 too large, 400 otherwise)."""
    limit = min(max_bytes, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or max_bytes)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isascii() and length.isdigit() and len(length) < 12 and int(length) > limit:
        raise ApiError(
            f"request body too large (at most {limit:,} bytes)", field="body", status=413
        )
    try:
        raw = request.body
    except RequestDataTooBig as exc:
        raise ApiError(
            f"request body too large (at most {limit:,} bytes)", field="body", status=413
        ) from exc
    if len(raw) > limit:
        raise ApiError(
            f"request body too large (at most {limit:,} bytes)", field="body", status=413
        )
    if _depth(raw) > MAX_JSON_DEPTH:
        raise ApiError(f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels", field="body")
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, 4,300+ digit ints
        raise ApiError("body: not valid JSON", field="body") from exc
    if not isinstance(data, dict):
        raise ApiError("body: must be a JSON object", field="body")
    return data


def client_ip(request: HttpRequest) -> str:
    """The client's address for rate limits: REMOTE_ADDR, or the proxy's header if trusted.

    ``TRUSTED_PROXY_HEADER`` (e.g. ``HTTP_X_REAL_IP``) is read only when set: a header a
    client can write itself must never decide whose budget a request spends.
    """
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if header:
        forwarded = request.META.get(header, "").split(",")[0].strip()
        if forwarded:
            return forwarded[:64]
    return str(request.META.get("REMOTE_ADDR", "unknown"))[:64]
