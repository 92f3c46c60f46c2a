from __future__ import annotations

from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("prices/", views.prices, name="prices"),
    # <str:model> because model ids carry dots (gpt-4.1, gemini-2.5-pro).
    path("prices/<slug:provider>/<str:model>/", views.model_detail, name="model_detail"),
]
