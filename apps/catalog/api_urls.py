from __future__ import annotations

from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("models", api.models_list, name="models"),
    # <path:...> so router-style aliases with a slash (anthropic/claude-...) resolve too.
    path("models/<path:model>", api.model_detail, name="model"),
    path("prices", api.prices, name="prices"),
]
