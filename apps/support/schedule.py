"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    "support-sla-check": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ["support.sla_check"],
    },
    "support-purge-unverified": {
        "task": "core.fan_out",
        "schedule": 3600.0,
        "args": ["support.purge_unverified"],
    },
}
