"""Commands from partners (OCPI 2.2.1 commands module, CPO side): START_SESSION, STOP_SESSION,
RESERVE_NOW, CANCEL_RESERVATION and UNLOCK_CONNECTOR.  The HTTP request is answered at once
with a CommandResponse (ACCEPTED: it will be sent to the station); a Celery task sends it
through ``commands`` and the CommandResult goes to the partner's ``response_url`` as an outbox
push.

Reservations: the partner names a reservation with its own ``reservation_id`` (a string); the
station knows it by an OCPP ``reservationId`` (an int) we draw at random, as the waitlist does,
so that two features never pick the same id on one station.  A RESERVE_NOW with a
``reservation_id`` the partner already holds replaces that reservation (same OCPP id, so the
station replaces it too); CANCEL_RESERVATION finds the station and the OCPP id from it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.stations.models import Evse

from . import commands, protocol, queue, selectors, services
from .models import Partner, RemoteCommand

SUPPORTED = (
    "START_SESSION",
    "STOP_SESSION",
    "UNLOCK_CONNECTOR",
    "RESERVE_NOW",
    "CANCEL_RESERVATION",
)
KNOWN = SUPPORTED
# OCPI 2.1.1 has no CANCEL_RESERVATION, and no CommandResult: the station's answer goes to the
# response_url as another CommandResponse, whose type only knows these values.
KNOWN_211 = ("START_SESSION", "STOP_SESSION", "UNLOCK_CONNECTOR", "RESERVE_NOW")
RESULT_211 = {
    "ACCEPTED": "ACCEPTED",
    "NOT_SUPPORTED": "NOT_SUPPORTED",
    "TIMEOUT": "TIMEOUT",
    "UNKNOWN_SESSION": "UNKNOWN_SESSION",
}
RESULT_TIMEOUT_SECONDS = 60
# OCPP ReserveNow / CancelReservation status -> OCPI CommandResultType
RESERVE_RESULT = {
    "Accepted": "ACCEPTED",
    "Occupied": "EVSE_OCCUPIED",
    "Faulted": "EVSE_INOPERATIVE",
    "Unavailable": "EVSE_INOPERATIVE",
    "Rejected": "REJECTED",
}
CANCEL_RESULT = {"Accepted": "CANCELED_RESERVATION", "Rejected": "UNKNOWN_RESERVATION"}


def _evse(location_id: str, evse_uid: str | None) -> Evse | None:
    site_pk = selectors.site_pk(location_id or "")
    if site_pk is None or not evse_uid or "-" not in evse_uid:
        return None
    station_pk, _, evse_id = evse_uid.partition("-")
    if not (station_pk.isdigit() and evse_id.isdigit()):
        return None
    return (
        Evse.objects.select_related("station")
        .filter(station_id=int(station_pk), evse_id=int(evse_id), station__site_id=site_pk)
        .first()
    )


def _free_evse(location_id: str) -> Evse | None:
    """RESERVE_NOW without ``evse_uid``: the location's first EVSE that is available now."""
    from apps.stations.choices import ConnectorStatus

    site_pk = selectors.site_pk(location_id or "")
    if site_pk is None:
        return None
    return (
        Evse.objects.select_related("station")
        .filter(station__site_id=site_pk, status=ConnectorStatus.AVAILABLE)
        .filter(station__is_online=True)
        .order_by("station_id", "evse_id")
        .first()
    )


