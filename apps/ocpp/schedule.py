from celery.schedules import crontab

BEAT_SCHEDULE = {
    "ocpp-sweep-liveness": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ["ocpp.sweep_liveness"],
    },
    "ocpp-prune-message-log": {
        "task": "core.fan_out",
        "schedule": crontab(minute=17, hour=3),
        "args": ["ocpp.prune_message_log"],
    },
}
