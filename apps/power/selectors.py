"""Reads: a site's live snapshot for the allocation, its tree for the portal and the API, and
the capacity planner's history."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, F, QuerySet
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.core.scoping import Actor
from apps.stations.models import Evse, Site, Station

from . import allocation as alloc
from .choices import LINE_INDEXES, PushState, Wiring
from .electrical import amps_per_line_of_watts, legs, node_limits_da, to_da
from .models import (
    EvseAllocation,
    EvsePower,
    NodeInterval,
    PowerAlert,
    PowerNode,
    SessionPower,
    StationPower,
)
from .planning import CapacityPlan, Interval, plan_capacity, window_active

MEASUREMENT_FRESH = timedelta(minutes=5)  # a building meter reading older than this is ignored
DRAW_FRESH = timedelta(minutes=2)  # a vehicle's draw older than this says nothing
DRAW_SETTLE = timedelta(seconds=20)  # vehicles take this long to follow a new limit
POLICY = alloc.Policy()


def power_node_list(*, actor: Actor, site: Site | None = None) -> QuerySet[PowerNode]:
    nodes = PowerNode.objects.restrict(actor, "power.view").select_related("site", "parent")
    return nodes.filter(site=site) if site is not None else nodes


def managed_site_ids() -> list[int]:
    """Sites with an electrical tree (the periodic rebalance visits these)."""
    return list(PowerNode.objects.values_list("site_id", flat=True).distinct().order_by())


def site_of_station(station_id: int) -> int | None:
    return Station.objects.filter(pk=station_id).values_list("site_id", flat=True).first()


def sites_of_stations(station_ids) -> list[int]:
    """The sites of these stations (those that have one), each once."""
    return sorted(
        set(
            Station.objects.filter(pk__in=station_ids, site__isnull=False).values_list(
                "site_id", flat=True
            )
        )
    )


def stations_with_power(station_ids) -> list[int]:
    """Those of these stations that are placed in a site's electrical tree."""
    return sorted(
        StationPower.objects.filter(station_id__in=station_ids, node__isnull=False).values_list(
            "station_id", flat=True
        )
    )


# --- The snapshot ---------------------------------------------------------------------------


@dataclass
class EvseContext:
    """What the services need next to an EVSE's allocation: its rows and wiring."""

    evse: Evse
    station: Station
    station_power: StationPower | None
    session: ChargingSession | None
    row: EvseAllocation | None
    watts_per_amp: int
    phases: int
    idle_da: int
    applied_da: int  # what the station applies now, as far as we know


@dataclass
class SiteSnapshot:
    snapshot: alloc.Snapshot
    evses: dict[int, EvseContext]  # by Evse pk
    nodes: dict[int, PowerNode]  # real nodes by pk (station nodes are negative ids)
    drawn_w: dict[int, int] = field(default_factory=dict)  # by node, its subtree's EVs
    sessions: dict[int, int] = field(default_factory=dict)  # by node, sessions charging


def node_limits_now(
    node: PowerNode, now: datetime, zone: ZoneInfo
) -> tuple[Decimal | None, Decimal | None]:
    """(amps per line, kW) that apply to ``node`` now: its rating and power limit, lowered by
    open time windows and active overrides."""
    local = now.astimezone(zone)
    amps = [node.limit_a]
    kilowatts = [node.limit_kw, node.demand_cap_kw]
    for window in node.limit_windows.all():
        if window_active(window.weekdays, window.start_time, window.end_time, local):
            amps.append(window.limit_a)
            kilowatts.append(window.limit_kw)
    for override in node.overrides.all():
        if override.starts_at <= now and (override.ends_at is None or now < override.ends_at):
            amps.append(override.limit_a)
            kilowatts.append(override.limit_kw)
    amps = [value for value in amps if value is not None]
    kilowatts = [value for value in kilowatts if value is not None]
    return (min(amps) if amps else None), (min(kilowatts) if kilowatts else None)