def _held_reservation(partner: Partner, reservation_id: str) -> RemoteCommand | None:
    """The partner's reservation ``reservation_id`` the station accepted and that was not
    cancelled since (None if there is none)."""
    reserved = (
        RemoteCommand.objects.filter(
            partner=partner,
            command="RESERVE_NOW",
            reservation_id=reservation_id,
            result="ACCEPTED",
            station__isnull=False,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if reserved is None:
        return None
    cancelled = RemoteCommand.objects.filter(
        partner=partner,
        command="CANCEL_RESERVATION",
        reservation_id=reservation_id,
        result="CANCELED_RESERVATION",
        created_at__gte=reserved.created_at,
    ).exists()
    return None if cancelled else reserved


def _token_problem(token: Any) -> str | None:
    """START_SESSION / RESERVE_NOW carry the driver's whole Token object (we store it)."""
    if not isinstance(token, dict) or not token.get("uid"):
        return "A token is required"
    missing = [
        name
        for name, alternative in (
            ("contract_id", "auth_id"),
            ("issuer", None),
            ("whitelist", "allow_whitelist"),
        )
        if not token.get(name) and not (alternative and token.get(alternative))
    ]
    if missing:
        return "The token lacks " + ", ".join(missing)
    return None


def _check_reserve(partner: Partner, body: dict[str, Any], fields: dict[str, Any]) -> str | None:
    """RESERVE_NOW: what is wrong with it (a message), or None; fills ``fields``."""
    # a string in 2.2.1, an int in 2.1.1
    raw = body.get("reservation_id")
    reservation_id = "" if raw is None or isinstance(raw, bool) else str(raw)
    if not reservation_id or len(reservation_id) > 36:
        return "reservation_id is required (at most 36 characters)"
    if problem := _token_problem(body.get("token")):
        return problem
    try:
        expiry = protocol.parse_timestamp(str(body.get("expiry_date") or ""))
    except ValueError:
        return "expiry_date is required (an RFC 3339 date-time)"
    if expiry <= timezone.now():
        return "expiry_date is in the past"
    if body.get("evse_uid"):
        evse = _evse(body.get("location_id"), body["evse_uid"])
        if evse is None:
            return "Unknown location or EVSE"
    else:
        evse = _free_evse(body.get("location_id"))
        if evse is None:
            return "No EVSE of this location is available"
    held = _held_reservation(partner, reservation_id)
    same_station = held is not None and held.station_id == evse.station_id
    fields.update(
        reservation_id=reservation_id,
        station=evse.station,
        ocpp_reservation_id=(
            held.ocpp_reservation_id if same_station else secrets.randbelow(2**31 - 2) + 1
        ),
        body={**body, "evse_uid": selectors.evse_uid(evse.station_id, evse.evse_id)},
    )
    return None


def command_receive(
    *,
    partner: Partner,
    command: str,
    body: dict[str, Any],
    version: str = protocol.V221,
    sender: tuple[str, str] | None = None,
) -> tuple[str, str]:
    """Check a command and queue it.  Returns (CommandResponseType, message).  ``version``:
    the OCPI version of the request (2.1.1's commands and answers differ); ``sender``: the
    party a hub forwarded it for (its result is routed back there)."""
    if command not in (KNOWN_211 if version == protocol.V211 else KNOWN):
        return "NOT_SUPPORTED", "Unknown command"
    if not body.get("response_url"):
        return "REJECTED", "response_url is required"
    fields: dict[str, Any] = {"body": body}
    if command == "STOP_SESSION":
        session_id = str(body.get("session_id", ""))
        if (
            not session_id.isdigit()
            or not ChargingSession.objects.filter(
                pk=int(session_id), status=SessionStatus.ACTIVE
            ).exists()
        ):
            return "UNKNOWN_SESSION", "No such active session"
    elif command == "RESERVE_NOW":
        problem = _check_reserve(partner, body, fields)
        if problem:
            return "REJECTED", problem
    elif command == "CANCEL_RESERVATION":
        reservation_id = str(body.get("reservation_id") or "")
        held = _held_reservation(partner, reservation_id) if reservation_id else None
        if held is None:
            return "REJECTED", "Unknown reservation"
        fields.update(
            reservation_id=reservation_id,
            station=held.station,
            ocpp_reservation_id=held.ocpp_reservation_id,
        )
    else:
        if _evse(body.get("location_id"), body.get("evse_uid")) is None:
            return "REJECTED", "Unknown location or EVSE"
        if command == "START_SESSION" and (problem := _token_problem(body.get("token"))):
            return "REJECTED", problem
    with transaction.atomic():
        remote = RemoteCommand.objects.create(
            partner=partner,
            command=command,
            response_url=body["response_url"],
            version=version,
            sender="".join(sender) if sender and partner.is_hub else "",
            **fields,
        )
        queue.command_run(remote.pk)
    return "ACCEPTED", "Sent to the station"


def _store_token(remote: RemoteCommand) -> str:
    """The token a START_SESSION or RESERVE_NOW carries, kept so that the driver is known when
    the station asks to authorise it.  Returns its uid."""
    token = remote.body["token"]
    services.token_store(
        partner=remote.partner,
        data=token,
        country_code=token.get("country_code", remote.partner.country_code),
        party_id=token.get("party_id", remote.partner.party_id),
        uid=token["uid"],
        token_type=token.get("type", "RFID"),
    )
    return token["uid"]


def _outcome(ok: bool, status: str, mapping: dict[str, str] | None = None) -> str:
    if commands.is_timeout(status):
        return "TIMEOUT"
    if mapping and status in mapping:
        return mapping[status]
    if ok:
        return "ACCEPTED"
    return "REJECTED" if mapping is None else "FAILED"


def command_run(*, command_id: int) -> RemoteCommand | None:
    """Send a queued command to its station once (claimed) and push its result."""
    claimed = RemoteCommand.objects.filter(pk=command_id, state="queued").update(state="running")
    if claimed != 1:
        return None
    remote = RemoteCommand.objects.select_related("partner", "station").get(pk=command_id)
    body = remote.body
    if remote.command == "STOP_SESSION":
        session = ChargingSession.objects.select_related("station").get(pk=int(body["session_id"]))
        ok, status = commands.remote_stop(session=session)
        result = _outcome(ok, status)
    elif remote.command == "RESERVE_NOW":
        evse = _evse(body["location_id"], body["evse_uid"])
        ok, status = commands.reserve_now(
            station=evse.station,
            evse_id=evse.evse_id,
            reservation_id=remote.ocpp_reservation_id,
            expires_at=protocol.parse_timestamp(body["expiry_date"]),
            id_token=_store_token(remote),
        )
        result = _outcome(ok, status, RESERVE_RESULT)
    elif remote.command == "CANCEL_RESERVATION":
        ok, status = commands.cancel_reservation(
            station=remote.station, reservation_id=remote.ocpp_reservation_id
        )
        result = _outcome(ok, status, CANCEL_RESULT)
    else:
        evse = _evse(body["location_id"], body.get("evse_uid"))
        if remote.command == "START_SESSION":
            ok, status = commands.remote_start(
                station=evse.station, evse_id=evse.evse_id, id_token=_store_token(remote)
            )
        else:
            ok, status = commands.unlock(
                station=evse.station,
                evse_id=evse.evse_id,
                connector_id=int(body.get("connector_id") or 1),
            )
        result = _outcome(ok, status)
    with transaction.atomic():
        remote.state, remote.result, remote.station_status = "done", result, status[:40]
        remote.finished_at = timezone.now()
        remote.save(update_fields=["state", "result", "station_status", "finished_at"])
        token = body.get("token") if isinstance(body.get("token"), dict) else {}
        if remote.sender:
            party = (remote.sender[:2], remote.sender[2:])
        elif token:
            party = (token.get("country_code", ""), token.get("party_id", ""))
        else:
            party = None
        services.push_enqueue(
            partners=[remote.partner],
            party=party,
            module="commands",
            method="POST",
            path=remote.response_url,
            body=result_body(result, remote.version),
        )
    return remote


def result_body(result: str, version: str) -> dict[str, Any]:
    """What goes to ``response_url``: a CommandResult (2.2.1), or in 2.1.1 a CommandResponse
    whose type has no EVSE_OCCUPIED, FAILED, ... (those are a REJECTED there)."""
    if version == protocol.V211:
        return {"result": RESULT_211.get(result, "REJECTED")}
    return {"result": result}
