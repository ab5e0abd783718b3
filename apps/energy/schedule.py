"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    "energy-poll": {
        "task": "core.fan_out",
        "schedule": 5.0,  # a VEN is polled every poll_seconds (>= 5); this finds the due ones
        "args": ["energy.poll_due"],
    },
}
