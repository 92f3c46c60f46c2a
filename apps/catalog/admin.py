"""Staff keep prices current here: edit drafts, publish, start drafts, diff, history.

Published versions are read-only everywhere (here, in the model layer and in the database).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .diff import version_diff
from .litellm_mapping import parse_litellm_json
from .models import (
    BatchPolicy,
    CachePolicy,
    LanguageModel,
    ModelAlias,
    PriceVersion,
    Provider,
    Rate,
    RegionMultiplier,
    TimeBand,
    VersionStatus,
)
from .selectors import model_history
from .services.litellm import default_effective_from, litellm_export, litellm_import
from .services.versions import version_create_draft_from, version_publish


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "website"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class AliasInline(admin.TabularInline):
    model = ModelAlias
    extra = 1


@admin.register(LanguageModel)
class LanguageModelAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "provider", "status", "context_window", "history_link"]
    list_filter = ["provider", "status"]
    list_select_related = ["provider"]
    search_fields = ["slug", "name", "aliases__alias"]
    inlines = [AliasInline]
    actions = ["export_litellm_json"]

    @admin.display(description="price history")
    def history_link(self, obj: LanguageModel) -> str:
        url = reverse("admin:catalog_languagemodel_price_history", args=[obj.pk])
        return format_html('<a href="{}">history</a>', url)

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/price-history/",
                self.admin_site.admin_view(self.price_history_view),
                name="catalog_languagemodel_price_history",
            )
        ]
        return extra + super().get_urls()

    def price_history_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        model = get_object_or_404(LanguageModel.objects.select_related("provider"), pk=pk)
        if not self.has_view_permission(request, model):
            raise PermissionDenied
        versions = model_history(model, include_drafts=True)
        rows = []
        for previous, version in zip([None, *versions], versions, strict=False):
            changes = [r for r in version_diff(previous, version) if r.changed] if previous else []
            rows.append({"version": version, "changes": changes})
        context = {
            **self.admin_site.each_context(request),
            "title": f"Price history of {model.slug}",
            "model": model,
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/price_history.html", context)

    @admin.action(description="Export as LiteLLM JSON", permissions=["view"])
    def export_litellm_json(self, request: HttpRequest, queryset) -> HttpResponse:
        """The selected models' prices in effect now, as a LiteLLM price file download."""
        entries = litellm_export(models=queryset)
        response = HttpResponse(
            json.dumps(entries, indent=4) + "\n", content_type="application/json"
        )
        response["Content-Disposition"] = (
            'attachment; filename="model_prices_and_context_window.json"'
        )
        return response


@admin.register(CachePolicy)
class CachePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "default_ttl", "min_cacheable_tokens", "checked_on"]
    list_filter = ["provider", "kind"]
    list_select_related = ["provider", "model"]
    raw_id_fields = ["model"]


@admin.register(BatchPolicy)
class BatchPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "discount", "turnaround_hours", "checked_on"]
    list_select_related = ["provider", "model"]
    raw_id_fields = ["model"]


class _FrozenWhenPublished(admin.options.InlineModelAdmin):
    """Inline rows of a published version cannot be added, changed or deleted."""

    def _editable(self, obj: PriceVersion | None) -> bool:
        return obj is None or obj.status == VersionStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class RateInline(_FrozenWhenPublished, admin.TabularInline):
    model = Rate
    extra = 0
    fields = ["meter", "context", "service_tier", "price"]


class RegionInline(_FrozenWhenPublished, admin.TabularInline):
    model = RegionMultiplier
    extra = 0


class TimeBandInline(_FrozenWhenPublished, admin.TabularInline):
    model = TimeBand
    extra = 0


class NewDraftForm(forms.Form):
    effective_from = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 00:00")


LITELLM_UPLOAD_LIMIT = 20 * 1024 * 1024  # the full LiteLLM file is about 1.5 MB


