from __future__ import annotations

from django.urls import path

from . import views

app_name = "usage"
urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/new/", views.import_create, name="import_create"),
    path("imports/<uuid:code>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:code>/cancel/", views.import_cancel, name="import_cancel"),
]
