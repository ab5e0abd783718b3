"""Celery beat: every morning, renewal reminders 60, 30 and 7 days before a plan expires.

Plans live in the public schema, so the task runs there once (no per-tenant fan-out) and
opens each tenant's schema only to find its admins."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "plans-renewal-reminders": {
        "task": "plans.send_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
}
