"""Celery tasks: thin, tenant-aware."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="support.sla_check")
def sla_check() -> int:
    return len(services.sla_breaches_alert())


@shared_task(name="support.purge_unverified")
def purge_unverified() -> int:
    return services.unverified_purge()
