"""Thin, tenant-aware Celery tasks (tenant-schemas-celery runs each in its tenant's schema)."""

from __future__ import annotations

from celery import shared_task

from . import services
from .choices import CampaignStatus
from .models import Campaign


@shared_task(name="firmware.tick_campaigns", ignore_result=True)
def campaigns_tick() -> int:
    """One scheduling step of every running campaign of the tenant (beat, via fan-out)."""
    ids = list(Campaign.objects.filter(status=CampaignStatus.RUNNING).values_list("pk", flat=True))
    for campaign_id in ids:
        services.campaign_tick(campaign_id=campaign_id)
    return len(ids)
