"""Staff keep plans current here: edit drafts, publish, start drafts, diff, history.

The same workflow as price versions (``apps.catalog.admin``): published versions are
read-only here, in the model layer and in the database.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .models import Plan, PlanVersion, PlanWindow, VersionStatus
from .selectors import plan_versions, version_diff
from .services import version_create_draft_from, version_publish


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "slug", "position", "history_link"]
    list_filter = ["vendor"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description="history")
    def history_link(self, obj: Plan) -> str:
        url = reverse("admin:plans_plan_history", args=[obj.pk])
        return format_html('<a href="{}">history</a>', url)

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/history-of-terms/",
                self.admin_site.admin_view(self.terms_history_view),
                name="plans_plan_history",
            )
        ]
        return extra + super().get_urls()

    def terms_history_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(Plan, pk=pk)
        if not self.has_view_permission(request, plan):
            raise PermissionDenied
        versions = plan_versions(plan, include_drafts=True)
        rows = []
        for previous, version in zip([None, *versions], versions, strict=False):
            changes = [r for r in version_diff(previous, version) if r.changed] if previous else []
            rows.append({"version": version, "changes": changes})
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {plan.name}",
            "plan": plan,
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/plans/plan_history.html", context)


class WindowInline(admin.StackedInline):
    """A published version's windows cannot be added, changed or deleted."""

    model = PlanWindow
    extra = 0
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("kind", "label", "harness"),
                    ("unit", "usd_per_unit", "usd_per_unit_source_url"),
                ]
            },
        ),
        ("Low estimate", {"fields": [("low", "low_source_url", "low_as_of")]}),
        ("Mid estimate", {"fields": [("mid", "mid_source_url", "mid_as_of")]}),
        ("High estimate", {"fields": [("high", "high_source_url", "high_as_of")]}),
        (None, {"fields": ["notes"]}),
    ]

    def _editable(self, obj: PlanVersion | None) -> bool:
        return obj is None or obj.status == VersionStatus.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class NewDraftForm(forms.Form):
    effective_from = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 00:00")


@admin.register(PlanVersion)
class PlanVersionAdmin(admin.ModelAdmin):
    list_display = [
        "plan",
        "effective_from",
        "status",
        "monthly_price_usd",
        "checked_on",
        "published_at",
    ]
    list_filter = ["status", "plan__vendor", "plan"]
    list_select_related = ["plan"]
    search_fields = ["plan__name", "plan__slug", "notes"]
    date_hierarchy = "effective_from"
    raw_id_fields = ["derived_from"]
    inlines = [WindowInline]
    actions = ["publish_selected", "compare_two"]
    readonly_fields = ["status", "published_at", "created_at", "derived_from"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "plan",
                    "effective_from",
                    "status",
                    "published_at",
                    "created_at",
                    "derived_from",
                ]
            },
        ),
        ("Source", {"fields": ["source_url", "checked_on", "notes"]}),
        ("Price", {"fields": ["monthly_price_usd", "annual_price_usd", "per_seat", "min_seats"]}),
        ("Coverage", {"fields": ["harnesses", "model_families"]}),
        ("Past the limit", {"fields": ["overage_kind", "overage_unit_price_usd", "overage_notes"]}),
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
            path("<int:pk>/new-draft/", self.admin_site.admin_view(self.new_draft_view),
                 name="plans_planversion_new_draft"),
            path("<int:pk>/publish/", self.admin_site.admin_view(self.publish_view),
                 name="plans_planversion_publish"),
            path("diff/<int:left>/<int:right>/", self.admin_site.admin_view(self.diff_view),
                 name="plans_planversion_diff"),
        ]  # fmt: skip
        return extra + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        version = self.get_object(request, object_id)
        if version is not None:
            extra_context["version_obj"] = version
            extra_context["previous_version"] = (
                PlanVersion.objects.filter(
                    plan=version.plan, effective_from__lt=version.effective_from
                )
                .order_by("-effective_from")
                .first()
            )
        return super().change_view(request, object_id, form_url, extra_context)

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
        return HttpResponseRedirect(reverse("admin:plans_planversion_diff", args=ids))

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = get_object_or_404(PlanVersion, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, version):
            raise PermissionDenied
        try:
            version_publish(version=version)
            self.message_user(request, f"Published {version}.", messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(request, "Not published: " + "; ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:plans_planversion_change", args=[pk]))

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        source = get_object_or_404(PlanVersion.objects.select_related("plan"), pk=pk)
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewDraftForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            draft = version_create_draft_from(
                version=source, effective_from=form.cleaned_data["effective_from"]
            )
            self.message_user(request, f"Draft created from version {source.pk}.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:plans_planversion_change", args=[draft.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"New draft from {source}",
            "source": source,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/plans/new_draft.html", context)

    def diff_view(self, request: HttpRequest, left: int, right: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        qs = PlanVersion.objects.select_related("plan").prefetch_related("windows")
        a, b = get_object_or_404(qs, pk=left), get_object_or_404(qs, pk=right)
        rows = version_diff(a, b)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare plan versions {a.pk} and {b.pk}",
            "left": a,
            "right": b,
            "rows": rows,
            "changed": sum(r.changed for r in rows),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/plans/version_diff.html", context)
