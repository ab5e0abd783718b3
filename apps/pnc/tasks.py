"""Celery tasks: thin, tenant-aware; each calls one service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="pnc.renew_due")
def renew_due() -> int:
    """Stations whose certificate expires within PNC_RENEW_BEFORE_DAYS: TriggerMessage."""
    return services.renew_due()