class LiteLLMImportForm(forms.Form):
    file = forms.FileField(help_text="model_prices_and_context_window.json, at most 20 MB")
    effective_from = forms.DateTimeField(required=False, help_text="UTC; blank means now")
    publish = forms.BooleanField(
        required=False, help_text="Publish the new versions at once instead of creating drafts"
    )
    only_known = forms.BooleanField(
        required=False, help_text="Only update models already in the catalog"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > LITELLM_UPLOAD_LIMIT:
            raise forms.ValidationError("The file is larger than 20 MB.")
        return upload


@admin.register(PriceVersion)
class PriceVersionAdmin(admin.ModelAdmin):
    list_display = [
        "model",
        "effective_from",
        "status",
        "source_kind",
        "checked_on",
        "published_at",
    ]
    list_filter = ["status", "source_kind", "model__provider"]
    list_select_related = ["model"]
    search_fields = ["model__slug", "notes"]
    date_hierarchy = "effective_from"
    raw_id_fields = ["model", "derived_from"]
    inlines = [RateInline, RegionInline, TimeBandInline]
    actions = ["publish_selected", "compare_two"]
    readonly_fields = ["status", "published_at", "created_at", "derived_from"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "model",
                    "effective_from",
                    "status",
                    "published_at",
                    "created_at",
                    "derived_from",
                ]
            },
        ),
        ("Source", {"fields": ["source_url", "source_kind", "checked_on", "notes"]}),
        (
            "Long context (whole request)",
            {
                "fields": [
                    "long_context_threshold",
                    "long_context_inclusive",
                    "long_context_input_multiplier",
                    "long_context_output_multiplier",
                ]
            },
        ),
        (
            "Service tiers and storage",
            {
                "fields": [
                    "batch_multiplier",
                    "flex_multiplier",
                    "priority_multiplier",
                    "fast_multiplier",
                    "tier_multipliers_apply_to_cache",
                    "storage_per_mtok_hour",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == VersionStatus.PUBLISHED:
            return [f.name for f in self.model._meta.concrete_fields if f.name != "id"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status == VersionStatus.PUBLISHED:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        published = queryset.filter(status=VersionStatus.PUBLISHED)
        if published.exists():
            self.message_user(request, "Published versions cannot be deleted.", messages.ERROR)
            queryset = queryset.exclude(pk__in=published)
        for obj in queryset:
            obj.delete()

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/new-draft/",
                self.admin_site.admin_view(self.new_draft_view),
                name="catalog_priceversion_new_draft",
            ),
            path(
                "<int:pk>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="catalog_priceversion_publish",
            ),
            path(
                "diff/<int:left>/<int:right>/",
                self.admin_site.admin_view(self.diff_view),
                name="catalog_priceversion_diff",
            ),
            path(
                "import-litellm/",
                self.admin_site.admin_view(self.import_litellm_view),
                name="catalog_priceversion_import_litellm",
            ),
        ]
        return extra + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        version = self.get_object(request, object_id)
        if version is not None:
            extra_context["version_obj"] = version
            previous = (
                PriceVersion.objects.filter(
                    model=version.model, effective_from__lt=version.effective_from
                )
                .order_by("-effective_from")
                .first()
            )
            extra_context["previous_version"] = previous
        return super().change_view(request, object_id, form_url, extra_context)

    # -- actions ---------------------------------------------------------------

    @admin.action(description="Publish selected drafts", permissions=["change"])
    def publish_selected(self, request, queryset):
        done = 0
        for version in queryset.filter(status=VersionStatus.DRAFT):
            try:
                version_publish(version=version)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{version}: {'; '.join(exc.messages)}", messages.ERROR)
        if done:
            self.message_user(request, f"Published {done} version(s).", messages.SUCCESS)

    @admin.action(description="Compare two selected versions side by side", permissions=["view"])
    def compare_two(self, request, queryset):
        ids = list(queryset.order_by("effective_from").values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(request, "Select exactly two versions to compare.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:catalog_priceversion_diff", args=ids))

    # -- views -----------------------------------------------------------------

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = get_object_or_404(PriceVersion, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, version):
            raise PermissionDenied
        try:
            version_publish(version=version)
            self.message_user(request, f"Published {version}.", messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(request, "Not published: " + "; ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:catalog_priceversion_change", args=[pk]))

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        source = get_object_or_404(PriceVersion.objects.select_related("model"), pk=pk)
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewDraftForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            draft = version_create_draft_from(
                version=source, effective_from=form.cleaned_data["effective_from"]
            )
            self.message_user(request, f"Draft created from version {source.pk}.", messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:catalog_priceversion_change", args=[draft.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"New draft from {source}",
            "source": source,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/new_draft.html", context)

    def diff_view(self, request: HttpRequest, left: int, right: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        qs = PriceVersion.objects.select_related("model").prefetch_related(
            "rates", "region_multipliers", "time_bands"
        )
        a, b = get_object_or_404(qs, pk=left), get_object_or_404(qs, pk=right)
        rows = version_diff(a, b)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare versions {a.pk} and {b.pk}",
            "left": a,
            "right": b,
            "rows": rows,
            "changed": sum(r.changed for r in rows),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/version_diff.html", context)

    def import_litellm_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a LiteLLM price file: drafts by default, then a report with unknown keys."""
        if not request.user.has_perm("catalog.add_priceversion"):
            raise PermissionDenied
        form = LiteLLMImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            # publishing is a change (as for the "Publish selected drafts" action)
            if form.cleaned_data["publish"] and not request.user.has_perm(
                "catalog.change_priceversion"
            ):
                form.add_error("publish", "Publishing needs the change price version permission.")
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = litellm_import(
                    data=parse_litellm_json(upload.read(), name=upload.name),
                    effective_from=form.cleaned_data["effective_from"] or default_effective_from(),
                    publish=form.cleaned_data["publish"],
                    only_known=form.cleaned_data["only_known"],
                )
            except ValidationError as exc:
                form.add_error("file", exc.messages)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import LiteLLM JSON",
            "form": form,
            "report": report.as_dict() if report else None,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/litellm_import.html", context)