def node_load_w(node: PowerNode, now: datetime, zone: ZoneInfo) -> int:
    """The building's other loads on ``node``: a fresh measurement, else the scheduled load,
    else the assumed fallback."""
    if node.measured_load_at is not None and now - node.measured_load_at <= MEASUREMENT_FRESH:
        return max(0, node.measured_load_w or 0)
    local = now.astimezone(zone)
    scheduled = [
        window.load_kw
        for window in node.load_windows.all()
        if window_active(window.weekdays, window.start_time, window.end_time, local)
    ]
    kilowatts = sum(scheduled) if scheduled else node.fallback_load_kw
    return int(Decimal(kilowatts) * 1000)


def _node_spec(node: PowerNode, now: datetime, zone: ZoneInfo) -> alloc.Node:
    limit_a, limit_kw = node_limits_now(node, now, zone)
    load_w = node_load_w(node, now, zone)
    own = LINE_INDEXES[node.lines]
    per_line = amps_per_line_of_watts(load_w, node.voltage_v, len(own))
    load_da = math.ceil(per_line * 10)  # the building's load is rounded up, never down
    return alloc.Node(
        id=node.pk,
        parent=node.parent_id,
        limit_da=node_limits_da(node.lines, limit_a),
        limit_w=None if limit_kw is None else int(limit_kw * 1000),
        load_da=tuple(load_da if line in own else 0 for line in range(3)),
        load_w=load_w,
    )


def evse_wiring(evse: Evse, power: EvsePower | None) -> tuple[tuple[tuple[int, ...], ...], int]:
    """(legs, volts) of an EVSE; without settings, its phases wired in standard rotation."""
    if power is not None:
        return legs(power.wiring, power.rotation), power.volts
    wiring = Wiring.THREE_PHASE if evse.phases == 3 else Wiring.SINGLE_PHASE
    return legs(wiring, "RST"), 230


def site_snapshot(*, site: Site, now: datetime | None = None) -> SiteSnapshot:
    """Everything the allocation needs about ``site`` now, in a handful of queries."""
    now = now or timezone.now()
    zone = ZoneInfo(site.timezone)
    nodes = {
        node.pk: node
        for node in PowerNode.objects.filter(site=site).prefetch_related(
            "limit_windows", "load_windows", "overrides"
        )
    }
    specs = [_node_spec(node, now, zone) for node in nodes.values()]
    station_powers = {
        power.station_id: power
        for power in StationPower.objects.filter(station__site=site, node__isnull=False)
    }
    evses = list(
        Evse.objects.filter(station_id__in=station_powers)
        .select_related("station", "power", "allocation")
        .order_by("pk")
    )
    sessions = {
        session.evse_id: session
        for session in ChargingSession.objects.filter(evse__in=evses, status=SessionStatus.ACTIVE)
        .select_related("power")
        .order_by("started_at")
    }
    # A station with power selection is a node of its own: its maximum caps its EVSEs' sum.
    station_node: dict[int, int] = {}
    for station_id, power in station_powers.items():
        if power.selected_max_a is not None:
            station_node[station_id] = -station_id
            specs.append(
                alloc.Node(
                    id=-station_id,
                    parent=power.node_id,
                    limit_da=(to_da(power.selected_max_a),) * 3,
                )
            )
        else:
            station_node[station_id] = power.node_id
    evse_specs, session_specs, state, contexts = [], [], {}, {}
    draw_cutoff = now - DRAW_FRESH
    for evse in evses:
        station = evse.station
        station_power = station_powers[station.pk]
        power = getattr(evse, "power", None)
        row = getattr(evse, "allocation", None)
        evse_legs, volts = evse_wiring(evse, power)
        hardware = to_da(evse.max_current_a)
        if station_power.selected_max_a is not None:
            hardware = min(hardware, to_da(station_power.selected_max_a))
        idle = to_da(power.idle_current_a) if power is not None else 0
        idle = min(idle, hardware)
        session = sessions.get(evse.pk)
        applied = _applied_da(row, session, station_power, idle, hardware)
        controllable = station.is_online and (
            row is None or row.push_state in (PushState.SYNCED, PushState.PENDING)
        )
        if not station.is_online or (row is not None and row.push_state == PushState.UNREACHABLE):
            fixed = hardware  # not reachable: the safe side is its maximum
        else:
            fixed = applied  # being retried: what it was last told (or its default)
        evse_specs.append(
            alloc.Evse(
                id=evse.pk,
                node=station_node[station.pk],
                legs=evse_legs,
                volts=volts,
                min_da=to_da(evse.min_current_a),
                max_da=hardware if controllable else fixed,
                idle_da=idle,
                controllable=controllable,
            )
        )
        contexts[evse.pk] = EvseContext(
            evse,
            station,
            station_power,
            session,
            row,
            volts * len(evse_legs),
            len(evse_legs),
            idle,
            applied,
        )
        if session is None:
            continue
        preferences = getattr(session, "power", None)
        session_specs.append(_session_spec(session, preferences, row, draw_cutoff))
        if row is not None and row.session_id == session.pk:
            state[evse.pk] = alloc.EvseState(row.limit_da, row.changed_at, row.since)
        elif row is not None:
            # A new session starts from the station's default; its first raise is not held.
            state[evse.pk] = alloc.EvseState(idle, None, session.started_at)
    snapshot = alloc.Snapshot(
        tuple(specs), tuple(evse_specs), tuple(session_specs), now, state, POLICY
    )
    result = SiteSnapshot(snapshot, contexts, nodes)
    _measured(result, station_node)
    return result


