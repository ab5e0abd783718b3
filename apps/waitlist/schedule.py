"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    "waitlist-expire-due": {
        "task": "core.fan_out",
        "schedule": 30.0,
        "args": ["waitlist.expire_due"],
    },
}
