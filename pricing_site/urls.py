from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from apps.compare.home import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("apps.catalog.api_urls")),
    path("api/v1/", include("apps.compare.api_urls")),
    path("api/v1/", include("apps.plans.api_urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("", include("apps.usage.urls")),
    path("", include("apps.compare.urls")),
    path("", include("apps.plans.urls")),
    path("", include("apps.catalog.urls")),
]

handler404 = "apps.common.errors.not_found"
handler500 = "apps.common.errors.server_error"
