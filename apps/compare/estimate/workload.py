"""What every workload shares: the bounds of its fields and the error that names one.

Pure Python. A workload (quick or conversation) is validated once, where it is parsed;
the core then takes it as valid.
"""

from __future__ import annotations

from typing import Final

MAX_TOKENS: Final = 100_000_000  # per request; far beyond any context window
MAX_GAP_SECONDS: Final = 30 * 86_400  # a gap, or a retention, longer than a month is no cache


class WorkloadError(ValueError):
    """A workload that cannot be priced; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def validate_retention(seconds: int | None) -> None:
    """An automatic cache's assumed retention: absent, or 1 s to 30 days."""
    if seconds is None:
        return
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise WorkloadError("automatic_retention_seconds", "must be a whole number of seconds")
    if not 1 <= seconds <= MAX_GAP_SECONDS:
        raise WorkloadError(
            "automatic_retention_seconds", f"must be between 1 and {MAX_GAP_SECONDS:,} seconds"
        )
