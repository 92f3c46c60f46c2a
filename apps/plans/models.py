"""Subscription plans as versioned data, kept exactly like price versions.

A plan (Claude Max 20x, Cursor Pro...) has dated versions: price, coverage, overage and
its windows. A published version is immutable (here in the model layer, and by database
triggers in migration 0002); a change is a new version with its own ``effective_from``.
The version in effect at an instant is the latest published one starting at or before it.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from .terms import OVERAGE_KINDS, UNITS, WINDOW_KINDS

NON_NEGATIVE = [MinValueValidator(Decimal(0))]
VENDORS = [
    ("anthropic", "Anthropic"),
    ("openai", "OpenAI"),
    ("google", "Google"),
    ("github", "GitHub"),
    ("cursor", "Cursor"),
]


class Plan(models.Model):
    """A plan as sold; its terms live in versions."""

    slug = models.SlugField(max_length=60, unique=True)
    vendor = models.CharField(max_length=20, choices=VENDORS)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0, help_text="order on the plans page")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "draft"
    PUBLISHED = "published", "published"


class PublishedPlanVersionError(ValidationError):
    """Raised on any attempt to change a published plan version."""


class PlanVersion(models.Model):
    """A plan's terms from ``effective_from`` until its next published version."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateTimeField(help_text="UTC instant from which these terms apply")
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    derived_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derivatives"
    )
    source_url = models.CharField(max_length=500, help_text="where the price is published")
    checked_on = models.DateField(help_text="the date of the source")
    notes = models.TextField(blank=True)
    monthly_price_usd = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        validators=NON_NEGATIVE,
        help_text="per month, billed monthly",
    )
    annual_price_usd = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text="per year, billed annually (blank: no annual price in the sources)",
    )
    per_seat = models.BooleanField(default=False, help_text="prices are per seat")
    min_seats = models.PositiveSmallIntegerField(
        null=True, blank=True, default=1, help_text="blank: the sources do not say"
    )
    harnesses = models.JSONField(
        default=list, blank=True, help_text='apps the plan covers, e.g. ["claude-code"]'
    )
    model_families = models.JSONField(
        default=list, blank=True, help_text='model families covered, e.g. ["claude"]'
    )
    overage_kind = models.CharField(
        max_length=10, choices=list(OVERAGE_KINDS.items()), default="unknown"
    )
    overage_unit_price_usd = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, validators=NON_NEGATIVE
    )
    overage_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["plan__position", "plan__slug", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "effective_from"],
                condition=Q(status="published"),
                name="one_published_plan_version_per_instant",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"]), name="plan_version_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="published_plan_version_has_published_at",
            ),
            models.CheckConstraint(
                condition=Q(monthly_price_usd__gte=0)
                & (Q(annual_price_usd__isnull=True) | Q(annual_price_usd__gte=0))
                & (Q(overage_unit_price_usd__isnull=True) | Q(overage_unit_price_usd__gte=0)),
                name="plan_version_prices_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(min_seats__isnull=True) | Q(min_seats__gte=1),
                name="plan_version_min_seats_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} from {self.effective_from:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def clean(self) -> None:
        for name in ("harnesses", "model_families"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValidationError({name: "must be a list of names"})
        if "api" in self.harnesses:
            raise ValidationError({"harnesses": "no plan covers the API; remove 'api'"})

    def _stored_status(self) -> str | None:
        if self.pk is None:
            return None
        return PlanVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs) -> None:
        if self._stored_status() == VersionStatus.PUBLISHED:
            raise PublishedPlanVersionError(
                f"plan version {self.pk} is published and cannot be changed; start a new draft from it"
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == VersionStatus.PUBLISHED:
            raise PublishedPlanVersionError(
                f"plan version {self.pk} is published and cannot be deleted"
            )
        return super().delete(*args, **kwargs)


class PlanWindow(models.Model):
    """One limit of a version: its kind, unit, and low / mid / high capacity, each sourced."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="windows")
    kind = models.CharField(max_length=14, choices=list(WINDOW_KINDS.items()))
    label = models.CharField(max_length=80, blank=True)
    harness = models.CharField(
        max_length=40, blank=True, help_text="blank: every harness of the plan"
    )
    unit = models.CharField(max_length=10, choices=list(UNITS.items()), default="usd")
    usd_per_unit = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text="dollar value of one unit, where a source gives it",
    )
    usd_per_unit_source_url = models.CharField(max_length=500, blank=True)
    low = models.DecimalField(
        max_digits=16, decimal_places=4, null=True, blank=True, validators=NON_NEGATIVE
    )
    low_source_url = models.CharField(max_length=500, blank=True)
    low_as_of = models.DateField(null=True, blank=True)
    mid = models.DecimalField(
        max_digits=16, decimal_places=4, null=True, blank=True, validators=NON_NEGATIVE
    )
    mid_source_url = models.CharField(max_length=500, blank=True)
    mid_as_of = models.DateField(null=True, blank=True)
    high = models.DecimalField(
        max_digits=16, decimal_places=4, null=True, blank=True, validators=NON_NEGATIVE
    )
    high_source_url = models.CharField(max_length=500, blank=True)
    high_as_of = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(low__isnull=True) | Q(low__gte=0))
                & (Q(mid__isnull=True) | Q(mid__gte=0))
                & (Q(high__isnull=True) | Q(high__gte=0))
                & (Q(usd_per_unit__isnull=True) | Q(usd_per_unit__gte=0)),
                name="plan_window_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=(Q(low__isnull=True) | Q(mid__isnull=True) | Q(low__lte=F("mid")))
                & (Q(mid__isnull=True) | Q(high__isnull=True) | Q(mid__lte=F("high")))
                & (Q(low__isnull=True) | Q(high__isnull=True) | Q(low__lte=F("high"))),
                name="plan_window_low_mid_high_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.version_id}"

    def clean(self) -> None:
        for level in ("low", "mid", "high"):
            if getattr(self, level) is not None and not getattr(self, f"{level}_source_url"):
                raise ValidationError({f"{level}_source_url": "every estimate needs its source"})

    def _check_version_is_draft(self) -> None:
        status = (
            PlanVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        )
        if status == VersionStatus.PUBLISHED:
            raise PublishedPlanVersionError(
                f"plan version {self.version_id} is published; its windows cannot change"
            )

    def save(self, *args, **kwargs) -> None:
        self._check_version_is_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_version_is_draft()
        return super().delete(*args, **kwargs)
