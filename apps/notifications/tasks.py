"""Celery tasks: thin, tenant-aware, by id."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="notifications.deliver")
def deliver(notification_id: int) -> str:
    return services.notification_deliver(notification_id=notification_id)


@shared_task(name="notifications.deliver_due")
def deliver_due() -> int:
    return len(services.notifications_due())
