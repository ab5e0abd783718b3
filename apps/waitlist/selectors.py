"""Reads: which queue a station belongs to, its free ports, a driver's place and wait."""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import Count, Q
from django.utils import timezone

from apps.charging.models import ChargingSession
from apps.stations.choices import ConnectorStatus
from apps.stations.models import Evse

from .choices import EntryStatus
from .models import WaitlistEntry, WaitlistGroup

DEFAULT_SESSION = dt.timedelta(hours=1)


def group_of_station(station_id: int) -> WaitlistGroup | None:
    """The active queue a station belongs to (a station is in at most one in practice)."""
    return (
        WaitlistGroup.objects.filter(stations__id=station_id, is_active=True)
        .select_related("site")
        .order_by("pk")
        .first()
    )


def groups_of_stations(station_ids) -> dict[int, int]:
    """``group_of_station`` for many stations: station id -> its active queue's id (stations
    in no queue are left out)."""
    rows = (
        WaitlistGroup.objects.filter(stations__id__in=station_ids, is_active=True)
        .order_by("pk")
        .values_list("stations__id", "pk")
    )
    groups: dict[int, int] = {}
    for station_id, group_id in rows:
        groups.setdefault(station_id, group_id)
    return groups


def held_port_ids() -> Q:
    return Q(pk__in=WaitlistEntry.objects.filter(status=EntryStatus.HELD).values("held_evse_id"))


def free_ports(group: WaitlistGroup):
    """Ports of the group that are available, online and held for nobody."""
    return (
        Evse.objects.filter(
            station__in=group.stations.all(),
            station__is_online=True,
            status=ConnectorStatus.AVAILABLE,
        )
        .exclude(held_port_ids())
        .select_related("station")
        .order_by("station_id", "evse_id")
    )


def port_is_free(evse: Evse) -> bool:
    return (
        evse.status == ConnectorStatus.AVAILABLE
        and evse.station.is_online
        and not WaitlistEntry.objects.filter(status=EntryStatus.HELD, held_evse=evse).exists()
    )


def waiting(group: WaitlistGroup):
    return WaitlistEntry.objects.filter(group=group, status=EntryStatus.WAITING).order_by(
        "queued_at", "id"
    )


def entry_position(entry: WaitlistEntry) -> int | None:
    """1 for the next driver; None once the driver is no longer waiting."""
    if entry.status != EntryStatus.WAITING:
        return None
    ahead = waiting(entry.group).filter(
        Q(queued_at__lt=entry.queued_at) | Q(queued_at=entry.queued_at, id__lt=entry.id)
    )
    return ahead.count() + 1


def expected_wait(entry: WaitlistEntry) -> dt.timedelta | None:
    """A rough wait: the drivers ahead share the group's ports, each taking the group's average
    session (its last 50; an hour when it has none)."""
    position = entry_position(entry)
    if position is None:
        return None
    stations = entry.group.stations.all()
    average = _average_session(stations)
    ports = max(Evse.objects.filter(station__in=stations).count(), 1)
    return average * math.ceil(position / ports)


def _average_session(stations) -> dt.timedelta:
    recent = list(
        ChargingSession.objects.filter(station__in=stations, ended_at__isnull=False)
        .order_by("-started_at")
        .values_list("started_at", "ended_at")[:50]
    )
    if not recent:
        return DEFAULT_SESSION
    total = sum(((end - start) for start, end in recent), dt.timedelta())
    return total / len(recent)


def entries_due_to_expire(now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        WaitlistEntry.objects.filter(status=EntryStatus.HELD, hold_expires_at__lte=now).values_list(
            "pk", flat=True
        )[:500]
    )


def session_reserved(*, session_id: int, **_) -> bool | None:
    """The session started on the port held for its driver (billing's reservation fee)."""
    if WaitlistEntry.objects.filter(session_id=session_id, arrived_on_hold=True).exists():
        return True
    return None


def next_waiting(*, station_id: int, evse_id: int | None = None, **_) -> dict | None:
    """The next driver in the queue of a station (the valet board's "next driver")."""
    group = group_of_station(station_id)
    if group is None:
        return None
    queue = waiting(group)
    first = queue.first()
    if first is None:
        return None
    return {
        "group": group.name,
        "waiting": queue.count(),
        "token": mask(first.token_uid),
        "since": first.joined_at.isoformat(),
    }


def mask(uid: str) -> str:
    return f"…{uid[-4:]}" if len(uid) > 4 else uid


def queue_lengths(*, station_ids=None, **_) -> dict[int, int]:
    """Drivers waiting in the active queue of each station (the public finder ranks by it);
    ``station_ids`` None: every station in a queue with someone waiting."""
    groups = WaitlistGroup.objects.filter(is_active=True, entries__status=EntryStatus.WAITING)
    if station_ids is not None:
        groups = groups.filter(stations__id__in=list(station_ids))
    rows = (
        groups.values("stations__id")
        .annotate(waiting=Count("entries", distinct=True))
        .filter(stations__id__isnull=False)
    )
    return {row["stations__id"]: row["waiting"] for row in rows}
