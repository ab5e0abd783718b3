"""Thin, tenant-aware Celery tasks (tenant-schemas-celery runs each in its tenant's schema)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .choices import DeliveryStatus
from .services import webhook_deliveries_requeue, webhook_delivery_attempt


@shared_task(bind=True, name="webhooks.deliver", ignore_result=True, max_retries=None)
def webhook_deliver(self, delivery_id: int) -> str | None:
    """Attempt one delivery; on failure Celery retries it after the delivery's back-off."""
    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return None
    if delivery.status == DeliveryStatus.RETRYING:
        wait = max((delivery.next_attempt_at - timezone.now()).total_seconds(), 0)
        raise self.retry(countdown=wait)
    return delivery.status


@shared_task(name="webhooks.requeue_lost", ignore_result=True)
def webhook_requeue_lost() -> int:
    return webhook_deliveries_requeue()
