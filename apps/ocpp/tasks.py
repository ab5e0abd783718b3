"""Periodic OCPP housekeeping, per tenant (queued by core.fan_out from beat)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.charging.services import sessions_close_stale
from apps.stations.services import stations_mark_silent_offline

from .models import MessageLog


@shared_task(name="ocpp.sweep_liveness")
def sweep_liveness() -> dict[str, int]:
    """Silent stations go offline; sessions of long-dead stations are closed by rule."""
    return {
        "offline": stations_mark_silent_offline(factor=settings.OCPP_OFFLINE_FACTOR),
        "sessions_closed": sessions_close_stale(),
    }


@shared_task(name="ocpp.prune_message_log")
def prune_message_log() -> int:
    cutoff = timezone.now() - dt.timedelta(days=settings.OCPP_MESSAGE_LOG_DAYS)
    deleted, _ = MessageLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted
