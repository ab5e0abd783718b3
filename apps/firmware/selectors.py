"""Reads: a campaign's progress and its report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Avg, Count, QuerySet

from apps.stations.models import Station

from .choices import TargetStatus as T
from .models import Campaign, CampaignTarget


@dataclass
class CampaignReport:
    total: int
    counts: dict[str, int]
    progress: int  # percent, over the targets not skipped
    waves: list[dict]
    failed: list[CampaignTarget] = field(default_factory=list)
    skipped: list[CampaignTarget] = field(default_factory=list)
    failure_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def upgraded(self) -> int:
        return self.counts.get(T.UPGRADED, 0)


def campaign_report(*, campaign: Campaign) -> CampaignReport:
    targets = CampaignTarget.objects.filter(campaign=campaign)
    counts = dict(targets.values_list("status").annotate(n=Count("pk")).order_by())
    progress = targets.exclude(status=T.SKIPPED).aggregate(p=Avg("progress"))["p"] or 0
    by_wave: dict[int, Counter] = {}
    for wave, status, n in targets.values_list("wave", "status").annotate(n=Count("pk")).order_by():
        by_wave.setdefault(wave, Counter())[status] += n
    waves = [
        {"wave": wave, "total": sum(c.values()), **{str(k): v for k, v in c.items()}}
        for wave, c in sorted(by_wave.items())
    ]
    failed = list(targets.filter(status=T.FAILED).select_related("station"))
    skipped = list(targets.filter(status__in=[T.SKIPPED, T.CANCELLED]).select_related("station"))
    return CampaignReport(
        total=sum(counts.values()),
        counts=counts,
        progress=round(progress),
        waves=waves,
        failed=failed,
        skipped=skipped,
        failure_reasons=dict(Counter(t.reason for t in failed)),
    )


def campaign_targets(*, campaign: Campaign) -> QuerySet[CampaignTarget]:
    return CampaignTarget.objects.filter(campaign=campaign).select_related(
        "station", "station__site"
    )


def stations_for_campaign(
    *,
    actor,
    image,
    versions: list[str] | None = None,
    site_ids: list[int] | None = None,
    model: str | None = None,
    tags: list[str] | None = None,
):
    """The stations a campaign may target: the image's vendor and model (or ``model``), on
    the actor's sites, optionally only some current versions and sites, and only stations
    carrying every one of ``tags``."""
    stations = Station.objects.restrict(actor, "stations.configure").filter(
        vendor=image.vendor, model=model or image.model
    )
    if versions:
        stations = stations.filter(firmware_version__in=versions)
    if site_ids:
        stations = stations.filter(site_id__in=site_ids)
    if tags:
        stations = stations.filter(tags__contains=tags)
    return stations
