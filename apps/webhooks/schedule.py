"""Celery beat: once a minute, in every tenant, re-queue deliveries whose task was lost."""

BEAT_SCHEDULE = {
    "webhooks-requeue-lost": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ("webhooks.requeue_lost",),
    },
}