def _applied_da(
    row: EvseAllocation | None,
    session: ChargingSession | None,
    station_power: StationPower,
    idle: int,
    hardware: int,
) -> int:
    """What the station applies to this EVSE as far as we know: the TxProfile it
    acknowledged for this session, else its default profile, else (no default installed)
    its maximum."""
    if row is not None and session is not None and row.pushed_session_id == session.pk:
        if row.pushed_da is not None:
            return row.pushed_da
    if station_power.defaults_pushed_at is not None:
        return idle
    return hardware


def _session_spec(
    session: ChargingSession,
    preferences: SessionPower | None,
    row: EvseAllocation | None,
    draw_cutoff: datetime,
) -> alloc.Session:
    if preferences is None:
        return alloc.Session(evse=session.evse_id, started_at=session.started_at)
    draw = None
    if preferences.draw_at is not None and preferences.draw_at >= draw_cutoff:
        settled = row is None or row.changed_at is None
        if not settled:
            settled = preferences.draw_at >= row.changed_at + DRAW_SETTLE
        if settled:
            draw = to_da(preferences.draw_a)
    return alloc.Session(
        evse=session.evse_id,
        started_at=session.started_at,
        priority=preferences.priority,
        min_da=to_da(preferences.min_current_a),
        max_da=to_da(preferences.max_current_a),
        vehicle_phases=preferences.vehicle_phases,
        draw_da=draw,
        starts_at=preferences.starts_at,
    )


def _measured(result: SiteSnapshot, station_node: dict[int, int]) -> None:
    """Per real node: the power its sessions were last measured drawing, and how many."""
    parent = {node.pk: node.parent_id for node in result.nodes.values()}
    drawn = dict.fromkeys(result.nodes, 0)
    count = dict.fromkeys(result.nodes, 0)
    for context in result.evses.values():
        session = context.session
        if session is None:
            continue
        node = context.station_power.node_id
        while node is not None:
            drawn[node] += max(0, session.last_power_w or 0)
            count[node] += 1
            node = parent[node]
    result.drawn_w = drawn
    result.sessions = count


# --- The tree, for people --------------------------------------------------------------------


@dataclass
class EvseRow:
    evse: Evse
    allocation: EvseAllocation | None
    session: ChargingSession | None
    draw_a: Decimal | None


@dataclass
class NodeView:
    node: PowerNode
    limit_a: Decimal | None
    limit_kw: Decimal | None
    load_w: int
    allocated_a: tuple[Decimal, Decimal, Decimal]
    drawn_a: tuple[Decimal, Decimal, Decimal]
    children: list[NodeView] = field(default_factory=list)
    evses: list[EvseRow] = field(default_factory=list)


