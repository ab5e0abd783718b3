"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    "power-rebalance": {
        "task": "core.fan_out",
        "schedule": 30.0,
        "args": ["power.rebalance_all"],
    },
}
