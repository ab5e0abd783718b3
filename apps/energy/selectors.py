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
        nodes = {row.node_id for row in event.node_limits.all()} or {event.ven.node_id}
        spans[event.pk] = (nodes, start, end)
    result: dict[int, int | None] = {event.pk: None for event in events}
    if not spans:
        return result
    rows = node_history_many(
        set().union(*(nodes for nodes, _start, _end in spans.values())),
        min(start for _nodes, start, _end in spans.values()) - BASELINE,
        max(end for _nodes, _start, end in spans.values()),
    )
    for pk, (nodes, start, end) in spans.items():
        drawn: dict = {}  # interval start -> W drawn by the chargers of the event's nodes
        for row in rows:
            if row.node_id in nodes and row.samples:
                drawn[row.start] = drawn.get(row.start, 0.0) + row.drawn_w_sum / row.samples
        before = [watts for at, watts in drawn.items() if start - BASELINE <= at < start]
        if not before:
            continue
        baseline = sum(before) / len(before)
        during = [watts for at, watts in drawn.items() if start <= at < end]
        shifted = sum(max(0.0, baseline - watts) for watts in during)
        result[pk] = int(shifted * QUARTER_HOUR)
    return result
