"""The one adapter between roaming and the core's command service (``apps.ocpp.commands``):
every station command roaming sends goes through here, so that a change of the command
service touches this module only.  The platform sends them on a partner's behalf (a system
actor, audited with source "api")."""

from __future__ import annotations

from apps.core.scoping import SystemActor
from apps.ocpp import commands as ocpp_commands

REQUESTER = ocpp_commands.Requester(actor=SystemActor(), source="api")


def remote_start(*, station, evse_id: int, id_token: str) -> tuple[bool, str]:
    reply = ocpp_commands.session_remote_start(
        requester=REQUESTER,
        station=station,
        evse_id=evse_id,
        id_token=id_token,
        token_type="ISO14443",
    )
    return reply.ok, reply.status


def remote_stop(*, session) -> tuple[bool, str]:
    reply = ocpp_commands.session_remote_stop(requester=REQUESTER, session=session)
    return reply.ok, reply.status


def unlock(*, station, evse_id: int, connector_id: int) -> tuple[bool, str]:
    reply = ocpp_commands.station_unlock(
        requester=REQUESTER, station=station, evse_id=evse_id, connector_id=connector_id
    )
    return reply.ok, reply.status


def reserve_now(
    *, station, evse_id: int, reservation_id: int, expires_at, id_token: str
) -> tuple[bool, str]:
    reply = ocpp_commands.reservation_reserve_now(
        requester=REQUESTER,
        station=station,
        evse_id=evse_id,
        reservation_id=reservation_id,
        expires_at=expires_at,
        id_token=id_token,
        token_type="ISO14443",
    )
    return reply.ok, reply.status


def cancel_reservation(*, station, reservation_id: int) -> tuple[bool, str]:
    reply = ocpp_commands.reservation_cancel(
        requester=REQUESTER, station=station, reservation_id=reservation_id
    )
    return reply.ok, reply.status


def is_timeout(status: str) -> bool:
    return status in ("CommandTimeout", "StationOffline")
