"""The price catalog: providers, models and their aliases, dated price versions, and the
cache and batch policies that admins keep current.

A published price version is immutable (model layer here, and database triggers in
migration 0002); a price change is a new version with its own ``effective_from``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from apps.rating.engine import CACHE_WRITE_RETENTIONS, FEE_METERS, TOKEN_METERS

NON_NEGATIVE = [MinValueValidator(Decimal(0))]

METER_CHOICES = [(m, m) for m in (*TOKEN_METERS, *FEE_METERS)]
RETENTION_CHOICES = [(r, r) for r in CACHE_WRITE_RETENTIONS]
TIER_CHOICES = [
    ("", "standard"),
    ("batch", "batch"),
    ("flex", "flex"),
    ("priority", "priority"),
    ("fast", "fast"),
]


class Provider(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelStatus(models.TextChoices):
    ACTIVE = "active", "active"
    PREVIEW = "preview", "preview"
    LEGACY = "legacy", "legacy"
    RETIRED = "retired", "retired"


class LanguageModel(models.Model):
    """A model as sold by its provider. ``slug`` is the canonical id used everywhere."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="models")
    slug = models.CharField(max_length=120, unique=True)
    name = models.CharField(max_length=120)
    context_window = models.PositiveIntegerField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    released_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ModelStatus.choices, default=ModelStatus.ACTIVE
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["provider__name", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(slug=Lower("slug")), name="model_slug_lowercase"),
        ]

    def __str__(self) -> str:
        return self.slug