def site_power_tree(*, site: Site, now: datetime | None = None) -> list[NodeView]:
    """The site's tree with, per node, its limit now, what is allocated under it per line (the
    limits stations apply) and what was measured drawn, and per EVSE its allocation and why."""
    now = now or timezone.now()
    live = site_snapshot(site=site, now=now)
    zone = ZoneInfo(site.timezone)
    views: dict[int, NodeView] = {}
    allocated: dict[int, list[int]] = {pk: [0, 0, 0] for pk in live.nodes}
    drawn: dict[int, list[int]] = {pk: [0, 0, 0] for pk in live.nodes}
    rows: dict[int, list[EvseRow]] = {pk: [] for pk in live.nodes}
    parent = {pk: node.parent_id for pk, node in live.nodes.items()}
    for context in live.evses.values():
        evse_legs, _volts = evse_wiring(context.evse, getattr(context.evse, "power", None))
        preferences = getattr(context.session, "power", None) if context.session else None
        phases = preferences.vehicle_phases if preferences else None
        used = evse_legs[:phases] if phases else evse_legs
        lines = sorted({line for leg in used for line in leg})
        limit = context.row.limit_da if context.row is not None else context.idle_da
        draw = to_da(preferences.draw_a) if preferences and preferences.draw_a else 0
        node = context.station_power.node_id
        rows[node].append(
            EvseRow(context.evse, context.row, context.session, preferences and preferences.draw_a)
        )
        while node is not None:
            for line in lines:
                allocated[node][line] += limit
                drawn[node][line] += draw
            node = parent[node]
    for pk, node in live.nodes.items():
        limit_a, limit_kw = node_limits_now(node, now, zone)
        views[pk] = NodeView(
            node,
            limit_a,
            limit_kw,
            node_load_w(node, now, zone),
            tuple(Decimal(v) / 10 for v in allocated[pk]),
            tuple(Decimal(v) / 10 for v in drawn[pk]),
            evses=rows[pk],
        )
    roots = []
    for pk, view in sorted(views.items(), key=lambda item: item[1].node.name):
        if parent[pk] is None:
            roots.append(view)
        else:
            views[parent[pk]].children.append(view)
    return roots


def node_load(*, node: PowerNode, now: datetime | None = None) -> NodeView:
    """One node of ``site_power_tree`` (with its subtree's totals)."""
    pending = list(site_power_tree(site=node.site, now=now))
    while pending:
        view = pending.pop()
        if view.node.pk == node.pk:
            return view
        pending.extend(view.children)
    raise PowerNode.DoesNotExist(node.pk)


@dataclass
class StationPowerRow:
    evse: Evse
    allocation: EvseAllocation | None
    session: ChargingSession | None
    preferences: SessionPower | None


def station_power_rows(*, station: Station) -> list[StationPowerRow] | None:
    """Per port of a managed station: its allocation and its session's preferences (priority,
    scheduled start, departure).  None when the station is not under power management."""
    if not StationPower.objects.filter(station=station, node__isnull=False).exists():
        return None
    evses = station.evses.select_related("allocation").order_by("evse_id")
    sessions = {
        session.evse_id: session
        for session in ChargingSession.objects.filter(
            station=station, status=SessionStatus.ACTIVE
        ).select_related("power")
    }
    rows = []
    for evse in evses:
        session = sessions.get(evse.pk)
        rows.append(
            StationPowerRow(
                evse,
                getattr(evse, "allocation", None),
                session,
                getattr(session, "power", None) if session else None,
            )
        )
    return rows


def open_power_alerts(*, actor: Actor, site: Site | None = None) -> QuerySet[PowerAlert]:
    alerts = PowerAlert.objects.restrict(actor, "power.view").filter(resolved_at__isnull=True)
    if site is not None:
        alerts = alerts.filter(station__site=site)
    return alerts.select_related("station", "evse")


# --- The capacity planner ---------------------------------------------------------------------


