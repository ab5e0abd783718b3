"""Writes: the electrical tree and its limits, station and EVSE settings, session preferences,
and the rebalance that allocates a site and pushes charging profiles to its stations.

Stations are reached only through the core's command service (``apps.ocpp.commands``); the
functions that send take a ``send`` callable defaulting to it (tests pass a station simulator).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.core import policies
from apps.ocpp import commands
from apps.ocpp.commands import CommandError
from apps.stations.models import Evse, Site, Station

from . import allocation as alloc
from . import ev_needs, profiles, queue
from .choices import AlertKind, Lines, NodeKind, PushState, ScheduleMode
from .electrical import power_selection_a, to_da
from .live import publish_site
from .models import (
    ChargingRule,
    EnergyRate,
    EvseAllocation,
    EvsePower,
    LimitOverride,
    NodeInterval,
    PowerAlert,
    PowerNode,
    SessionPower,
    StationPower,
)
from .planning import Rate, cheapest_plan, price_at, quarter_of, start_at_plan
from .selectors import EvseContext, SiteSnapshot, site_snapshot

logger = logging.getLogger(__name__)

# Asked when a session starts; feature apps (fleets, driver groups) may answer with a dict of
# ``priority``, ``min_current_a``, ``max_current_a``, ``departure_at``, ``energy_wh``, or None.
SESSION_PREFERENCES = "power.session_preferences"

PUSH_TIMEOUT = 10.0
PUSH_CONCURRENCY = 16  # profiles in flight at once (each waits for its station's answer)
MAX_ATTEMPTS = 3  # failed pushes before a station counts as unreachable (at its maximum)
UNREACHABLE_RETRY = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=1)  # profiles start this much in the past: stations' clocks lag
DEFAULT_ENERGY_WH = 20_000  # what cheapest-hours planning assumes without a better figure
PLANNING_FACTOR = Decimal("0.75")  # share of an EVSE's power a session can count on

Sender = Callable[[Station, str, dict[str, Any]], dict[str, Any]]


def station_call(station: Station, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Send through the core's command service (the default ``send``)."""
    return commands.station_call(station, action, payload, timeout=PUSH_TIMEOUT)


def rebalance_soon(site_id: int | None) -> None:
    """Recompute ``site_id`` shortly, once the current transaction commits."""
    if site_id is None:
        return
    queue.enqueue_rebalance(site_id)


# --- The tree and its limits ----------------------------------------------------------------

NODE_FIELDS = (  # what a node's editor (forms.NodeForm) and node_update may change
    "name",
    "kind",
    "parent",
    "lines",
    "voltage_v",
    "rating_a",
    "continuous_factor",
    "limit_kw",
    "demand_cap_kw",
    "fallback_load_kw",
)


@transaction.atomic
def power_node_create(
    *,
    site: Site,
    name: str,
    kind: str = NodeKind.PANEL,
    parent: PowerNode | None = None,
    lines: str = Lines.THREE,
    voltage_v: int = 230,
    rating_a: Decimal | None = None,
    continuous_factor: Decimal = Decimal("0.80"),
    limit_kw: Decimal | None = None,
    demand_cap_kw: Decimal | None = None,
    fallback_load_kw: Decimal = Decimal("0"),
) -> PowerNode:
    node = PowerNode(
        site=site,
        name=name,
        kind=kind,
        parent=parent,
        lines=lines,
        voltage_v=voltage_v,
        rating_a=rating_a,
        continuous_factor=continuous_factor,
        limit_kw=limit_kw,
        demand_cap_kw=demand_cap_kw,
        fallback_load_kw=fallback_load_kw,
    )
    node.full_clean()
    node.save()
    rebalance_soon(site.pk)
    return node


