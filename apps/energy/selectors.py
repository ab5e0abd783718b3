"""Reads: VENs due for a poll, events of a site and their effect."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.scoping import Actor

from .choices import EventStatus, Opt
from .limits import node_history_many
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
    recent = now - timedelta(days=1)
    return event_list(actor=actor).filter(
        Q(ends_at__isnull=True, status__in=[EventStatus.FAR, EventStatus.NEAR, EventStatus.ACTIVE])
        | Q(ends_at__gte=recent)
    )


QUARTER_HOUR = 0.25  # hours
BASELINE = timedelta(hours=1)


def energy_shifted_wh(
    events: list[DemandResponseEvent], now: datetime | None = None
) -> dict[int, int | None]:
    """An estimate, per event, of the charging energy it moved out of its period (Wh): for
    each 15-minute interval of the event so far, how much less the node's chargers drew than on
    average in the hour before it (power's interval record), never below zero.  None before
    the event starts, when the VEN did not take part, or without a record before it.  One
    query for the whole list."""
    now = now or timezone.now()
    spans = {}
    for event in events:
        offset = timedelta(seconds=event.offset_seconds)
        start = event.starts_at + offset
        if event.opt != Opt.IN or start > now:
            continue
        end = min(now, event.ends_at + offset) if event.ends_at else now
        spans[event.pk] = (event.ven.node_id, start, end)
    result: dict[int, int | None] = {event.pk: None for event in events}
    if not spans:
        return result
    rows = node_history_many(
        {node for node, _start, _end in spans.values()},
        min(start for _node, start, _end in spans.values()) - BASELINE,
        max(end for _node, _start, end in spans.values()),
    )
    for pk, (node, start, end) in spans.items():
        mine = [row for row in rows if row.node_id == node and row.samples]
        before = [row for row in mine if start - BASELINE <= row.start < start]
        if not before:
            continue
        baseline = sum(row.drawn_w_sum / row.samples for row in before) / len(before)
        during = [row for row in mine if start <= row.start < end]
        shifted = sum(max(0.0, baseline - row.drawn_w_sum / row.samples) for row in during)
        result[pk] = int(shifted * QUARTER_HOUR)
    return result
