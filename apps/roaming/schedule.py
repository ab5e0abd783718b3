"""Celery beat: once a minute, in every tenant, re-queue pushes whose task was lost."""

BEAT_SCHEDULE = {
    "roaming-requeue-lost": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ("roaming.requeue_lost",),
    },
}
