"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    "notifications-deliver-due": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ["notifications.deliver_due"],
    },
}
