from __future__ import annotations

from django.urls import path

from . import api, breakeven_api

app_name = "compare_api"
urlpatterns = [
    path("estimate", api.estimate_view, name="estimate"),
    path("breakeven", breakeven_api.breakeven_view, name="breakeven"),
]
