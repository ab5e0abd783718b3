"""Reads for the dashboard, the map and the live feed.  Every function costs a fixed number of
queries whatever the size of the network (asserted in tests/portal/test_queries.py)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    DecimalField,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.metering import ENERGY_REGISTER
from apps.charging.models import ChargingSession, MeterValue
from apps.core.scoping import Actor
from apps.stations.choices import LiveState
from apps.stations.models import Evse, Station
from apps.stations.selectors import port_state, station_header_state, station_state

# The tiles of the dashboard, in display order.
DASHBOARD_STATES = (
    LiveState.AVAILABLE,
    LiveState.CHARGING,
    LiveState.PREPARING,
    LiveState.FINISHED,
    LiveState.FAULTED,
    LiveState.OFFLINE,
    LiveState.RESERVED,
    LiveState.UNAVAILABLE,
)


def tenant_timezone() -> zoneinfo.ZoneInfo:
    name = getattr(getattr(connection, "tenant", None), "timezone", "") or "UTC"
    return zoneinfo.ZoneInfo(name)


def start_of_today(tz: dt.tzinfo | None = None) -> dt.datetime:
    tz = tz or tenant_timezone()
    local = timezone.now().astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


# --- Stations and ports ----------------------------------------------------------------------
STATION_FIELDS = ("pk", "identity", "name", "site_id", "is_online", "last_seen_at")


def _ports_by_station(station_ids) -> dict[int, list[dict[str, Any]]]:
    ports: dict[int, list[dict[str, Any]]] = {}
    rows = (
        Evse.objects.filter(station_id__in=station_ids)
        .order_by("station_id", "evse_id")
        .values("station_id", "evse_id", "status")
    )
    for row in rows:
        ports.setdefault(row["station_id"], []).append(row)
    return ports


def _station_entry(row: dict[str, Any], ports: list[dict[str, Any]]) -> dict[str, Any]:
    port_list = [
        {
            "evse_id": port["evse_id"],
            "status": port["status"],
            "state": port_state(is_online=row["is_online"], status=port["status"]),
        }
        for port in ports
    ]
    return {
        "station_id": row["pk"],
        "identity": row["identity"],
        "name": row["name"] or row["identity"],
        "site_id": row["site_id"],
        "is_online": row["is_online"],
        "state": station_state(
            is_online=row["is_online"], port_states=[p["state"] for p in port_list]
        ),
        "header_state": station_header_state(
            is_online=row["is_online"], port_states=[p["state"] for p in port_list]
        ),
        "evses": port_list,
    }


def station_snapshot(*, station_id: int) -> dict[str, Any] | None:
    """The live state of one station (for the live feed; unscoped: the consumer filters)."""
    row = Station.objects.filter(pk=station_id).values(*STATION_FIELDS).first()
    if row is None:
        return None
    return _station_entry(row, _ports_by_station([station_id]).get(station_id, []))


def station_snapshots(*, station_ids: list[int]) -> list[dict[str, Any]]:
    """``station_snapshot`` of many stations in two queries, in the order of ``station_ids``
    (stations that do not exist are left out)."""
    rows = {
        row["pk"]: row for row in Station.objects.filter(pk__in=station_ids).values(*STATION_FIELDS)
    }
    ports = _ports_by_station(list(rows)) if rows else {}
    return [
        _station_entry(rows[pk], ports.get(pk, []))
        for pk in dict.fromkeys(station_ids)
        if pk in rows
    ]


def map_stations(*, actor: Actor) -> list[dict[str, Any]]:
    """Every station the actor may see, with its site's coordinates and live state (what a
    marker needs, nothing more: the map of a large network is one JSON document)."""
    stations = (
        Station.objects.restrict(actor, "stations.view")
        .filter(retired_at__isnull=True)
        .order_by("identity")
        .values(*STATION_FIELDS, "site__name", "site__latitude", "site__longitude")
    )
    rows = list(stations)
    ports = _ports_by_station([row["pk"] for row in rows]) if rows else {}
    result = []
    for row in rows:
        latitude, longitude = row["site__latitude"], row["site__longitude"]
        states = [
            port_state(is_online=row["is_online"], status=port["status"])
            for port in ports.get(row["pk"], [])
        ]
        result.append(
            {
                "station_id": row["pk"],
                "identity": row["identity"],
                "name": row["name"] or row["identity"],
                "site": row["site__name"] or "",
                "state": station_state(is_online=row["is_online"], port_states=states),
                "lat": float(latitude) if latitude is not None else None,
                "lon": float(longitude) if longitude is not None else None,
            }
        )
    return result


# --- Sessions and energy ---------------------------------------------------------------------
def energy_today_wh(*, actor: Actor, since: dt.datetime | None = None) -> int:
    """Energy delivered since local midnight, in Wh, for the sessions the actor may see.

    A session that started before midnight counts only what its meter added after midnight:
    its energy minus what the register had already added at the last reading before midnight.
    """
    since = since or start_of_today()
    register_before = (
        MeterValue.objects.filter(
            session=OuterRef("pk"),
            measurand=ENERGY_REGISTER,
            phase="",
            timestamp__lt=since,
        )
        .order_by("-timestamp")
        .values("value")[:1]
    )
    sessions = (
        ChargingSession.objects.restrict(actor, "sessions.view")
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since))
        .annotate(
            before=Coalesce(
                Cast(
                    Subquery(register_before, output_field=DecimalField()),
                    BigIntegerField(),
                ),
                F("meter_start_wh"),
            )
        )
        .annotate(
            today=Case(
                When(started_at__gte=since, then=F("energy_wh")),
                When(
                    before__isnull=False,
                    meter_start_wh__isnull=False,
                    then=Greatest(Value(0), F("energy_wh") - (F("before") - F("meter_start_wh"))),
                ),
                default=F("energy_wh"),
                output_field=BigIntegerField(),
            )
        )
    )
    return int(sessions.aggregate(total=Sum("today"))["total"] or 0)


def active_sessions(*, actor: Actor) -> list[dict[str, Any]]:
    return list(
        ChargingSession.objects.restrict(actor, "sessions.view")
        .filter(status=SessionStatus.ACTIVE)
        .order_by("-started_at")
        .values("pk", "energy_wh", "station_id", "evse__evse_id", "started_at", "last_power_w")
    )


# --- The dashboard ---------------------------------------------------------------------------
@dataclass
class DashboardSummary:
    port_counts: dict[str, int]
    stations_total: int
    stations_online: int
    energy_today_wh: int
    active_session_energy: dict[int, int]
    ports: list[list] = field(default_factory=list)
    online: dict[int, bool] = field(default_factory=dict)

    @property
    def tiles(self) -> list[tuple[str, str, int]]:
        return [
            (state, LiveState(state).label, self.port_counts.get(state, 0))
            for state in DASHBOARD_STATES
        ]

    @property
    def active_sessions(self) -> int:
        return len(self.active_session_energy)


def dashboard_summary(*, actor: Actor) -> DashboardSummary:
    """The dashboard's own figures (features add theirs as panels: monitoring's alerts)."""
    stations = list(
        Station.objects.restrict(actor, "stations.view")
        .filter(retired_at__isnull=True)  # retired stations are out of the figures
        .values_list("pk", "is_online")
    )
    online = {pk: is_online for pk, is_online in stations}
    port_rows = (
        Evse.objects.restrict(actor, "stations.view")
        .filter(station__retired_at__isnull=True)
        .order_by("station_id", "evse_id")
        .values_list("station_id", "evse_id", "status")
    )
    ports = []
    counts: Counter[str] = Counter()
    for station_id, evse_id, status in port_rows:
        state = port_state(is_online=online.get(station_id, False), status=status)
        counts[state] += 1
        ports.append([station_id, evse_id, state])
    sessions = active_sessions(actor=actor)
    return DashboardSummary(
        port_counts=dict(counts),
        stations_total=len(stations),
        stations_online=sum(1 for _, is_online in stations if is_online),
        energy_today_wh=energy_today_wh(actor=actor),
        active_session_energy={row["pk"]: row["energy_wh"] for row in sessions},
        ports=ports,
        online=online,
    )
