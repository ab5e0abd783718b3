"""Thin, tenant-aware Celery tasks (tenant-schemas-celery runs each in its tenant's schema)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="media.delivery_send", ignore_result=True)
def delivery_send_task(delivery_id: int) -> str:
    from .services import delivery_send

    return delivery_send(delivery_id=delivery_id)


@shared_task(name="media.station_redeliver", ignore_result=True)
def station_redeliver_task(station_id: int, rebooted: bool = False) -> int:
    from .services import station_redeliver

    return len(station_redeliver(station_id=station_id, rebooted=rebooted))


@shared_task(name="media.retry_due", ignore_result=True)
def retry_due() -> int:
    """Failed deliveries to stations online again, after their back-off (beat, fan-out)."""
    from .services import deliveries_retry_due

    return len(deliveries_retry_due())