@transaction.atomic
def power_node_update(*, node: PowerNode, **fields: Any) -> PowerNode:
    unknown = set(fields) - set(NODE_FIELDS)
    if unknown:
        raise ValueError(f"Not node settings: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(node, name, value)
    node.full_clean()
    node.save()
    _refresh_selection(node)
    rebalance_soon(node.site_id)
    return node


@transaction.atomic
def power_node_delete(*, node: PowerNode) -> None:
    site_id = node.site_id
    try:
        node.delete()
    except ProtectedError as error:
        raise ValidationError(
            "Move or delete the sub-panels, circuits and stations under this node first."
        ) from error
    rebalance_soon(site_id)


@transaction.atomic
def limit_override_create(
    *,
    node: PowerNode,
    source: str,
    limit_a: Decimal | None = None,
    limit_kw: Decimal | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    reference: str = "",
    note: str = "",
) -> LimitOverride:
    """Lower a node's limit for a while (the energy-management API and demand response)."""
    override = LimitOverride(
        node=node,
        source=source,
        limit_a=limit_a,
        limit_kw=limit_kw,
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
        reference=reference,
        note=note,
    )
    override.full_clean()
    override.save()
    rebalance_soon(node.site_id)
    return override


@transaction.atomic
def limit_override_end(*, override: LimitOverride, at: datetime | None = None) -> LimitOverride:
    at = at or timezone.now()
    if override.ends_at is None or override.ends_at > at:
        override.ends_at = max(at, override.starts_at + timedelta(seconds=1))
        override.full_clean()
        override.save(update_fields=["ends_at"])
        rebalance_soon(override.node.site_id)
    return override


@transaction.atomic
def limit_overrides_withdraw(
    *, reference: str, at: datetime | None = None, node: PowerNode | None = None
) -> int:
    """Withdraw every override made under ``reference`` (on ``node``, if given): a
    demand-response event that was cancelled or opted out of, a building's limits.  Those
    running end at ``at``; those not started yet go (and those started less than a second
    ago: an end must come after the start).  Returns how many were changed."""
    at = at or timezone.now()
    overrides = LimitOverride.objects.select_related("node").filter(reference=reference)
    if node is not None:
        overrides = overrides.filter(node=node)
    future = overrides.filter(starts_at__gt=at - timedelta(seconds=1))
    site_ids = set(future.values_list("node__site_id", flat=True))
    changed, _deleted = future.delete()
    for override in overrides.filter(starts_at__lte=at - timedelta(seconds=1)).exclude(
        ends_at__lte=at
    ):
        limit_override_end(override=override, at=at)
        changed += 1
    for site_id in site_ids:
        rebalance_soon(site_id)
    return changed


def node_load_report(*, node: PowerNode, load_w: int, at: datetime | None = None) -> None:
    """A building meter's reading of the other loads on ``node`` (kept for 5 minutes)."""
    if load_w < 0:
        raise ValidationError("A load cannot be negative.")
    PowerNode.objects.filter(pk=node.pk).update(
        measured_load_w=load_w, measured_load_at=at or timezone.now()
    )
    rebalance_soon(node.site_id)


@transaction.atomic
def charging_rule_create(*, site: Site, name: str, **fields: Any) -> ChargingRule:
    rule = ChargingRule(site=site, name=name, **fields)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def energy_rate_create(*, site: Site, **fields: Any) -> EnergyRate:
    rate = EnergyRate(site=site, **fields)
    rate.full_clean()
    rate.save()
    return rate


# --- Stations and EVSEs ---------------------------------------------------------------------


def _hardware_max_a(station: Station) -> Decimal:
    return sum((evse.max_current_a for evse in station.evses.all()), Decimal(0))


def _selection(power: StationPower) -> Decimal | None:
    if power.breaker_rating_a is None:
        return None
    return power_selection_a(
        breaker_rating_a=power.breaker_rating_a,
        continuous_factor=power.continuous_factor,
        hardware_max_a=_hardware_max_a(power.station),
        circuit_limit_a=power.node.limit_a if power.node_id else None,
    )


@transaction.atomic
def station_power_set(
    *,
    station: Station,
    node: PowerNode | None,
    breaker_rating_a: Decimal | None = None,
    continuous_factor: Decimal = Decimal("0.80"),
) -> StationPower:
    """Hang ``station`` on ``node`` and, with a breaker rating, select its power: its station
    maximum becomes the breaker's continuous rating (see ``electrical.power_selection_a``)."""
    power, _created = StationPower.objects.get_or_create(station=station)
    power.node = node
    power.breaker_rating_a = breaker_rating_a
    power.continuous_factor = continuous_factor
    selected = _selection(power)
    if selected != power.selected_max_a:
        power.selected_max_a = selected
        power.defaults_pushed_at = None  # the station maximum must be sent again
    power.full_clean()
    power.save()
    if power.defaults_pushed_at is None:
        queue.enqueue_station_defaults(station.pk)
    rebalance_soon(station.site_id)
    return power


def _refresh_selection(node: PowerNode) -> None:
    """A circuit's new limit can change the power selection of the stations on it."""
    for power in StationPower.objects.filter(node=node).select_related("station", "node"):
        selected = _selection(power)
        if selected != power.selected_max_a:
            power.selected_max_a = selected
            power.defaults_pushed_at = None
            power.save(update_fields=["selected_max_a", "defaults_pushed_at"])


@transaction.atomic
def evse_power_set(
    *,
    evse: Evse,
    wiring: str,
    rotation: str = "RST",
    volts: int = 230,
    idle_current_a: Decimal = Decimal("0"),
) -> EvsePower:
    power, _created = EvsePower.objects.get_or_create(evse=evse)
    idle_changed = power.idle_current_a != idle_current_a
    power.wiring, power.rotation, power.volts = wiring, rotation, volts
    power.idle_current_a = idle_current_a
    power.full_clean()
    power.save()
    if idle_changed:
        StationPower.objects.filter(station_id=evse.station_id).update(defaults_pushed_at=None)
    rebalance_soon(evse.station.site_id)
    return power


# --- Sessions -------------------------------------------------------------------------------


def _rule_for(session: ChargingSession, site: Site) -> ChargingRule | None:
    group = session.token.parent_uid if session.token_id else ""
    for rule in ChargingRule.objects.filter(site=site, is_active=True):
        if not rule.token_group or rule.token_group == group:
            return rule
    return None


@transaction.atomic
def session_power_start(*, session_id: int, now: datetime | None = None) -> SessionPower | None:
    """Settle a new session's priority, minimum and scheduled start: from a feature app's
    answer to ``SESSION_PREFERENCES``, else the site's first matching charging rule."""
    now = now or timezone.now()
    session = (
        ChargingSession.objects.select_related("station__site", "evse", "token")
        .filter(pk=session_id)
        .first()
    )
    if session is None or session.station.site is None:
        return None
    site = session.station.site
    preferences = policies.ask(SESSION_PREFERENCES, session=session) or {}
    rule = _rule_for(session, site)
    values: dict[str, Any] = {"rule": rule}
    if rule is not None:
        values["priority"] = rule.priority
        values["min_current_a"] = rule.min_current_a
    for name in ("priority", "min_current_a", "max_current_a", "departure_at"):
        if preferences.get(name) is not None:
            values[name] = preferences[name]
    if rule is not None and rule.mode != ScheduleMode.IMMEDIATE:
        zone = ZoneInfo(site.timezone)
        if rule.mode == ScheduleMode.START_AT:
            plan = start_at_plan(
                now=now, zone=zone, start=rule.start_time, departure=rule.departure_time
            )
        else:
            energy = preferences.get("energy_wh") or (
                int(rule.energy_kwh * 1000) if rule.energy_kwh else DEFAULT_ENERGY_WH
            )
            plan = cheapest_plan(
                now=now,
                zone=zone,
                departure=rule.departure_time,
                energy_wh=energy,
                power_w=int(session.evse.max_power_w * PLANNING_FACTOR),
                rates=[
                    Rate(r.weekdays, r.start_time, r.end_time, r.price_per_kwh)
                    for r in EnergyRate.objects.filter(site=site)
                ],
            )
        values["starts_at"] = plan.starts_at
        values.setdefault("departure_at", plan.departure_at)
    power, _created = SessionPower.objects.update_or_create(session=session, defaults=values)
    # Now it is managed: its next reading must reach the database (forget "unmanaged" now,
    # and again after commit in case a reading came in between).
    cache.delete(_draw_key(session_id))
    transaction.on_commit(lambda: cache.delete(_draw_key(session_id)))
    rebalance_soon(site.pk)
    return power


PHASE_INDEX = {"L1": 0, "L2": 1, "L3": 2, "L1-N": 0, "L2-N": 1, "L3-N": 2}
DRAWING = Decimal("1.0")  # a phase carrying less than this is not used by the vehicle
SIGNIFICANT = Decimal("3.0")  # below this, which phases a vehicle uses is not clear


DRAW_SEEN_TTL = 60  # seconds a session's last recorded draw stands for the next ones
DRAW_TOLERANCE_DA = 10  # a draw within 1 A of the recorded one changes no decision


def _draw_key(session_id: int) -> str:
    return f"power:draw:{session_id}"  # the cache's key function adds the tenant's schema


def _draw_summary(current_a: dict[str, float] | None) -> tuple[int, int] | None:
    """(highest per-phase draw in dA, phases carrying at least DRAWING), or None."""
    phases = [
        Decimal(str(value)) for name, value in (current_a or {}).items() if name in PHASE_INDEX
    ]
    if not phases:
        return None
    return to_da(max(phases).quantize(Decimal("0.1"))), sum(1 for v in phases if v >= DRAWING)


def session_draw_changed(*, session_id: int, current_a: dict[str, float] | None) -> bool:
    """Whether this meter reading may change the session's power (and is worth the database):
    one Redis SET NX/GET per reading instead of three queries.

    It is not when, within ``DRAW_SEEN_TTL``, the session's recorded draw is within
    ``DRAW_TOLERANCE_DA`` of it on the same phases.  ``session_draw_record`` (the only writer
    of the draw) refreshes the record; ``session_power_start`` forgets it."""
    summary = _draw_summary(current_a)
    if summary is None:
        return False
    key = _draw_key(session_id)
    if cache.add(key, summary, timeout=DRAW_SEEN_TTL):
        return True  # first reading in the window: look at it
    seen = cache.get(key)
    if seen is None:
        return True
    draw, phases = seen
    if draw < 0:
        return False  # not under power management (see ``session_draw_record``)
    return phases != summary[1] or abs(draw - summary[0]) >= DRAW_TOLERANCE_DA


def session_draw_record(
    *,
    session_id: int,
    current_a: dict[str, float] | None,
    at: datetime | None = None,
) -> bool:
    """Remember what a vehicle draws (per phase, as its station measures).  Returns whether
    it uses clearly less than its limit (worth recomputing the site for)."""
    if not current_a:
        return False
    at = at or timezone.now()
    phases = {
        PHASE_INDEX[name]: Decimal(str(value))
        for name, value in current_a.items()
        if name in PHASE_INDEX
    }
    if not phases:
        return False
    draw = max(phases.values()).quantize(Decimal("0.1"))
    fields: dict[str, Any] = {"draw_a": draw, "draw_at": at}
    known = SessionPower.objects.filter(session_id=session_id).values("vehicle_phases").first()
    key = _draw_key(session_id)
    if known is None:
        cache.set(key, (-1, 0), timeout=DRAW_SEEN_TTL)  # unmanaged: skip its readings a while
        return False
    cache.set(key, (to_da(draw), sum(1 for v in phases.values() if v >= DRAWING)), DRAW_SEEN_TTL)
    if draw >= SIGNIFICANT:
        fields["vehicle_phases"] = sum(1 for value in phases.values() if value >= DRAWING)
    SessionPower.objects.filter(session_id=session_id).update(**fields)
    if fields.get("vehicle_phases", known["vehicle_phases"]) != known["vehicle_phases"]:
        return True  # a single-phase vehicle leaves two lines to the others
    current = EvseAllocation.objects.filter(session_id=session_id).values("limit_da", "reason")
    current = current.first()
    if current is None:
        return False
    policy = alloc.Policy()
    drawn = to_da(draw)
    if drawn + policy.unused_threshold_da <= current["limit_da"]:
        return True  # it leaves capacity unused
    # It was capped near its draw and now uses all of it: it may want more.
    return current["reason"] == alloc.Reason.VEHICLE and drawn + 10 >= current["limit_da"]


# --- Rebalance ------------------------------------------------------------------------------


@dataclass
class RebalanceResult:
    site_id: int
    evses: int = 0
    pushed: int = 0
    failed: int = 0


@contextmanager
def _site_lock(site_id: int) -> Iterator[None]:
    """One rebalance of a site at a time, across workers (a PostgreSQL advisory lock)."""
    key = zlib.crc32(f"power:{connection.schema_name}:{site_id}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def site_rebalance(
    *,
    site_id: int,
    now: datetime | None = None,
    send: Sender | None = None,
    resend: frozenset[int] = frozenset(),
) -> RebalanceResult:
    """Allocate ``site_id`` and push the limits that changed: reductions first; if one fails,
    reallocate (that EVSE counts at what it was last told) before any increase is sent.

    ``resend``: EVSEs (pks) whose TxProfile is sent even if their station already has it
    (OCPP 2.0.1 K15-K17: the vehicle renegotiates, or its schedule was rejected).  It is
    decided here, under the site's lock, and not by marking the row unsent beforehand: a
    rebalance already pushing would write its own acknowledgement over that mark."""
    send = send or station_call
    outcome = RebalanceResult(site_id)
    with _site_lock(site_id):
        now = now or timezone.now()
        site = Site.objects.filter(pk=site_id).first()
        if site is None:
            return outcome
        live = _allocate(site, now, record=True)
        outcome.evses = len(live.evses)
        tried: set[int] = set()
        reductions, increases = _pending(live, now, tried, resend)
        if _push_all(reductions, send, now, outcome, tried):
            # A station kept a higher limit: count it so before raising anyone else.
            live = _allocate(site, now, record=False)
            reductions, increases = _pending(live, now, tried, resend)
            _push_all(reductions, send, now, outcome, tried)
        _push_all(increases, send, now, outcome, tried)
    transaction.on_commit(lambda: publish_site(site_id))
    return outcome


def _allocate(site: Site, now: datetime, *, record: bool) -> SiteSnapshot:
    live = site_snapshot(site=site, now=now)
    result = alloc.allocate(live.snapshot)
    with transaction.atomic():
        created, changed = [], []
        for evse_pk, allocation in result.allocations.items():
            context = live.evses[evse_pk]
            if context.row is None:
                context.row = EvseAllocation(evse=context.evse, since=now, limit_da=context.idle_da)
                _update_row(context.row, allocation, context, now)
                created.append(context.row)
            elif _update_row(context.row, allocation, context, now):
                changed.append(context.row)
        EvseAllocation.objects.bulk_create(created)
        EvseAllocation.objects.bulk_update(
            changed,
            [
                "limit_da",
                "target_da",
                "reason",
                "node",
                "scheduled_da",
                "scheduled_at",
                "changed_at",
                "since",
                "session",
            ],
        )
        if record:
            _record_interval(live, result, now)
    return live


def _update_row(
    row: EvseAllocation, allocation: alloc.Allocation, context: EvseContext, now: datetime
) -> bool:
    session_id = context.session.pk if context.session else None
    node_id = allocation.node if allocation.node is not None and allocation.node > 0 else None
    values = {
        "target_da": allocation.target_da,
        "reason": allocation.reason.value,
        "node_id": node_id,
        "scheduled_da": allocation.scheduled_da,
        "scheduled_at": allocation.scheduled_at,
        "session_id": session_id,
    }
    changed = any(getattr(row, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(row, name, value)
    if allocation.limit_da != row.limit_da:
        if (allocation.limit_da > 0) != (row.limit_da > 0):
            row.since = now
        row.limit_da = allocation.limit_da
        row.changed_at = now
        changed = True
    return changed


def _record_interval(live: SiteSnapshot, result: alloc.Result, now: datetime) -> None:
    """Fold this rebalance into each node's current 15-minute interval."""
    start = quarter_of(now)
    rows = {
        row.node_id: row
        for row in NodeInterval.objects.select_for_update().filter(
            node_id__in=live.nodes, start=start
        )
    }
    new = []
    for pk in live.nodes:
        load = result.nodes[pk]
        row = rows.get(pk)
        if row is None:
            row = NodeInterval(node_id=pk, start=start)
            new.append(row)
        drawn = live.drawn_w.get(pk, 0)
        row.samples += 1
        row.drawn_w_sum += drawn
        row.drawn_w_max = max(row.drawn_w_max, drawn)
        row.base_w_sum += load.base_w
        row.allocated_w_sum += load.allocated_w
        row.sessions_max = max(row.sessions_max, live.sessions.get(pk, 0))
        row.limit_w = load.limit_w
    NodeInterval.objects.bulk_create(new)
    NodeInterval.objects.bulk_update(
        [row for row in rows.values()],
        ["samples", "drawn_w_sum", "drawn_w_max", "base_w_sum", "allocated_w_sum"]
        + ["sessions_max", "limit_w"],
    )


@dataclass
class Push:
    context: EvseContext
    row: EvseAllocation


def _pending(
    live: SiteSnapshot, now: datetime, tried: set[int], resend: frozenset[int] = frozenset()
) -> tuple[list[Push], list[Push]]:
    """TxProfiles to send: (reductions, increases), each in EVSE order; none that was already
    tried in this rebalance.  An EVSE in ``resend`` is sent its profile even when in step."""
    reductions, increases = [], []
    for context in live.evses.values():
        row, session = context.row, context.session
        if row is None or session is None or not context.station.is_online:
            continue
        if context.evse.pk in tried:
            continue
        if row.push_state in (PushState.RETRYING, PushState.UNREACHABLE):
            if row.retry_at is not None and row.retry_at > now:
                continue
        in_step = (
            row.pushed_session_id == session.pk
            and row.pushed_da == row.limit_da
            and row.pushed_scheduled_at == (row.scheduled_at if row.scheduled_da else None)
        )
        if in_step and context.evse.pk not in resend:
            continue
        wanted = max(row.limit_da, row.scheduled_da)
        (reductions if wanted < context.applied_da else increases).append(Push(context, row))
    return reductions, increases


def _tx_periods(
    row: EvseAllocation, start: datetime, session: ChargingSession | None
) -> list[profiles.Period]:
    """The TxProfile's periods: the limit now, then the scheduled limit from its time; no more
    than the vehicle takes (its maxScheduleTuples, merged downwards: ``profiles.fit_periods``)."""
    periods = [profiles.Period(0, row.limit_da)]
    if row.scheduled_da and row.scheduled_at is not None:
        offset = int((row.scheduled_at - start).total_seconds())
        periods.append(profiles.Period(max(offset, 1), row.scheduled_da))
    preferences = getattr(session, "power", None) if session is not None else None
    max_periods = preferences.max_schedule_periods if preferences is not None else None
    return profiles.fit_periods(periods, max_periods)


def _sales_tariff(context: EvseContext, start: datetime) -> dict[str, Any] | None:
    """The ISO 15118-2 sales tariff for a 2.0.1 TxProfile (K15: the CSMS may send one): the
    site's time-of-use energy rates as price levels, from the schedule's start to the car's
    departure (24 h at most), in no more entries than the car takes.  Only for a car that told
    its needs (an ISO 15118 car: others cannot read it) on a site with energy rates."""
    session = context.session
    preferences = getattr(session, "power", None) if session is not None else None
    if context.station.ocpp_version != "2.0.1" or preferences is None:
        return None
    if preferences.ev_needs_at is None:
        return None
    site = context.station.site
    rates = [
        Rate(r.weekdays, r.start_time, r.end_time, r.price_per_kwh)
        for r in EnergyRate.objects.filter(site=site)
    ]
    if not rates:
        return None
    horizon = start + timedelta(seconds=ev_needs.TARIFF_HORIZON_S)
    if preferences.departure_at is not None and start < preferences.departure_at < horizon:
        horizon = preferences.departure_at
    zone = ZoneInfo(site.timezone)
    prices: list[tuple[int, Decimal | None]] = []
    moment = start
    while moment < horizon:  # the price at the start, then wherever it changes
        price = price_at(rates, moment.astimezone(zone))
        if not prices or prices[-1][1] != price:
            prices.append((int((moment - start).total_seconds()), price))
        step = ev_needs.TARIFF_RESOLUTION_S
        moment = moment.replace(second=0, microsecond=0) + timedelta(seconds=step)
    end_s = int((horizon - start).total_seconds())
    return ev_needs.sales_tariff(prices, end_s=end_s, max_entries=preferences.max_schedule_periods)


def _tx_payload(push: Push, now: datetime) -> dict[str, Any]:
    context, row = push.context, push.row
    start = now - CLOCK_SKEW
    periods = _tx_periods(row, start, context.session)
    power = context.station_power
    return profiles.set_charging_profile(
        version=context.station.ocpp_version,
        evse_id=context.evse.evse_id,
        purpose=profiles.TX,
        profile_id=profiles.tx_profile_id(context.evse.evse_id),
        stack_level=power.max_stack_level,
        unit=power.rate_unit,
        watts_per_amp=context.watts_per_amp,
        phases=context.phases,
        periods=periods,
        start=start,
        transaction_id=context.session.transaction_id,
        sales_tariff=_sales_tariff(context, start),
    )


def _push_all(
    pushes: list[Push], send: Sender, now: datetime, outcome: RebalanceResult, tried: set[int]
) -> int:
    failed = 0
    payloads = [_tx_payload(push, now) for push in pushes]
    answers = _send_all([push.context.station for push in pushes], payloads, send)
    synced = []
    for push, answer in zip(pushes, answers, strict=True):
        row = push.row
        tried.add(push.context.evse.pk)
        if isinstance(answer, CommandError):
            error = str(answer) or answer.__class__.__name__
        else:
            error = None if profiles.accepted(answer) else f"Answered {answer.get('status')}"
        if error is None:
            row.pushed_da = row.limit_da
            row.pushed_session_id = row.session_id
            row.pushed_scheduled_at = row.scheduled_at if row.scheduled_da else None
            row.pushed_at = now
            row.push_state = PushState.SYNCED
            row.attempts = 0
            row.retry_at = None
            row.last_error = ""
            push.context.applied_da = row.limit_da
            outcome.pushed += 1
            synced.append(row.evse_id)
        else:
            failed += 1
            outcome.failed += 1
            row.attempts += 1
            row.last_error = error[:255]
            if row.attempts >= MAX_ATTEMPTS:
                row.push_state = PushState.UNREACHABLE
                row.retry_at = now + UNREACHABLE_RETRY
                _raise_alert(push.context, error, now)
            else:
                row.push_state = PushState.RETRYING
                row.retry_at = None
            logger.warning("Charging profile for %s not applied: %s", push.context.evse, error)
    EvseAllocation.objects.bulk_update(
        [push.row for push in pushes],
        [
            "pushed_da",
            "pushed_session",
            "pushed_scheduled_at",
            "pushed_at",
            "push_state",
            "attempts",
            "retry_at",
            "last_error",
        ],
    )
    if synced:
        PowerAlert.objects.filter(
            evse_id__in=synced, kind=AlertKind.PUSH_FAILED, resolved_at__isnull=True
        ).update(resolved_at=now)
    return failed


def _send_all(
    stations: list[Station], payloads: list[dict[str, Any]], send: Sender
) -> list[dict[str, Any] | Exception]:
    """SetChargingProfile to each station at once (a batch: all reductions, or all increases);
    each answer, or the command error it raised, in order.  Each thread works in the current
    tenant on its own database connection."""
    tenant = getattr(connection, "tenant", None)

    def one(station: Station, payload: dict[str, Any]) -> dict[str, Any] | Exception:
        try:
            return send(station, "SetChargingProfile", payload)
        except CommandError as error:
            return error

    def in_thread(station: Station, payload: dict[str, Any]) -> dict[str, Any] | Exception:
        try:
            if tenant is not None:
                connection.set_tenant(tenant)
            return one(station, payload)
        finally:
            connection.close()

    if len(stations) <= 1:
        return [one(station, payload) for station, payload in zip(stations, payloads, strict=True)]
    with ThreadPoolExecutor(max_workers=min(PUSH_CONCURRENCY, len(stations))) as pool:
        return list(pool.map(in_thread, stations, payloads))


def _raise_alert(context: EvseContext, error: str, now: datetime) -> None:
    exists = PowerAlert.objects.filter(
        evse=context.evse, kind=AlertKind.PUSH_FAILED, resolved_at__isnull=True
    ).exists()
    if not exists:
        PowerAlert.objects.create(
            station=context.station,
            evse=context.evse,
            kind=AlertKind.PUSH_FAILED,
            message=(
                f"{context.evse} did not take its charging limit ({error}); it is counted at "
                "its maximum until it does."
            )[:255],
            created_at=now,
        )


# --- Station connection: abilities and safe defaults ---------------------------------------


def station_power_connect(
    *, station_id: int, now: datetime | None = None, send: Sender | None = None
) -> bool:
    """When a station (re)connects: read its smart-charging abilities, install its station
    maximum (power selection) and its safe default profile, and forget what it acknowledged
    before (it may have rebooted).  Returns whether the defaults were installed."""
    send = send or station_call
    now = now or timezone.now()
    power = (
        StationPower.objects.select_related("station", "node")
        .filter(station_id=station_id, node__isnull=False)
        .first()
    )
    if power is None or not power.station.ocpp_version:
        return False
    station = power.station
    version = station.ocpp_version
    action, payload = profiles.capabilities_request(version)
    try:
        abilities = profiles.parse_capabilities(version, send(station, action, payload))
    except CommandError as error:
        logger.info("Smart-charging abilities of %s unknown: %s", station, error)
    else:
        if abilities.max_stack_level is not None:
            power.max_stack_level = abilities.max_stack_level
        power.rate_unit = profiles.preferred_unit(abilities)
        power.capabilities_at = now
    EvseAllocation.objects.filter(evse__station=station).update(
        pushed_da=None, pushed_session=None, push_state=PushState.PENDING, attempts=0
    )
    installed = _push_defaults(power, send, now)
    power.defaults_pushed_at = now if installed else None
    power.save(
        update_fields=["max_stack_level", "rate_unit", "capabilities_at", "defaults_pushed_at"]
    )
    rebalance_soon(station.site_id)
    return installed


def station_defaults_push(*, station_id: int, send: Sender | None = None) -> bool:
    """Install (again) a station's maximum and default profile, after a settings change."""
    power = StationPower.objects.select_related("station").filter(station_id=station_id).first()
    if power is None or not power.station.is_online or not power.station.ocpp_version:
        return False
    now = timezone.now()
    installed = _push_defaults(power, send or station_call, now)
    if installed:
        power.defaults_pushed_at = now
        power.save(update_fields=["defaults_pushed_at"])
    return installed


def _push_defaults(power: StationPower, send: Sender, now: datetime) -> bool:
    station = power.station
    evses = list(station.evses.all())
    if not evses:
        return False
    settings = [EvsePower.objects.filter(evse=evse).first() for evse in evses]
    volts = settings[0].volts if settings[0] else 230
    phases = evses[0].phases
    # One default for the whole station (connector / EVSE 0): the most careful of its EVSEs'.
    idle = min(to_da(setting.idle_current_a) if setting else 0 for setting in settings)
    payloads = []
    if power.selected_max_a is not None:
        payloads.append(
            profiles.set_charging_profile(
                version=station.ocpp_version,
                evse_id=0,
                purpose=profiles.STATION_MAX,
                profile_id=profiles.STATION_MAX_ID,
                stack_level=0,
                unit=power.rate_unit,
                watts_per_amp=volts * phases,
                phases=phases,
                periods=[profiles.Period(0, to_da(power.selected_max_a))],
                start=now - CLOCK_SKEW,
            )
        )
    payloads.append(
        profiles.set_charging_profile(
            version=station.ocpp_version,
            evse_id=0,
            purpose=profiles.TX_DEFAULT,
            profile_id=profiles.TX_DEFAULT_ID,
            stack_level=0,
            unit=power.rate_unit,
            watts_per_amp=volts * phases,
            phases=phases,
            periods=[profiles.Period(0, idle)],
            start=now - CLOCK_SKEW,
        )
    )
    for payload in payloads:
        try:
            if not profiles.accepted(send(station, "SetChargingProfile", payload)):
                return False
        except CommandError as error:
            logger.warning("Default profiles of %s not installed: %s", station, error)
            return False
    return True


# --- The vehicle's needs (OCPP 2.0.1 K15-K17) ------------------------------------------------


def _session_power_context(session_id: int):
    session = (
        ChargingSession.objects.select_related("station__site", "evse")
        .filter(pk=session_id, status=SessionStatus.ACTIVE)
        .first()
    )
    if session is None or session.station.site_id is None:
        return None, None
    managed = StationPower.objects.filter(station=session.station, node__isnull=False).exists()
    return (
        (session, EvsePower.objects.filter(evse=session.evse).first()) if managed else (None, None)
    )


@dataclass(frozen=True)
class Renegotiation:
    """A session's TxProfile to send again, whatever the allocation says (K15-K17)."""

    site_id: int
    evse_pk: int


@dataclass(frozen=True)
class EvScheduleVerdict:
    """The schedule an EV chose: within the limit its session was given, or not (then its
    profile is renegotiated)."""

    within: bool
    renegotiation: Renegotiation


@transaction.atomic
def session_ev_needs(
    *,
    session_id: int,
    needs: dict[str, Any],
    max_schedule_tuples: int | None = None,
    now: datetime | None = None,
) -> Renegotiation | None:
    """An EV's charging needs become its session's preferences (limits, departure, priority:
    ``ev_needs``; the most periods its schedules may have: ``max_schedule_tuples``).  Returns
    what to send (the site to rebalance, the EVSE whose profile goes out even if unchanged: a
    second NotifyEVChargingNeeds is a renegotiation, K17), or None when power management does
    not manage this station (it then has no profile to offer)."""
    now = now or timezone.now()
    session, evse_power = _session_power_context(session_id)
    if session is None:
        return None
    volts = evse_power.volts if evse_power else 230
    phases = session.evse.phases
    departure = needs.get("departure_time")
    departure_at = parse_datetime(departure) if departure else None
    wanted = ev_needs.parse_needs(needs, volts=volts, phases=phases, departure_at=departure_at)
    preferences, _ = SessionPower.objects.get_or_create(session=session)
    if wanted.max_current_a is not None:
        preferences.max_current_a = min(wanted.max_current_a, session.evse.max_current_a)
    if wanted.min_current_a is not None:
        preferences.min_current_a = max(wanted.min_current_a, session.evse.min_current_a)
    if departure_at is not None:  # needs without one keep the departure a rule gave
        preferences.departure_at = departure_at
    preferences.max_schedule_periods = ev_needs.schedule_periods_allowed(max_schedule_tuples)
    preferences.ev_needs_at = now
    max_w = int(session.evse.max_current_a * volts * phases)
    preferences.priority = max(
        preferences.priority,
        ev_needs.urgency(
            energy_wh=wanted.energy_wh, departure_at=departure_at, now=now, max_w=max_w
        ),
    )
    preferences.save()
    return Renegotiation(session.station.site_id, session.evse_id)


def session_ev_schedule_check(
    *, session_id: int, schedule: dict[str, Any]
) -> EvScheduleVerdict | None:
    """The schedule the EV chose: within the limit we gave its session, or not (K15.FR.12,
    K17.FR.12: Rejected, and the CSMS renegotiates: the verdict says what to send again).
    None when power management does not manage this station.  Nothing is written here: the
    renegotiation is decided under the site's lock (``site_rebalance(resend=...)``)."""
    session, evse_power = _session_power_context(session_id)
    if session is None:
        return None
    row = EvseAllocation.objects.filter(evse=session.evse, session=session).first()
    peak = ev_needs.schedule_peak_a(
        schedule, volts=evse_power.volts if evse_power else 230, phases=session.evse.phases
    )
    if row is None or peak is None:
        within = True
    else:  # the highest limit of the profile it was sent
        sent = _tx_periods(row, timezone.now() - CLOCK_SKEW, session)
        within = to_da(peak) <= max(period.limit_da for period in sent)
    return EvScheduleVerdict(within, Renegotiation(session.station.site_id, session.evse_id))


def session_profile_renegotiate(
    *, renegotiation: Renegotiation, now: datetime | None = None, send: Sender | None = None
) -> RebalanceResult:
    """Rebalance the session's site and send its TxProfile again (K15-K17)."""
    return site_rebalance(
        site_id=renegotiation.site_id,
        now=now,
        send=send,
        resend=frozenset({renegotiation.evse_pk}),
    )
