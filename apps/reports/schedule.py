"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    "reports-tick": {
        "task": "core.fan_out",
        "schedule": 300.0,
        "args": ["reports.tick"],
    },
    "reports-deliver": {  # hourly: each tenant's day starts in its own time zone
        "task": "core.fan_out",
        "schedule": 3600.0,
        "args": ["reports.deliver_due"],
    },
    "reports-raw-retention": {  # daily: raw meter values past each tenant's retention
        "task": "core.fan_out",
        "schedule": 86400.0,
        "args": ["reports.raw_retention"],
    },
}
