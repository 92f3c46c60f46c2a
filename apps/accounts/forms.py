"""Sign-in with a limit on wrong passwords (per user name and per client address)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from apps.common.http import client_ip
from apps.common.throttle import allow, reset, spent

SCOPE = "login-failures"


class ThrottledAuthenticationForm(AuthenticationForm):
    """After ``LOGIN_MAX_FAILURES`` wrong passwords for one user name, or from one address,
    within ``LOGIN_FAILURE_WINDOW`` seconds, every sign-in for it is refused (even with the
    right password) until the window ends. A success clears the user name's count."""

    def _idents(self) -> list[str]:
        username = str(self.data.get("username", "")).strip().lower()[:150]
        idents = [f"ip:{client_ip(self.request)}"] if self.request is not None else []
        return [*idents, f"user:{username}"] if username else idents

    def clean(self) -> dict[str, Any]:
        window = settings.LOGIN_FAILURE_WINDOW
        limit = settings.LOGIN_MAX_FAILURES
        if any(spent(SCOPE, i, window=window) >= limit for i in self._idents()):
            minutes = max(1, window // 60)
            raise ValidationError(
                f"Too many failed sign-in attempts. Try again in up to {minutes} minutes.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            for ident in self._idents():
                allow(SCOPE, ident, limit=limit, window=window)
            raise
        for ident in self._idents():
            if ident.startswith("user:"):
                reset(SCOPE, ident, window=window)
        return cleaned
