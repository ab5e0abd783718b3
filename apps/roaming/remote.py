"""Commands from partners (OCPI 2.2.1 commands module, CPO side): START_SESSION,
STOP_SESSION, UNLOCK_CONNECTOR.  The HTTP request is answered at once with a CommandResponse
(ACCEPTED: it will be sent to the station); a Celery task sends it through ``commands`` and the
CommandResult goes to the partner's ``response_url`` as an outbox push.  RESERVE_NOW and
CANCEL_RESERVATION are answered NOT_SUPPORTED: the core's command service has no reservation
command yet.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.stations.models import Evse

from . import commands, queue, selectors, services
from .models import Partner, RemoteCommand

SUPPORTED = ("START_SESSION", "STOP_SESSION", "UNLOCK_CONNECTOR")
KNOWN = (*SUPPORTED, "RESERVE_NOW", "CANCEL_RESERVATION")
RESULT_TIMEOUT_SECONDS = 60


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


def command_receive(*, partner: Partner, command: str, body: dict[str, Any]) -> tuple[str, str]:
    """Check a command and queue it.  Returns (CommandResponseType, message)."""
    if command not in KNOWN:
        return "NOT_SUPPORTED", "Unknown command"
    if command not in SUPPORTED:
        return "NOT_SUPPORTED", "Reservations are not supported"
    if not body.get("response_url"):
        return "REJECTED", "response_url is required"
    if command == "STOP_SESSION":
        session_id = str(body.get("session_id", ""))
        if (
            not session_id.isdigit()
            or not ChargingSession.objects.filter(
                pk=int(session_id), status=SessionStatus.ACTIVE
            ).exists()
        ):
            return "UNKNOWN_SESSION", "No such active session"
    else:
        if _evse(body.get("location_id"), body.get("evse_uid")) is None:
            return "REJECTED", "Unknown location or EVSE"
        if command == "START_SESSION" and not (body.get("token") or {}).get("uid"):
            return "REJECTED", "A token is required"
    with transaction.atomic():
        remote = RemoteCommand.objects.create(
            partner=partner, command=command, body=body, response_url=body["response_url"]
        )
        queue.command_run(remote.pk)
    return "ACCEPTED", "Sent to the station"


def command_run(*, command_id: int) -> RemoteCommand | None:
    """Send a queued command to its station once (claimed) and push its result."""
    claimed = RemoteCommand.objects.filter(pk=command_id, state="queued").update(state="running")
    if claimed != 1:
        return None
    remote = RemoteCommand.objects.select_related("partner").get(pk=command_id)
    body, ok, status = remote.body, False, ""
    if remote.command == "STOP_SESSION":
        session = ChargingSession.objects.select_related("station").get(pk=int(body["session_id"]))
        ok, status = commands.remote_stop(session=session)
    else:
        evse = _evse(body["location_id"], body.get("evse_uid"))
        if remote.command == "START_SESSION":
            token = body["token"]
            services.token_store(
                partner=remote.partner,
                data=token,
                country_code=token.get("country_code", remote.partner.country_code),
                party_id=token.get("party_id", remote.partner.party_id),
                uid=token["uid"],
                token_type=token.get("type", "RFID"),
            )
            ok, status = commands.remote_start(
                station=evse.station, evse_id=evse.evse_id, id_token=token["uid"]
            )
        else:
            ok, status = commands.unlock(
                station=evse.station,
                evse_id=evse.evse_id,
                connector_id=int(body.get("connector_id") or 1),
            )
    if ok:
        result = "ACCEPTED"
    elif commands.is_timeout(status):
        result = "TIMEOUT"
    else:
        result = "REJECTED"
    with transaction.atomic():
        remote.state, remote.result, remote.station_status = "done", result, status[:40]
        remote.finished_at = timezone.now()
        remote.save(update_fields=["state", "result", "station_status", "finished_at"])
        services.push_enqueue(
            partners=[remote.partner],
            module="commands",
            method="POST",
            path=remote.response_url,
            body={"result": result},
        )
    return remote
