"""The board: sessions whose charging has finished and whose car may be moved, per site."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.core import policies
from apps.core.scoping import Actor
from apps.stations.choices import ConnectorStatus
from apps.stations.models import Site

from .models import CarMove

FINISHED_PORT = (ConnectorStatus.SUSPENDED_EV, ConnectorStatus.FINISHING)


@dataclass(frozen=True)
class BoardRow:
    session: ChargingSession
    idle_since: dt.datetime
    move: CarMove | None
    next_driver: dict[str, Any] | None
    # the idle fee accrued so far, as billing prices it (SESSION_IDLE_FEES): amount, currency,
    # accruing, next_change_at; None: no idle fee in the session's tariff
    idle_fee: dict[str, Any] | None = None

    @property
    def idle(self) -> dt.timedelta:
        return max(timezone.now() - self.idle_since, dt.timedelta())

    @property
    def idle_minutes(self) -> int:
        return int(self.idle.total_seconds() // 60)


def board_sites(actor: Actor):
    return Site.objects.restrict(actor, "valet.view").order_by("name")


def board_rows(*, actor: Actor, site_id: int) -> list[BoardRow]:
    """Active sessions that stopped drawing (EV suspended, station finishing: the charging
    services stamp ``charging_ended_at``), and ended sessions whose car is still plugged in
    (port Finishing), minus cars marked moved; longest idle first."""
    sessions = (
        ChargingSession.objects.restrict(actor, "valet.view")
        .filter(station__site_id=site_id)
        .filter(
            Q(status=SessionStatus.ACTIVE)
            & (Q(charging_ended_at__isnull=False) | Q(evse__status__in=FINISHED_PORT))
            | ~Q(status=SessionStatus.ACTIVE) & Q(evse__status=ConnectorStatus.FINISHING)
        )
        .select_related("station", "evse")
        .order_by("-started_at")
    )
    moves = {
        move.session_id: move
        for move in CarMove.objects.filter(session__in=sessions).select_related("assigned_to")
    }
    rows, seen_ports = [], set()
    for session in sessions:
        if session.evse_id in seen_ports:  # an older session on the same port: long gone
            continue
        seen_ports.add(session.evse_id)
        move = moves.get(session.pk)
        if move is not None and move.moved_at is not None:
            continue
        rows.append(
            BoardRow(
                session=session,
                idle_since=session.charging_ended_at or session.ended_at or session.updated_at,
                move=move,
                next_driver=policies.ask(
                    policies.NEXT_WAITING,
                    station_id=session.station_id,
                    evse_id=session.evse.evse_id,
                ),
            )
        )
    fees = policies.ask(policies.SESSION_IDLE_FEES, session_ids=[r.session.pk for r in rows])
    if fees:
        rows = [dataclasses.replace(row, idle_fee=fees.get(row.session.pk)) for row in rows]
    rows.sort(key=lambda row: row.idle_since)
    return rows


def next_fee_change(rows: list[BoardRow]) -> dt.datetime | None:
    """When the first accruing idle fee on the board next goes up (the page re-reads then)."""
    moments = [
        row.idle_fee["next_change_at"]
        for row in rows
        if row.idle_fee and row.idle_fee.get("next_change_at")
    ]
    return min(moments, default=None)
