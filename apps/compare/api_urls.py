from __future__ import annotations

from django.urls import path

from . import api

app_name = "compare_api"
urlpatterns = [path("estimate", api.estimate_view, name="estimate")]
