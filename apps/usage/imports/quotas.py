"""Per-user limits on uploads: stored bytes waiting for their import, and uploads per hour.

Both are counted in the database (import files of active jobs, jobs created in the last
hour), so every web process and machine sees the same numbers. ``upload_refusal`` is asked
before anything is stored (the view), and again inside the transaction that creates the
job, with the user's row locked, so two uploads at once cannot both slip under a limit.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from apps.usage.models import ACTIVE_STATUSES, ImportFile, ImportJob

RATE_WINDOW = timedelta(hours=1)


class UploadRefused(ValueError):
    """An upload over a user's quota or rate; the message is for the upload form."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status  # 429 over the rate, 413 over the storage quota


def upload_refusal(user, incoming_bytes: int) -> UploadRefused | None:
    """Why ``user`` may not upload ``incoming_bytes`` more now, or None."""
    per_hour = settings.UPLOADS_PER_HOUR
    recent = ImportJob.objects.filter(
        owner=user, created_at__gte=timezone.now() - RATE_WINDOW
    ).count()
    if recent >= per_hour:
        return UploadRefused(
            f"You have started {recent} imports in the last hour, the most this site allows "
            f"({per_hour} an hour). Please wait a little and upload again.",
            status=429,
        )
    quota = settings.UPLOAD_QUOTA_BYTES
    waiting = (
        ImportFile.objects.filter(
            job__owner=user, job__status__in=ACTIVE_STATUSES, uploaded=True
        ).aggregate(total=Sum("size"))["total"]
        or 0
    )
    if waiting + incoming_bytes > quota:
        return UploadRefused(
            f"This upload ({filesizeformat(incoming_bytes)}) and your imports still waiting "
            f"or running ({filesizeformat(waiting)}) are more than the "
            f"{filesizeformat(quota)} this site keeps for you at a time. Wait for your "
            "imports to finish (or cancel one), or upload less at once.",
            status=413,
        )
    return None
