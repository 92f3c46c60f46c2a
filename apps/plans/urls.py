from __future__ import annotations

from django.urls import path

from . import views

app_name = "plans"
urlpatterns = [
    path("plans/", views.plans_list, name="list"),
    path("plans/windows/<uuid:code>/", views.workload_windows, name="windows"),
    path("plans/<slug:slug>/", views.plan_detail, name="detail"),
]
