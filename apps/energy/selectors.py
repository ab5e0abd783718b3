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


QUARTER_HOUR = 0.25  # hours


def energy_shifted_wh(event: DemandResponseEvent, now: datetime | None = None) -> int | None:
    """An estimate of the charging energy the event moved out of its period (Wh): for each
    15-minute interval of the event so far, how much less the node's chargers drew than on
    average in the hour before it (power's interval record), never below zero.  None before
    the event starts, when the VEN did not take part, or without a record before it."""
    from datetime import timedelta

    from .choices import Opt
    from .limits import node_history

    now = now or timezone.now()
    start = event.starts_at + timedelta(seconds=event.offset_seconds)
    if event.opt != Opt.IN or start > now:
        return None
    end = (
        min(now, event.ends_at + timedelta(seconds=event.offset_seconds)) if event.ends_at else now
    )
    node = event.ven.node
    before = [row for row in node_history(node, start - timedelta(hours=1), start) if row.samples]
    if not before:
        return None
    baseline = sum(row.drawn_w_sum / row.samples for row in before) / len(before)
    during = [row for row in node_history(node, start, end) if row.samples]
    shifted = sum(max(0.0, baseline - row.drawn_w_sum / row.samples) for row in during)
    return int(shifted * QUARTER_HOUR)
