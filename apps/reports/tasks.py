"""Celery tasks: thin, tenant-aware (run in the schema of the tenant that queued them), by id."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from . import services
from .models import ReportSubscription

CATCH_UP_DELAY = 300  # seconds: reports trail the raw rows by at most ~5 minutes; each open
# quarter of a busy port is recomputed about three times, which keeps ingest cheap (bench)
PENDING_TTL = 600
_PENDING_KEY = "reports:catch-up"  # the cache's key function adds the tenant's schema


def enqueue_catch_up() -> None:
    """Queue a catch-up unless one is already waiting to start (one per tenant per burst)."""
    if cache.add(_PENDING_KEY, 1, timeout=PENDING_TTL):
        catch_up.apply_async(countdown=CATCH_UP_DELAY)


@shared_task(name="reports.catch_up")
def catch_up() -> int:
    cache.delete(_PENDING_KEY)
    return services.rollup_catch_up()


@shared_task(name="reports.tick")
def tick() -> int:
    """Every 5 minutes in each tenant (beat): the current quarters, then the catch-up."""
    services.rollup_tick()
    return services.rollup_catch_up()


@shared_task(name="reports.session_changed")
def session_changed(session_id: int) -> int:
    services.rollup_mark_session(session_id=session_id)
    enqueue_catch_up()
    return session_id


@shared_task(name="reports.export_run")
def export_run(job_id: int) -> str:
    return services.export_job_run(job_id=job_id)


@shared_task(name="reports.deliver_due")
def deliver_due() -> int:
    """Daily in each tenant (beat): queue every active subscription (each sends only a period
    it has not sent yet)."""
    ids = list(ReportSubscription.objects.filter(is_active=True).values_list("pk", flat=True))
    for subscription_id in ids:
        deliver.delay(subscription_id)
    return len(ids)


@shared_task(name="reports.deliver")
def deliver(subscription_id: int) -> bool:
    return services.report_deliver(subscription_id=subscription_id)


@shared_task(name="reports.raw_retention")
def raw_retention() -> int:
    """Daily in each tenant (beat): delete raw meter values past the retention, once rolled up."""
    return services.raw_retention_run()
