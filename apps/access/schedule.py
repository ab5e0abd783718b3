"""Periodic work, merged into Celery beat by config.celery (fanned out to every tenant)."""

BEAT_SCHEDULE = {
    # schedules open and close: the local lists follow (docs/access.md, "Local lists")
    "access-local-lists-tick": {
        "task": "core.fan_out",
        "schedule": 900.0,
        "args": ["access.local_lists_tick"],
    },
}
