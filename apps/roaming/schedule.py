"""Celery beat: once a minute, in every tenant, re-queue pushes whose task was lost; every
15 minutes, pull what changed in partners' tokens."""

BEAT_SCHEDULE = {
    "roaming-requeue-lost": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ("roaming.requeue_lost",),
    },
    "roaming-tokens-pull": {
        "task": "core.fan_out",
        "schedule": 900.0,
        "args": ("roaming.tokens_pull",),
    },
}