def node_evse_ids(node: PowerNode) -> list[int]:
    """EVSEs under ``node`` (its subtree)."""
    nodes = {node.pk}
    frontier = [node.pk]
    while frontier:
        children = list(
            PowerNode.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = [pk for pk in children if pk not in nodes]
        nodes.update(frontier)
    return list(Evse.objects.filter(station__power__node_id__in=nodes).values_list("pk", flat=True))


def node_capacity_plan(
    *,
    node: PowerNode,
    port_kw: Decimal,
    port_phases: int = 3,
    days: int = 28,
    now: datetime | None = None,
) -> CapacityPlan:
    """How many more ports of ``port_kw`` fit under ``node``, from its last ``days`` days of
    15-minute history (see ``planning.plan_capacity``)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    intervals = [
        Interval(row.start, row.drawn_w, row.base_w, row.sessions_max)
        for row in NodeInterval.objects.filter(node=node, start__gte=since, samples__gt=0)
    ]
    evse_ids = node_evse_ids(node)
    voltage = node.voltage_v
    lines = len(LINE_INDEXES[node.lines])
    limits = []
    if node.limit_a is not None:
        limits.append(int(node.limit_a * voltage * lines))
    for value in (node.limit_kw, node.demand_cap_kw):
        if value is not None:
            limits.append(int(value * 1000))
    limit_w = min(limits) if limits else 0
    history = ChargingSession.objects.filter(
        evse_id__in=evse_ids, status=SessionStatus.COMPLETED, started_at__gte=since
    ).aggregate(energy=Avg("energy_wh"), stay=Avg(F("ended_at") - F("started_at")))
    stay = history["stay"] or timedelta(hours=4)
    energy = int(history["energy"] or 20_000)
    return plan_capacity(
        intervals,
        limit_w=limit_w,
        existing_ports=len(evse_ids),
        port_w=int(port_kw * 1000),
        min_w=6 * voltage * port_phases,
        stay_hours=Decimal(stay.total_seconds()) / 3600,
        energy_need_wh=energy,
    )


# --- Live view and history -------------------------------------------------------------------


def _walk(views: list[NodeView]):
    pending = list(views)
    while pending:
        view = pending.pop()
        yield view
        pending.extend(view.children)


def site_power_message(*, site: Site, now: datetime | None = None) -> dict[str, Any]:
    """What the live site page needs after a rebalance: per node its limit now and what is
    allocated and drawn per line (A), per EVSE its limit, reason and limiting node."""
    nodes: dict[str, Any] = {}
    evses: dict[str, Any] = {}
    for view in _walk(site_power_tree(site=site, now=now)):
        nodes[str(view.node.pk)] = {
            "limit_a": None if view.limit_a is None else str(view.limit_a),
            "limit_kw": None if view.limit_kw is None else str(view.limit_kw),
            "allocated_a": [str(value) for value in view.allocated_a],
            "drawn_a": [str(value) for value in view.drawn_a],
        }
        for row in view.evses:
            allocation = row.allocation
            evses[str(row.evse.pk)] = {
                "limit_a": None if allocation is None else str(allocation.limit_a),
                "reason": "" if allocation is None else allocation.reason,
                "node": None
                if allocation is None or allocation.node is None
                else str(allocation.node),
                "draw_a": None if row.draw_a is None else str(row.draw_a),
            }
    return {"kind": "power_tree", "site_id": site.pk, "nodes": nodes, "evses": evses}


@dataclass(frozen=True)
class HistoryPoint:
    start: datetime
    drawn_kw: Decimal  # mean EV power drawn over the interval
    peak_kw: Decimal  # highest EV power drawn in it
    allocated_kw: Decimal
    limit_kw: Decimal | None


def node_history(*, node: PowerNode, since: datetime) -> list[HistoryPoint]:
    """The node's 15-minute intervals since ``since``: drawn (mean and peak) and allocated EV
    power against its limit -- the history chart of the node page."""
    points = []
    for row in NodeInterval.objects.filter(node=node, start__gte=since).order_by("start"):
        samples = row.samples or 1
        points.append(
            HistoryPoint(
                row.start,
                (Decimal(row.drawn_w_sum) / samples / 1000).quantize(Decimal("0.01")),
                (Decimal(row.drawn_w_max) / 1000).quantize(Decimal("0.01")),
                (Decimal(row.allocated_w_sum) / samples / 1000).quantize(Decimal("0.01")),
                None
                if row.limit_w is None
                else (Decimal(row.limit_w) / 1000).quantize(Decimal("0.01")),
            )
        )
    return points
