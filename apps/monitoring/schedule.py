"""Periodic work of monitoring, merged into the beat schedule by config/celery.py."""

BEAT_SCHEDULE = {
    "monitoring-sweep": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ["monitoring.sweep"],
    },
}
