"""Reads of the fleet app: what an actor may see, usage per vehicle, token memberships."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet

from apps.core import policies
from apps.core.scoping import Actor

from .choices import MEMBER_FLEET, MEMBER_PERSON, MEMBER_VEHICLE
from .models import Fleet, FleetCard, TelemetryReading, Vehicle, VehicleSession


def sees_all_fleets(actor: Actor) -> bool:
    """People who hold ``fleet.all`` (site admins, owners) see every fleet of their sites; a
    fleet manager without it sees only the fleets that name them as managers."""
    return actor.kind != "user" or not actor.scope_for("fleet.all").empty


def _own(queryset: QuerySet, actor: Actor, path: str) -> QuerySet:
    if sees_all_fleets(actor):
        return queryset
    return queryset.filter(**{f"{path}managers": actor.user}).distinct()


def fleets_for(actor: Actor, permission: str = "fleet.view") -> QuerySet[Fleet]:
    return _own(Fleet.objects.restrict(actor, permission), actor, "")


def vehicles_for(actor: Actor, permission: str = "fleet.view") -> QuerySet[Vehicle]:
    return _own(Vehicle.objects.restrict(actor, permission), actor, "fleet__")


def cards_for(actor: Actor, permission: str = "fleet.view") -> QuerySet[FleetCard]:
    return _own(FleetCard.objects.restrict(actor, permission), actor, "fleet__")


def usage_for(actor: Actor, permission: str = "fleet.view") -> QuerySet[VehicleSession]:
    return _own(VehicleSession.objects.restrict(actor, permission), actor, "fleet__")


def telemetry_for(actor: Actor, permission: str = "fleet.view") -> QuerySet[TelemetryReading]:
    return _own(TelemetryReading.objects.restrict(actor, permission), actor, "vehicle__fleet__")


def scope_queryset(queryset: QuerySet, actor: Actor) -> QuerySet:
    """The managers' narrowing for a queryset already restricted by the base viewset."""
    model = queryset.model
    path = {Fleet: "", TelemetryReading: "vehicle__fleet__"}.get(model, "fleet__")
    return _own(queryset, actor, path)


# --- Usage ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UsageRow:
    """One session of a vehicle, priced as its receipt says (billing, SESSION_RECEIPTS)."""

    usage: VehicleSession
    started_at: dt.datetime
    ended_at: dt.datetime | None
    energy_wh: int
    station: str
    site: str
    card: str
    total: Decimal | None
    total_excl_tax: Decimal | None
    currency: str
    receipt: str

    @property
    def minutes(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 60)


