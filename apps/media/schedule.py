"""Celery beat: every 5 minutes, in every tenant, send failed deliveries again when due."""

BEAT_SCHEDULE = {
    "media-retry-due": {
        "task": "core.fan_out",
        "schedule": 300.0,
        "args": ("media.retry_due",),
    },
}
