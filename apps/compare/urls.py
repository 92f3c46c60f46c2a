from __future__ import annotations

from django.urls import path

from . import views

app_name = "compare"
urlpatterns = [
    path("compare/", views.page, name="page"),
    path("compare/workload/<uuid:code>/", views.workload, name="workload"),
]