def usage_rows(
    queryset: QuerySet[VehicleSession],
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[UsageRow]:
    """The sessions of ``queryset`` started in [start, end), oldest first, each with its cost
    (one query for the sessions, one for their receipts)."""
    if start is not None:
        queryset = queryset.filter(started_at__gte=start)
    if end is not None:
        queryset = queryset.filter(started_at__lt=end)
    usages = list(
        queryset.select_related(
            "session__station__site", "session__token", "vehicle", "fleet"
        ).order_by("started_at", "pk")
    )
    receipts = (
        policies.ask(policies.SESSION_RECEIPTS, session_ids=[u.session_id for u in usages]) or {}
    )
    rows = []
    for usage in usages:
        session = usage.session
        receipt = receipts.get(session.pk) or {}
        rows.append(
            UsageRow(
                usage=usage,
                started_at=session.started_at,
                ended_at=session.ended_at,
                energy_wh=session.energy_wh,
                station=session.station.identity,
                site=session.station.site.name,
                card=session.id_token,
                total=Decimal(receipt["total"]) if receipt else None,
                total_excl_tax=Decimal(receipt["total_excl_tax"]) if receipt else None,
                currency=receipt.get("currency", ""),
                receipt=receipt.get("receipt_number", ""),
            )
        )
    return rows


@dataclass(frozen=True)
class UsageSummary:
    sessions: int
    energy_wh: int
    totals: dict[str, Decimal]  # currency -> total (tax included) of the priced sessions
    unpriced: int
    stations: tuple[str, ...]
    first: dt.datetime | None
    last: dt.datetime | None


def usage_summary(rows: list[UsageRow]) -> UsageSummary:
    totals: dict[str, Decimal] = {}
    for row in rows:
        if row.total is not None:
            totals[row.currency] = totals.get(row.currency, Decimal("0")) + row.total
    return UsageSummary(
        sessions=len(rows),
        energy_wh=sum(row.energy_wh for row in rows),
        totals=totals,
        unpriced=sum(1 for row in rows if row.total is None),
        stations=tuple(sorted({row.station for row in rows})),
        first=rows[0].started_at if rows else None,
        last=rows[-1].started_at if rows else None,
    )


# --- Access: what a token stands for ----------------------------------------------------------
MEMBERSHIPS_SQL = """
SELECT c.vehicle_id, c.fleet_id, c.driver_id
FROM fleet_fleetcard c JOIN charging_idtoken t ON t.id = c.token_id
WHERE t.uid = %s
"""


def token_memberships(*, uid: str, **_) -> list[str] | None:
    """The access-group member keys ``uid`` stands for (policies.TOKEN_MEMBERSHIPS): its
    vehicle, its fleet, its driver.  ``None`` (abstain) for a token of no fleet."""
    with connection.cursor() as cursor:
        cursor.execute(MEMBERSHIPS_SQL, [uid])
        found = cursor.fetchall()
    if not found:
        return None
    keys: list[str] = []
    for vehicle_id, fleet_id, driver_id in found:
        keys.append(f"{MEMBER_FLEET}:{fleet_id}")
        if vehicle_id:
            keys.append(f"{MEMBER_VEHICLE}:{vehicle_id}")
        if driver_id:
            keys.append(f"{MEMBER_PERSON}:{driver_id}")
    return keys


def member_tokens(*, keys: list[str], **_) -> dict[int, list[str]] | None:
    """The other way round (policies.MEMBER_TOKENS): every token of a fleet card that the
    member ``keys`` stand for, with the keys it stands for (access's compiled local lists)."""
    wanted: dict[str, set[int]] = {MEMBER_FLEET: set(), MEMBER_VEHICLE: set(), MEMBER_PERSON: set()}
    for key in keys:
        kind, _sep, ref = key.partition(":")
        if kind in wanted and ref.isdigit():
            wanted[kind].add(int(ref))
    if not any(wanted.values()):
        return None
    cards = FleetCard.objects.filter(
        Q(fleet_id__in=wanted[MEMBER_FLEET])
        | Q(vehicle_id__in=wanted[MEMBER_VEHICLE])
        | Q(driver_id__in=wanted[MEMBER_PERSON])
    ).values_list("token_id", "fleet_id", "vehicle_id", "driver_id")
    found: dict[int, list[str]] = {}
    for token_id, fleet_id, vehicle_id, driver_id in cards:
        stands = found.setdefault(token_id, [])
        if fleet_id in wanted[MEMBER_FLEET]:
            stands.append(f"{MEMBER_FLEET}:{fleet_id}")
        if vehicle_id in wanted[MEMBER_VEHICLE]:
            stands.append(f"{MEMBER_VEHICLE}:{vehicle_id}")
        if driver_id in wanted[MEMBER_PERSON]:
            stands.append(f"{MEMBER_PERSON}:{driver_id}")
    return found


def session_vehicles(*, session_ids: list[int], **_) -> dict[int, dict] | None:
    """The vehicle that charged in each of ``session_ids`` (those a fleet's card started), for
    the reports' by-vehicle breakdown (core policy ``SESSION_VEHICLES``); None when no vehicle
    charged in any of them (a network without fleets sees no by-vehicle table)."""
    rows = VehicleSession.objects.filter(
        session_id__in=session_ids, vehicle__isnull=False
    ).select_related("vehicle", "fleet")
    found = {
        row.session_id: {"id": row.vehicle_id, "label": f"{row.vehicle} ({row.fleet.name})"}
        for row in rows
    }
    return found or None
