from __future__ import annotations

from django.urls import path

from . import api

app_name = "plans_api"
urlpatterns = [
    path("plans", api.plans_view, name="plans"),
    path("resume-cost", api.resume_cost_view, name="resume_cost"),
]
