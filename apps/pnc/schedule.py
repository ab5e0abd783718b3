"""Celery beat: hourly, in every tenant, ask stations whose certificate nears expiry to renew."""

BEAT_SCHEDULE = {
    "pnc-renew-due": {
        "task": "core.fan_out",
        "schedule": 3600.0,
        "args": ("pnc.renew_due",),
    },
}
