"""Thin Celery tasks of cloud plans (run in the public schema: plans are the platform's)."""

from __future__ import annotations

from celery import shared_task

from .services import plan_reminders_send as send


@shared_task(name="plans.send_reminders", ignore_result=True)
def plan_reminders_send() -> int:
    return send()