class ModelAlias(models.Model):
    """Another spelling of a model: dated snapshot ids, router slugs, display names."""

    alias = models.CharField(max_length=200, unique=True)
    model = models.ForeignKey(LanguageModel, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "model aliases"
        constraints = [
            models.CheckConstraint(condition=Q(alias=Lower("alias")), name="alias_lowercase"),
        ]

    def save(self, *args, **kwargs) -> None:
        self.alias = self.alias.strip().lower()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.alias


class CacheKind(models.TextChoices):
    EXPLICIT = "explicit", "explicit breakpoints"
    AUTOMATIC = "automatic", "automatic prefix caching"
    BOTH = "both", "explicit and automatic"
    NONE = "none", "no prompt caching"


class _Sourced(models.Model):
    source_url = models.CharField(max_length=500, blank=True)
    checked_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True


class CachePolicy(_Sourced):
    """How a provider's (or one model's) prompt cache behaves. Model rows override provider rows."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="cache_policies")
    model = models.ForeignKey(
        LanguageModel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cache_policies",
    )
    kind = models.CharField(max_length=10, choices=CacheKind.choices)
    ttl_options = models.JSONField(
        default=list, blank=True, help_text='Retentions, e.g. ["5m", "1h"]'
    )
    default_ttl = models.CharField(max_length=8, blank=True)
    hit_refreshes_ttl = models.BooleanField(default=False)
    min_cacheable_tokens = models.PositiveIntegerField(null=True, blank=True)
    increment_tokens = models.PositiveIntegerField(null=True, blank=True)
    max_breakpoints = models.PositiveSmallIntegerField(null=True, blank=True)
    write_fee = models.BooleanField(default=True, help_text="Whether cache writes cost more than 0")
    automatic_hit_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Best-effort share of eligible prefix tokens assumed to hit an automatic cache",
    )

    class Meta:
        verbose_name_plural = "cache policies"
        constraints = [
            models.UniqueConstraint(
                fields=["provider"],
                condition=Q(model__isnull=True),
                name="one_cache_policy_per_provider",
            ),
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(model__isnull=False),
                name="one_cache_policy_per_model",
            ),
            models.CheckConstraint(
                condition=Q(automatic_hit_rate__isnull=True)
                | Q(automatic_hit_rate__gte=0, automatic_hit_rate__lte=1),
                name="cache_hit_rate_is_a_share",
            ),
        ]

    def clean(self) -> None:
        valid = set(CACHE_WRITE_RETENTIONS)
        if not isinstance(self.ttl_options, list) or not all(t in valid for t in self.ttl_options):
            raise ValidationError({"ttl_options": f"must be a list drawn from {sorted(valid)}"})
        if self.default_ttl and self.default_ttl not in valid:
            raise ValidationError({"default_ttl": f"must be one of {sorted(valid)}"})

    def __str__(self) -> str:
        return f"cache policy of {self.model or self.provider}"


class BatchPolicy(_Sourced):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="batch_policies")
    model = models.ForeignKey(
        LanguageModel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="batch_policies",
    )
    discount = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Share off list price, 0.5 = 50%",
    )
    applies_to_cache = models.BooleanField(default=True)
    turnaround_hours = models.PositiveIntegerField(null=True, blank=True)
    max_requests_per_batch = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "batch policies"
        constraints = [
            models.UniqueConstraint(
                fields=["provider"],
                condition=Q(model__isnull=True),
                name="one_batch_policy_per_provider",
            ),
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(model__isnull=False),
                name="one_batch_policy_per_model",
            ),
            models.CheckConstraint(
                condition=Q(discount__isnull=True) | Q(discount__gte=0, discount__lte=1),
                name="batch_discount_is_a_share",
            ),
        ]

    def __str__(self) -> str:
        return f"batch policy of {self.model or self.provider}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "draft"
    PUBLISHED = "published", "published"


class PublishedVersionError(ValidationError):
    """Raised on any attempt to change a published price version."""


class PriceVersion(_Sourced):
    """All prices of one model from ``effective_from`` until the next published version."""

    MULTIPLIER_FIELDS = (
        "batch_multiplier",
        "flex_multiplier",
        "priority_multiplier",
        "fast_multiplier",
    )

    model = models.ForeignKey(LanguageModel, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateTimeField(help_text="UTC instant from which these prices apply")
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    source_kind = models.CharField(
        max_length=12,
        choices=[("official", "official"), ("secondary", "secondary"), ("import", "import")],
        default="official",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    derived_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derivatives"
    )
    long_context_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Prompt tokens above which the whole request is long-context",
    )
    long_context_inclusive = models.BooleanField(
        default=False, help_text="A prompt of exactly the threshold is already long (xAI: ≥200K)"
    )
    long_context_input_multiplier = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, validators=NON_NEGATIVE
    )
    long_context_output_multiplier = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, validators=NON_NEGATIVE
    )
    batch_multiplier = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, validators=NON_NEGATIVE
    )
    flex_multiplier = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, validators=NON_NEGATIVE
    )
    priority_multiplier = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, validators=NON_NEGATIVE
    )
    fast_multiplier = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, validators=NON_NEGATIVE
    )
    tier_multipliers_apply_to_cache = models.BooleanField(
        default=True,
        help_text="Batch/flex/priority/fast multipliers also apply to cache reads and writes",
    )
    storage_per_mtok_hour = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text="Explicit-cache storage, USD per million tokens per hour",
    )

    class Meta:
        ordering = ["model__slug", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "effective_from"],
                condition=Q(status="published"),
                name="one_published_version_per_instant",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"]), name="version_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="published_version_has_published_at",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0}),
                    name=f"version_{name}_non_negative",
                )
                for name in (
                    "long_context_input_multiplier",
                    "long_context_output_multiplier",
                    "batch_multiplier",
                    "flex_multiplier",
                    "priority_multiplier",
                    "fast_multiplier",
                    "storage_per_mtok_hour",
                )
            ],
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} from {self.effective_from:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def split_rates(self) -> tuple[dict, dict, dict, dict]:
        """(standard rates, long-context rates, per-tier rates, fees) from the prefetched rows."""
        rates: dict[str, Decimal] = {}
        long_rates: dict[str, Decimal] = {}
        tier_rates: dict[str, dict[str, Decimal]] = {}
        fees: dict[str, Decimal] = {}
        for rate in self.rates.all():
            if rate.meter in FEE_METERS:
                fees[rate.meter] = rate.price
            elif rate.context == "long":
                long_rates[rate.meter] = rate.price
            elif rate.service_tier:
                tier_rates.setdefault(rate.service_tier, {})[rate.meter] = rate.price
            else:
                rates[rate.meter] = rate.price
        return rates, long_rates, tier_rates, fees

    def _stored_status(self) -> str | None:
        if self.pk is None:
            return None
        return PriceVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs) -> None:
        if self._stored_status() == VersionStatus.PUBLISHED:
            raise PublishedVersionError(
                f"price version {self.pk} is published and cannot be changed; start a new draft from it"
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == VersionStatus.PUBLISHED:
            raise PublishedVersionError(
                f"price version {self.pk} is published and cannot be deleted"
            )
        return super().delete(*args, **kwargs)


class _VersionChild(models.Model):
    """A row that belongs to a price version and freezes with it."""

    class Meta:
        abstract = True

    def _check_version_is_draft(self) -> None:
        version_id = self.version_id  # type: ignore[attr-defined]
        status = PriceVersion.objects.filter(pk=version_id).values_list("status", flat=True).first()
        if status == VersionStatus.PUBLISHED:
            raise PublishedVersionError(
                f"price version {version_id} is published; its {self._meta.verbose_name} rows cannot change"
            )

    def save(self, *args, **kwargs) -> None:
        self._check_version_is_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_version_is_draft()
        return super().delete(*args, **kwargs)


class Rate(_VersionChild):
    """One price: USD per million tokens (fees: USD per 1,000 calls).

    ``context`` "long" rows are the whole-request long-context prices; ``service_tier``
    rows are explicit per-tier prices (otherwise the version's tier multiplier applies).
    """

    version = models.ForeignKey(PriceVersion, on_delete=models.CASCADE, related_name="rates")
    meter = models.CharField(max_length=20, choices=METER_CHOICES)
    context = models.CharField(
        max_length=4, choices=[("base", "base"), ("long", "long context")], default="base"
    )
    service_tier = models.CharField(max_length=10, choices=TIER_CHOICES, default="", blank=True)
    price = models.DecimalField(max_digits=20, decimal_places=10, validators=NON_NEGATIVE)

    class Meta:
        ordering = ["version", "context", "service_tier", "meter"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "meter", "context", "service_tier"], name="one_rate_per_meter"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="rate_price_non_negative"),
            models.CheckConstraint(
                condition=Q(context="base") | Q(service_tier=""),
                name="long_rates_are_standard_tier",
            ),
        ]

    def __str__(self) -> str:
        tier = f" {self.service_tier}" if self.service_tier else ""
        ctx = " long" if self.context == "long" else ""
        return f"{self.meter}{ctx}{tier} = {self.price}"


class RegionMultiplier(_VersionChild):
    version = models.ForeignKey(
        PriceVersion, on_delete=models.CASCADE, related_name="region_multipliers"
    )
    region = models.CharField(
        max_length=20, help_text='Region code such as "us"; "*" for any non-global region'
    )
    multiplier = models.DecimalField(max_digits=12, decimal_places=6, validators=NON_NEGATIVE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "region"], name="one_multiplier_per_region"),
            models.CheckConstraint(
                condition=Q(multiplier__gte=0), name="region_multiplier_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} x{self.multiplier}"


class TimeBand(_VersionChild):
    """A UTC time-of-day window priced at ``multiplier`` times the list rates."""

    version = models.ForeignKey(PriceVersion, on_delete=models.CASCADE, related_name="time_bands")
    label = models.CharField(max_length=40, blank=True)
    start_minute = models.PositiveSmallIntegerField(help_text="Minutes after 00:00 UTC, inclusive")
    end_minute = models.PositiveSmallIntegerField(
        help_text="Minutes after 00:00 UTC, exclusive (≤ 1440)"
    )
    weekdays = models.CharField(
        max_length=20, blank=True, help_text="Comma-separated, 0 = Monday; blank = every day"
    )
    multiplier = models.DecimalField(max_digits=12, decimal_places=6, validators=NON_NEGATIVE)

    class Meta:
        ordering = ["version", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_minute__lt=models.F("end_minute"), end_minute__lte=1440),
                name="time_band_is_a_window",
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gte=0), name="time_band_multiplier_non_negative"
            ),
        ]

    def clean(self) -> None:
        if self.weekdays:
            parts = [p.strip() for p in self.weekdays.split(",")]
            if not all(p.isdigit() and 0 <= int(p) <= 6 for p in parts):
                raise ValidationError(
                    {"weekdays": "use digits 0 (Monday) to 6 (Sunday), comma-separated"}
                )

    def __str__(self) -> str:
        return f"{self.label or 'band'} {self.start_minute}-{self.end_minute} x{self.multiplier}"
