from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pricing_site.settings")

# DjangoTask gives delay_on_commit even where the Django fix-up has not run (plain scripts)
app = Celery("pricing_site", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
