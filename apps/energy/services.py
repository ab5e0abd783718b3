"""Writes: VENs, the poll cycle (registration, events, opt reports), opt in/out.

An event's limits are power's ``LimitOverride`` rows made through ``apps.power.services``
(``limit_override_create`` / ``limit_overrides_withdraw``), each with an end: when the VTN
stops answering, a running event still ends when it said it would (open-ended events end at
a lease that only a successful poll extends), and power's own rebalance reverts the site.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.stations.models import Site

from . import keys, limits, mapping, openadr, queue, rules
from .choices import EventStatus, Opt, OptSource, PollOutcome, SignalKind
from .models import DemandResponseEvent, EventNodeLimit, Ven, VenMember

logger = logging.getLogger(__name__)

OPEN_EVENT_LEASE = timedelta(minutes=15)  # how long an open-ended event holds without a poll
ENDED = (EventStatus.COMPLETED, EventStatus.CANCELLED)

Fetch = Callable[[openadr.Connection], Coroutine[Any, Any, openadr.Fetched]]
Report = Callable[[openadr.Connection, list[openadr.OptReport]], Coroutine[Any, Any, list]]

VEN_FIELDS = (
    "name",
    "node",
    "vtn_url",
    "ven_name",
    "ven_id",
    "client_cert_pem",
    "client_key_pem",
    "vtn_ca_pem",
    "vtn_fingerprint",
    "poll_seconds",
    "default_opt",
    "opt_out_over_minutes",
    "opt_out_days",
    "level_1_percent",
    "level_2_percent",
    "level_3_percent",
    "randomize",
    "is_active",
)
IDENTITY_FIELDS = {"vtn_url", "ven_name", "ven_id", "client_cert_pem", "client_key_pem"}


# --- VENs -----------------------------------------------------------------------------------


@transaction.atomic
def ven_create(
    *,
    site: Site,
    node: limits.PowerNode,
    name: str,
    vtn_url: str,
    ven_name: str,
    member_nodes=(),
    **fields,
):
    """A VEN for ``site`` lowering ``node``; ``member_nodes`` (other sites' nodes) make it the
    VEN of a group of sites: one registration, each event applied to every node."""
    unknown = set(fields) - set(VEN_FIELDS)
    if unknown:
        raise ValueError(f"Not VEN settings: {', '.join(sorted(unknown))}")
    ven = Ven(site=site, node=node, name=name, vtn_url=vtn_url, ven_name=ven_name, **fields)
    ven.full_clean()
    ven.save()
    _members_set(ven, member_nodes, timezone.now())
    return ven


@transaction.atomic
def ven_update(*, ven: Ven, member_nodes=None, **fields: Any) -> Ven:
    """Change a VEN; a new VTN, name or certificate means registering again. A new node or
    set of member nodes re-plans the events that have not ended."""
    unknown = set(fields) - set(VEN_FIELDS)
    if unknown:
        raise ValueError(f"Not VEN settings: {', '.join(sorted(unknown))}")
    if any(_changed(ven, name, value) for name, value in fields.items() if name in IDENTITY_FIELDS):
        ven.registration_id = ""
        ven.registered_at = None
    node_before = ven.node_id
    for name, value in fields.items():
        setattr(ven, name, value)
    ven.full_clean()
    ven.save()
    now = timezone.now()
    if member_nodes is not None:
        _members_set(ven, member_nodes, now)
    if ven.node_id != node_before:
        ven.members.filter(node_id=ven.node_id).delete()
        for event in ven.events.exclude(status__in=ENDED):
            _node_limits_build(event, now)
            _sync_limits(event, now)
    if not ven.is_active:
        _withdraw_all(ven, now)
    return ven


def _changed(ven: Ven, name: str, value: Any) -> bool:
    try:
        return getattr(ven, name) != value
    except keys.KeyUnavailable:  # an unreadable key replaced by a new one
        return True


@transaction.atomic
def ven_delete(*, ven: Ven) -> None:
    _withdraw_all(ven, timezone.now())
    ven.delete()


def _withdraw_all(ven: Ven, now: datetime) -> None:
    for event in ven.events.exclude(status__in=ENDED):
        limits.withdraw(reference=event.reference, at=now)


# --- The poll cycle -------------------------------------------------------------------------


@dataclass
class PollResult:
    ven_id: int
    outcome: str = PollOutcome.NEVER
    events: int = 0
    reported: int = 0
    changed: list[str] = field(default_factory=list)  # event ids whose limits changed
    error: str = ""
    telemetry: int = 0  # load intervals sent


def _connection(ven: Ven) -> openadr.Connection:
    return openadr.Connection(
        vtn_url=ven.vtn_url,
        ven_name=ven.ven_name,
        ven_id=ven.ven_id,
        registration_id=ven.registration_id,
        client_cert_pem=ven.client_cert_pem,
        client_key_pem=ven.client_key_pem,
        vtn_ca_pem=ven.vtn_ca_pem,
        vtn_fingerprint=ven.vtn_fingerprint,
    )


def _claim(ven_id: int, now: datetime, force: bool) -> Ven | None:
    """Take this VEN's poll (one at a time: a conditional update that touches one row)."""
    ven = Ven.objects.filter(pk=ven_id, is_active=True).first()
    if ven is None:
        return None
    due = Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    claim = Ven.objects.filter(pk=ven_id, is_active=True)
    if not force:
        claim = claim.filter(due)
    claimed = claim.update(next_poll_at=now + timedelta(seconds=ven.poll_seconds))
    return ven if claimed == 1 else None


def ven_poll(
    *,
    ven_id: int,
    now: datetime | None = None,
    force: bool = False,
    fetch: Fetch | None = None,
    report: Report | None = None,
) -> PollResult | None:
    """One exchange with the VTN: register if needed, read every event, apply them, report
    our opt answers. None when the VEN is not due (or not active)."""
    fetch = fetch or openadr.fetch
    report = report or openadr.report
    now = now or timezone.now()
    ven = _claim(ven_id, now, force)
    if ven is None:
        return None
    result = PollResult(ven.pk)
    try:
        connection = _connection(ven)
    except keys.KeyUnavailable as error:
        _poll_failed(ven, now, str(error), result)
        return result
    try:
        fetched = asyncio.run(fetch(connection))
    except openadr.Unreachable as error:
        _poll_failed(ven, now, str(error), result)
        _rebalance_at_boundaries(ven, ven.last_poll_at, now)
        return result
    with transaction.atomic():
        ven = Ven.objects.select_for_update().get(pk=ven.pk)
        previous_poll = ven.last_poll_at
        _registration(ven, fetched, now)
        if not fetched.deregistered:
            result.changed = events_apply(ven=ven, messages=fetched.events, now=now)
            result.events = len(fetched.events)
            _report_requests_take(ven, fetched.report_requests)
        _rebalance_at_boundaries(ven, previous_poll, now)
        pending = _pending_reports(ven)
    if pending:
        try:
            done = asyncio.run(report(_connection(ven), [item for _event, item in pending]))
        except openadr.Unreachable as error:
            _poll_failed(ven, now, str(error), result)
            return result
        _reported(pending, done, now)
        result.reported = len(done)
    try:
        result.telemetry = _telemetry(ven, now)
    except openadr.Unreachable as error:
        _poll_failed(ven, now, str(error), result)
        return result
    result.outcome = PollOutcome.OK
    return result


def _poll_failed(ven: Ven, now: datetime, error: str, result: PollResult) -> None:
    logger.warning("OpenADR VEN %s: %s", ven, error)
    refused = not ven.registration_id
    result.outcome = PollOutcome.REFUSED if refused else PollOutcome.UNREACHABLE
    result.error = error
    Ven.objects.filter(pk=ven.pk).update(
        last_poll_at=now, last_outcome=result.outcome, last_error=error[:255]
    )


def _registration(ven: Ven, fetched: openadr.Fetched, now: datetime) -> None:
    ven.last_poll_at = ven.last_ok_at = now
    ven.last_outcome = PollOutcome.OK
    ven.last_error = ""
    if fetched.deregistered:
        ven.registration_id = ""
        ven.registered_at = None
        ven.reports_offered_at = None  # offered again after registering again
        ven.report_request_id = ""
    else:
        ven.ven_id = fetched.ven_id or ven.ven_id
        ven.registration_id = fetched.registration_id or ven.registration_id
        if fetched.registered_now:
            ven.registered_at = now
            if fetched.poll_seconds:
                ven.poll_seconds = max(5, fetched.poll_seconds)
    ven.save()


def _rebalance_at_boundaries(ven: Ven, previous_poll: datetime | None, now: datetime) -> None:
    """A step of an event started or ended since the previous poll: rebalance the site now
    rather than at power's next periodic rebalance (so the delay is one poll period)."""
    since = (previous_poll or now - timedelta(seconds=ven.poll_seconds)) - timedelta(seconds=1)
    source = limits.LimitSource.DEMAND_RESPONSE
    sites = []
    for node in ven_nodes(ven):
        crossed = limits.crossed(node_id=node.pk, source=source, since=since, until=now)
        if crossed and node.site_id not in sites:
            sites.append(node.site_id)
    for site_id in sites:
        limits.rebalance_soon(site_id)


# --- Events ---------------------------------------------------------------------------------


@transaction.atomic
def events_apply(*, ven: Ven, messages: list[openadr.EventMessage], now: datetime) -> list[str]:
    """Bring the VEN's events in line with the VTN's full list: new and modified events get
    their limits, cancelled or vanished ones lose theirs. Returns the changed event ids."""
    known = {event.event_id: event for event in ven.events.select_for_update()}
    changed = []
    for message in messages:
        event = known.get(message.event_id)
        if event is None:
            event = _event_new(ven, message, now)
            changed.append(message.event_id)
        elif event.modification_number != message.modification_number or (
            event.status != message.status
        ):
            _event_modified(event, message, now)
            changed.append(message.event_id)
        elif event.ends_at is None and event.status not in ENDED:
            changed.append(message.event_id)  # open-ended: its lease moves on
        else:
            continue
        _sync_limits(event, now)
    listed = {message.event_id for message in messages}
    for event_id, event in known.items():
        if event_id not in listed and event.status not in ENDED:
            # The VTN lists every current event: a missing one was withdrawn.
            event.status = EventStatus.CANCELLED
            event.save(update_fields=["status", "updated_at"])
            _sync_limits(event, now)
            changed.append(event_id)
    return changed


def _fields(message: openadr.EventMessage) -> dict[str, Any]:
    kind = mapping.signal_kind(message.signal_name, message.signal_type)
    return {
        "modification_number": message.modification_number,
        "status": message.status if message.status in EventStatus.values else EventStatus.NONE,
        "priority": message.priority,
        "signal_name": message.signal_name[:40],
        "signal_type": message.signal_type[:40],
        "signal_kind": kind,
        "level": message.value if kind == SignalKind.LEVEL else None,
        "target_kw": message.value if kind == SignalKind.KW_TARGET else None,
        "starts_at": message.starts_at,
        "ends_at": message.starts_at + message.duration if message.duration else None,
        "intervals": [
            {
                "start": int(offset.total_seconds()),
                "duration": int(duration.total_seconds()),
                "value": None if value is None else str(value),
            }
            for offset, duration, value in message.intervals
        ],
        "ramp_up_seconds": int(message.ramp_up.total_seconds()),
        "recovery_seconds": int(message.recovery.total_seconds()),
        "start_after_seconds": int(message.start_after.total_seconds()),
        "response_required": message.response_required,
    }


def _event_new(ven: Ven, message: openadr.EventMessage, now: datetime) -> DemandResponseEvent:
    fields = _fields(message)
    supported = fields["signal_kind"] != SignalKind.OTHER
    before_a, before_kw = limits.limits_now(ven.node, now)
    opt, opt_source = _opt_by_rule(ven, fields) if supported else (Opt.OUT, OptSource.UNSUPPORTED)
    event = DemandResponseEvent(
        ven=ven,
        event_id=message.event_id[:200],
        opt=opt,
        opt_source=opt_source,
        offset_seconds=(
            secrets.randbelow(fields["start_after_seconds"] + 1) if ven.randomize else 0
        ),
        limit_before_a=before_a,
        limit_before_kw=before_kw,
        received_at=now,
        **fields,
    )
    _set_target(event)
    event.full_clean()
    event.save()
    _node_limits_build(event, now)
    return event


def _event_modified(
    event: DemandResponseEvent, message: openadr.EventMessage, now: datetime
) -> None:
    fields = _fields(message)
    for name, value in fields.items():
        setattr(event, name, value)
    if event.opt_source in (OptSource.DEFAULT, OptSource.RULE):
        # nobody chose: the rules decide again (the event may now be longer, or moved)
        event.opt, event.opt_source = _opt_by_rule(event.ven, fields)
    if event.start_after_seconds < event.offset_seconds:
        event.offset_seconds = event.start_after_seconds
    _set_target(event)
    event.full_clean()
    event.save()
    _node_limits_build(event, now)


def _opt_by_rule(ven: Ven, fields: dict[str, Any]) -> tuple[str, str]:
    ends_at = fields["ends_at"]
    return rules.default_opt(
        default=ven.default_opt,
        over_minutes=ven.opt_out_over_minutes,
        days=ven.opt_out_days,
        starts_local=fields["starts_at"].astimezone(ZoneInfo(ven.site.timezone)),
        duration=(ends_at - fields["starts_at"]) if ends_at else None,
    )


def _target(event: DemandResponseEvent, value, before: mapping.Target) -> mapping.Target:
    ven = event.ven
    return mapping.target_for(
        kind=event.signal_kind,
        value=value,
        percents=(ven.level_1_percent, ven.level_2_percent, ven.level_3_percent),
        node_limit_a=before.limit_a,
        node_limit_kw=before.limit_kw,
    )


def _event_value(event: DemandResponseEvent):
    return event.level if event.signal_kind == SignalKind.LEVEL else event.target_kw


def _set_target(event: DemandResponseEvent) -> None:
    """The event's most demanding limit on the VEN's own node, for the whole target (what the
    portal and API show as "during"; a group's nodes each have theirs in ``node_limits``)."""
    before = mapping.Target(event.limit_before_a, event.limit_before_kw)
    target = _target(event, _event_value(event), before)
    event.limit_a, event.limit_kw = target.limit_a, target.limit_kw


# --- A VEN for a group of sites: each node's part of an event ------------------------------------


def ven_nodes(ven: Ven) -> list[limits.PowerNode]:
    """The nodes a VEN's events apply to: its own, then its members' (other sites')."""
    members = [member.node for member in ven.members.select_related("node", "node__site")]
    return [ven.node, *[node for node in members if node.pk != ven.node_id]]


def _shares(befores: dict[int, tuple], nodes: dict[int, limits.PowerNode]) -> dict[int, Decimal]:
    """How a kW target is split between the nodes: in proportion to what each could take
    before the event (its kW limit, or amps x volts x lines); equally when one is unknown."""
    capacities = {
        pk: limits.capacity_kw(nodes[pk], amps, kilowatts)
        for pk, (amps, kilowatts) in befores.items()
    }
    total = sum((value for value in capacities.values() if value), Decimal(0))
    if any(value is None for value in capacities.values()) or total <= 0:
        equal = (Decimal(1) / len(befores)).quantize(SHARE, rounding=ROUND_DOWN)
        return dict.fromkeys(befores, equal)
    return {
        pk: (value / total).quantize(SHARE, rounding=ROUND_DOWN) for pk, value in capacities.items()
    }


SHARE = Decimal("0.000001")


def _node_target(event: DemandResponseEvent, row: EventNodeLimit, value) -> mapping.Target:
    if event.signal_kind == SignalKind.KW_TARGET and value is not None:
        value = value * row.share
    return _target(event, value, mapping.Target(row.limit_before_a, row.limit_before_kw))


def _node_limits_build(event: DemandResponseEvent, now: datetime) -> None:
    """One row per node of the VEN: its limits before (kept once known), its share of a kW
    target, its most demanding limit during the event. Nodes that left the group lose theirs."""
    nodes = {node.pk: node for node in ven_nodes(event.ven)}
    rows = {row.node_id: row for row in event.node_limits.all()}
    EventNodeLimit.objects.filter(event=event).exclude(node_id__in=nodes).delete()
    befores = {}
    for pk, node in nodes.items():
        if pk in rows:
            befores[pk] = (rows[pk].limit_before_a, rows[pk].limit_before_kw)
        elif pk == event.ven.node_id and not rows:  # a new event: just read from this node
            befores[pk] = (event.limit_before_a, event.limit_before_kw)
        else:
            befores[pk] = limits.limits_now(node, now)
    shares = _shares(befores, nodes)
    for pk, (before_a, before_kw) in befores.items():
        row = rows.get(pk) or EventNodeLimit(event=event, node=nodes[pk])
        row.limit_before_a, row.limit_before_kw, row.share = before_a, before_kw, shares[pk]
        target = _node_target(event, row, _event_value(event))
        row.limit_a, row.limit_kw = target.limit_a, target.limit_kw
        row.save()


def event_parts(
    event: DemandResponseEvent, now: datetime, row: EventNodeLimit
) -> list[mapping.Part]:
    """Each interval of the event with its own period (randomised) and the node's target in
    it; an event without intervals (an older record) is one part with the node's target."""
    offset = timedelta(seconds=event.offset_seconds)
    starts_at = event.starts_at + offset
    ends_at = event.ends_at + offset if event.ends_at else now + OPEN_EVENT_LEASE
    if not event.intervals:
        return [mapping.Part(starts_at, ends_at, mapping.Target(row.limit_a, row.limit_kw))]
    parts = []
    for interval in event.intervals:
        begin = starts_at + timedelta(seconds=interval["start"])
        end = begin + timedelta(seconds=interval["duration"]) if interval["duration"] else ends_at
        value = None if interval.get("value") is None else Decimal(interval["value"])
        parts.append(mapping.Part(begin, min(end, ends_at), _node_target(event, row, value)))
    return parts


def planned_steps(
    event: DemandResponseEvent, now: datetime, row: EventNodeLimit
) -> list[mapping.Step]:
    """The limits this event should put on one node (none when it is not taking place)."""
    if event.opt != Opt.IN or event.status in ENDED or event.ven_id is None:
        return []
    return mapping.steps_for_parts(
        parts=event_parts(event, now, row),
        before=mapping.Target(row.limit_before_a, row.limit_before_kw),
        ramp_up=timedelta(seconds=event.ramp_up_seconds),
        recovery=timedelta(seconds=event.recovery_seconds),
    )


def _sync_limits(event: DemandResponseEvent, now: datetime) -> None:
    """Replace the event's overrides, on every node of its VEN, by what it asks for from now
    on (past steps stay as the record of what happened)."""
    limits.withdraw(reference=event.reference, at=now)
    for row in event.node_limits.select_related("node"):
        for step in planned_steps(event, now, row):
            if step.ends_at <= now:
                continue
            limits.override_create(
                node=row.node,
                source=limits.LimitSource.DEMAND_RESPONSE,
                limit_a=step.limit_a,
                limit_kw=step.limit_kw,
                starts_at=max(step.starts_at, now),
                ends_at=step.ends_at,
                reference=event.reference,
                note=f"OpenADR {event.ven.ven_name}: {event.event_id}"[:255],
            )


def _members_set(ven: Ven, nodes, now: datetime) -> None:
    """The group's further nodes (another site's supply, usually); events that have not ended
    are re-planned on the new set of nodes."""
    wanted = {node.pk: node for node in nodes if node.pk != ven.node_id}
    current = set(ven.members.values_list("node_id", flat=True))
    if set(wanted) == current:
        return
    ven.members.exclude(node_id__in=wanted).delete()
    for pk, node in wanted.items():
        if pk not in current:
            VenMember.objects.create(ven=ven, node=node)
    for event in ven.events.exclude(status__in=ENDED):
        _node_limits_build(event, now)
        _sync_limits(event, now)


@transaction.atomic
def event_opt_set(*, event: DemandResponseEvent, opt: str, now: datetime | None = None):
    """A site admin takes part in an event or opts out of it (reported at the next poll,
    which is queued now)."""
    if opt not in Opt.values:
        raise ValidationError("Opt in or opt out.")
    if event.status in ENDED:
        raise ValidationError("This event is over.")
    if opt == Opt.IN and event.signal_kind == SignalKind.OTHER:
        raise ValidationError("chargegrid cannot follow this event's signal.")
    now = now or timezone.now()
    event = DemandResponseEvent.objects.select_for_update().select_related("ven").get(pk=event.pk)
    if event.opt != opt or event.opt_source != OptSource.PERSON:
        event.opt, event.opt_source, event.opt_changed_at = opt, OptSource.PERSON, now
        event.save(update_fields=["opt", "opt_source", "opt_changed_at", "updated_at"])
        _sync_limits(event, now)
        ven_id = event.ven_id
        queue.enqueue_poll(ven_id)
    return event


# --- Reports --------------------------------------------------------------------------------


def _pending_reports(ven: Ven) -> list[tuple[DemandResponseEvent, openadr.OptReport]]:
    pending = []
    unreported = (
        Q(reported_modification__isnull=True)
        | ~Q(reported_opt=F("opt"))
        | ~Q(reported_modification=F("modification_number"))
    )
    for event in ven.events.filter(unreported, response_required=True).exclude(
        status=EventStatus.COMPLETED
    ):
        pending.append(
            (event, openadr.OptReport(event.event_id, event.modification_number, event.opt))
        )
    return pending


def _reported(
    pending: list[tuple[DemandResponseEvent, openadr.OptReport]],
    done: list[openadr.OptReport],
    now: datetime,
) -> None:
    acknowledged = set(done)
    for event, item in pending:
        if item in acknowledged:
            DemandResponseEvent.objects.filter(pk=event.pk).update(
                reported_opt=item.opt,
                reported_modification=item.modification_number,
                reported_at=now,
            )


# --- Building-management systems --------------------------------------------------------------

BMS_REFERENCE = "bms"


@transaction.atomic
def bms_limit_set(
    *,
    node: limits.PowerNode,
    ends_at: datetime,
    limit_a=None,
    limit_kw=None,
    starts_at: datetime | None = None,
    note: str = "",
):
    """A temporary (or scheduled: a later ``starts_at``) limit from a building-management
    system. It must end: a BMS that goes quiet cannot leave the site low."""
    starts_at = starts_at or timezone.now()
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The limit must end after it starts."})
    if ends_at - starts_at > BMS_LONGEST:
        raise ValidationError({"ends_at": "A BMS limit lasts at most 7 days; send it again."})
    return limits.override_create(
        node=node,
        source=limits.LimitSource.API,
        limit_a=limit_a,
        limit_kw=limit_kw,
        starts_at=starts_at,
        ends_at=ends_at,
        reference=BMS_REFERENCE,
        note=note,
    )


BMS_LONGEST = timedelta(days=7)


@transaction.atomic
def bms_limits_end(*, node: limits.PowerNode, at: datetime | None = None) -> int:
    """End every BMS limit on ``node`` (those not started yet go)."""
    return limits.withdraw_on(node=node, reference=BMS_REFERENCE, at=at or timezone.now())


@transaction.atomic
def bms_schedule_set(*, node: limits.PowerNode, items: list[dict], now: datetime | None = None):
    """Replace the BMS's limits on ``node`` that have not ended by ``items`` (each with
    ``starts_at``, ``ends_at``, ``limit_a``/``limit_kw``, ``note``; each checked as one
    temporary limit). All or nothing: a bad item leaves the old schedule in place."""
    now = now or timezone.now()
    limits.withdraw_on(node=node, reference=BMS_REFERENCE, at=now)
    made = []
    for index, item in enumerate(sorted(items, key=lambda item: item["starts_at"])):
        if item["ends_at"] <= now:
            raise ValidationError({"limits": f"Item {index}: it has already ended."})
        try:
            made.append(
                bms_limit_set(node=node, **{**item, "starts_at": max(item["starts_at"], now)})
            )
        except ValidationError as error:
            raise ValidationError(
                {"limits": f"Item {index}: {' '.join(error.messages)}"}
            ) from error
    return made  # (power rebalances the site on each change)


def bms_load_push(*, node: limits.PowerNode, load_w: int, at: datetime | None = None) -> None:
    """The building's own load on ``node`` now (power trusts it for five minutes)."""
    limits.building_load_report(node=node, load_w=load_w, at=at or timezone.now())


# --- Telemetry --------------------------------------------------------------------------------

TELEMETRY_R_ID = "site-load"
TELEMETRY_BACKLOG = timedelta(days=1)  # at most this much history is sent at once


def _group_load(ven: Ven, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(start, average W) of each 15-minute interval in [start, end): the load of the VEN's
    node, or the sum over a group's nodes (an interval any node recorded)."""
    totals: dict[datetime, int] = {}
    nodes = {node.pk for node in ven_nodes(ven)}
    for row in limits.node_history_many(nodes, start, end):
        if row.samples:
            load = (row.drawn_w_sum + row.base_w_sum) // row.samples
            totals[row.start] = totals.get(row.start, 0) + load
    return sorted(totals.items())


def _report_requests_take(ven: Ven, raw: list[dict]) -> None:
    """A report request that came with a poll (``oadrCreateReport``)."""
    requests = openadr.parse_report_requests(raw, ven.report_specifier_id)
    if requests:
        ven.report_request_id = requests[-1].report_request_id
        ven.save(update_fields=["report_request_id"])


def _telemetry(ven: Ven, now: datetime) -> int:
    """Offer our load report once registered; send the 15-minute intervals completed since the
    last ones the VTN acknowledged, if it asked for them. Returns how many were sent."""
    connection = _connection(ven)
    if ven.reports_offered_at is None:
        requests = asyncio.run(
            openadr.register_reports(
                connection,
                specifier_id=ven.report_specifier_id,
                r_id=TELEMETRY_R_ID,
                resource_id=(ven.node.name if not ven.members.exists() else ven.name)[:100],
            )
        )
        ven.reports_offered_at = now
        if requests:
            ven.report_request_id = requests[-1].report_request_id
        ven.save(update_fields=["reports_offered_at", "report_request_id"])
    if not ven.report_request_id:
        return 0
    end = limits.quarter_of(now)
    start = max(ven.reported_until or end - timedelta(hours=1), end - TELEMETRY_BACKLOG)
    intervals = _group_load(ven, start, end)
    if not intervals:
        return 0
    request = openadr.ReportRequest(ven.report_request_id, openadr.REPORT_GRANULARITY)
    sent = asyncio.run(
        openadr.update_report(
            connection,
            request=request,
            specifier_id=ven.report_specifier_id,
            r_id=TELEMETRY_R_ID,
            intervals=intervals,
        )
    )
    if sent:
        Ven.objects.filter(pk=ven.pk).update(reported_until=end)
        return len(intervals)
    return 0


# --- Private keys at rest ---------------------------------------------------------------------


def ven_keys_rotate() -> int:
    """Re-encrypt this tenant's VEN keys under the first secret (see ``keys``); how many."""
    done = 0
    for ven in Ven.objects.exclude(client_key_encrypted="").only("pk", "client_key_encrypted"):
        Ven.objects.filter(pk=ven.pk).update(
            client_key_encrypted=keys.rotate(ven.client_key_encrypted)
        )
        done += 1
    return done
