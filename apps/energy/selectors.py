"""Reads: VENs due for a poll, events of a site and their effect."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.scoping import Actor

from .choices import EventStatus
from .models import DemandResponseEvent, Ven


def ven_ids_due(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    return list(Ven.objects.filter(due, is_active=True).values_list("pk", flat=True))


def event_list(*, actor: Actor, permission: str = "energy.view") -> QuerySet:
    return DemandResponseEvent.objects.restrict(actor, permission).select_related(
        "ven", "ven__site", "ven__node"
    )


def events_current(*, actor: Actor, now: datetime | None = None) -> QuerySet:
    """Upcoming and running events (and those that ended in the last day)."""
    now = now or timezone.now()
    from datetime import timedelta

    recent = now - timedelta(days=1)
    return event_list(actor=actor).filter(
        Q(ends_at__isnull=True, status__in=[EventStatus.FAR, EventStatus.NEAR, EventStatus.ACTIVE])
        | Q(ends_at__gte=recent)
    )
