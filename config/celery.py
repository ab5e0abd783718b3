"""The Celery app: tenant-aware (each task runs in the schema of the tenant that queued it).

Periodic work: each app may define ``BEAT_SCHEDULE`` in ``apps/<app>/schedule.py``; they are
merged here.  Work per tenant is scheduled as ``core.fan_out`` with the tenant task's name,
which queues that task once in every tenant's schema.
"""

import os
from importlib import import_module

from django.conf import settings
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = CeleryApp("chargegrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _merge_app_schedules(sender, **kwargs):
    schedule = dict(settings.CELERY_BEAT_SCHEDULE)
    for name in settings.INSTALLED_APPS:
        if not name.startswith("apps."):
            continue
        try:
            module = import_module(f"{name}.schedule")
        except ModuleNotFoundError as error:
            if error.name != f"{name}.schedule":
                raise
            continue
        schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    sender.conf.beat_schedule = schedule
