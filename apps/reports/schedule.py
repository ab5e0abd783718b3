"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    "reports-tick": {
        "task": "core.fan_out",
        "schedule": 300.0,
        "args": ["reports.tick"],
    },
}
