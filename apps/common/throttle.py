"""Fixed-window rate limits in the shared cache (Redis with several processes).

``allow(scope, ident, limit, window, cost)`` spends ``cost`` units of a budget of ``limit``
per ``window`` seconds; over it, the caller answers 429 with ``Retry-After``. The counter
lives in Django's cache so every web process sees the same count when ``CACHE_URL`` points
at Redis; with the embedded default (local memory) each process counts for itself.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .http import client_ip


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets (0 when allowed)


def _key(scope: str, ident: str, bucket: int) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:{bucket}"


def allow(scope: str, ident: str, *, limit: int, window: int, cost: int = 1) -> Verdict:
    now = time.time()
    bucket = int(now // window)
    key = _key(scope, ident, bucket)
    retry = max(1, int((bucket + 1) * window - now))
    if limit <= 0:
        return Verdict(True, 0)
    cache.add(key, 0, timeout=window + 1)
    try:
        used = cache.incr(key, cost)
    except ValueError:  # expired between add and incr: start the window again
        cache.set(key, cost, timeout=window + 1)
        used = cost
    if used > limit:
        return Verdict(False, retry)
    return Verdict(True, 0)


def spent(scope: str, ident: str, *, window: int) -> int:
    """Units spent in the current window (for messages and tests)."""
    return int(cache.get(_key(scope, ident, int(time.time() // window))) or 0)


def reset(scope: str, ident: str, *, window: int) -> None:
    cache.delete(_key(scope, ident, int(time.time() // window)))


@dataclass(frozen=True, slots=True)
class ComputeVerdict:
    allowed: bool
    retry_after: int
    limit: int

    @property
    def message(self) -> str:
        return (
            f"Too many estimates from this client: at most {self.limit:,} compute units a "
            "minute (a quick estimate is 1; a conversation month 1 more per 10,000 requests). "
            f"Try again in {self.retry_after} s."
        )


def compute_units(requests: int) -> int:
    """What one estimate spends of a client's budget: 1, plus 1 per 10,000 replayed requests.

    A quick estimate is closed-form (1 unit); a conversation month of 1M requests replays
    for seconds on every model, so it costs 101 units of the per-minute budget.
    """
    return 1 + max(requests, 0) // 10_000


def charge_compute(request: HttpRequest, units: int) -> ComputeVerdict:
    """Spend ``units`` of this client's per-minute compute budget (per user when signed in,
    else per address); ``allowed`` is False once it is spent."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        ident, limit = f"user:{user.pk}", settings.COMPUTE_UNITS_PER_MINUTE_USER
    else:
        ident, limit = f"ip:{client_ip(request)}", settings.COMPUTE_UNITS_PER_MINUTE_ANON
    verdict = allow("compute", ident, limit=limit, window=60, cost=units)
    return ComputeVerdict(verdict.allowed, verdict.retry_after, limit)
