"""Celery beat: every 15 s, in every tenant, one scheduling step of each running campaign."""

BEAT_SCHEDULE = {
    "firmware-campaigns-tick": {
        "task": "core.fan_out",
        "schedule": 15.0,
        "args": ("firmware.tick_campaigns",),
    },
}
