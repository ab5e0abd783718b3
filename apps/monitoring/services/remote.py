"""Remote control of a station: one service per command, the same for the portal and the API.

Each service checks that the actor may command the station's site, translates the command
into the station's OCPP version (``apps.ocpp.payloads``, the builder the REST API uses too),
sends it through ``apps.ocpp.commands`` (which reaches the station whichever server process
holds its socket), writes one audit entry whatever happens, and returns the station's answer
as a ``CommandOutcome``.  Errors (offline, timeout, rejected) are answers too: they are
returned, not raised, so every caller shows and audits them the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from apps.core.scoping import Actor
from apps.ocpp import payloads
from apps.stations.models import Station

V16, V201 = payloads.V16, payloads.V201

# What the portal offers, per version (the schemas allow these values).
TRIGGER_MESSAGES = {
    V16: (
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "FirmwareStatusNotification",
        "DiagnosticsStatusNotification",
    ),
    V201: (
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "TransactionEvent",
        "FirmwareStatusNotification",
        "LogStatusNotification",
    ),
}
SUCCESS = {"Accepted", "Scheduled", "Unlocked", "RebootRequired"}


@dataclass(frozen=True)
class Origin:
    """Who sends a command and from where (for the permission check and the audit log)."""

    actor: Actor
    source: str = "portal"
    ip: str | None = None


@dataclass(frozen=True)
class CommandOutcome:
    action: str
    request: dict[str, Any]
    ok: bool
    status: str
    message: str
    response: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    session_id: int | None = None

    @property
    def answered(self) -> bool:
        """Whether the station itself answered (not offline, not timed out)."""
        return self.response is not None


def _check(origin: Origin, permission: str, station: Station) -> None:
    if not origin.actor.scope_for(permission).covers_site(station.site_id):
        raise PermissionDenied(_("You may not do this on this station."))


def _version(station: Station) -> str:
    return station.ocpp_version or V16


def _audit(*, origin: Origin, audit_action: str, station: Station, outcome: CommandOutcome) -> None:
    from apps.audit.services import audit_record

    audit_record(
        actor=origin.actor,
        action=audit_action,
        source=origin.source,
        ip=origin.ip,
        obj=station,
        changes={
            "ocpp_action": outcome.action,
            "request": outcome.request,
            "response": outcome.response,
            "status": outcome.status,
        },
        succeeded=outcome.ok,
    )


def _send_call(
    origin: Origin,
    station: Station,
    audit_action: str,
    call: payloads.Call,
    *,
    permission: str = "stations.command",
    rows: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> CommandOutcome:
    from apps.ocpp.commands import CommandError, station_call

    _check(origin, permission, station)
    action, payload = call.action, call.payload
    try:
        response = station_call(station, action, payload)
    except CommandError as error:
        outcome = CommandOutcome(
            action=action,
            request=payload,
            ok=False,
            status=type(error).__name__,
            message=str(error),
        )
    else:
        status = str(response.get("status", "")) if isinstance(response, dict) else ""
        table = rows(response) if rows is not None else []
        ok = status in SUCCESS if status else True
        outcome = CommandOutcome(
            action=action,
            request=payload,
            ok=ok,
            status=status or _("Answered"),
            message=_describe(status, response),
            response=response,
            rows=table,
        )
    _audit(origin=origin, audit_action=audit_action, station=station, outcome=outcome)
    return outcome


def _describe(status: str, response: dict[str, Any]) -> str:
    info = response.get("statusInfo") if isinstance(response, dict) else None
    detail = ""
    if isinstance(info, dict):
        detail = " ".join(str(info.get(k, "")) for k in ("reasonCode", "additionalInfo")).strip()
    if status:
        text = _("The station answered %(status)s.") % {"status": status}
    else:
        text = _("The station answered.")
    return f"{text} {detail}".strip()


# --- Commands (payloads from apps.ocpp.payloads, the API's builder too) -------------------
def station_reset(*, origin: Origin, station: Station, reset_type: str = "") -> CommandOutcome:
    """``reset_type`` is the version's own word (1.6 Soft/Hard, 2.0.1 OnIdle/Immediate);
    none: a soft reset."""
    words = payloads.RESET_TYPES[_version(station)]
    if reset_type and reset_type not in words.values():
        raise ValueError(f"Not a reset type of this station: {reset_type!r}")
    call = payloads.reset(_version(station), hard=reset_type == words["hard"])
    return _send_call(origin, station, "station.reset", call)


def station_unlock(
    *, origin: Origin, station: Station, evse_id: int, connector_id: int = 1
) -> CommandOutcome:
    call = payloads.unlock(_version(station), evse_id=evse_id, connector_id=connector_id)
    return _send_call(origin, station, "station.unlock", call)


def station_change_availability(
    *, origin: Origin, station: Station, evse_id: int, operative: bool
) -> CommandOutcome:
    """``evse_id`` 0 is the whole station."""
    call = payloads.availability(_version(station), operative=operative, evse_id=evse_id)
    return _send_call(origin, station, "station.availability", call)


def station_trigger_message(
    *, origin: Origin, station: Station, message: str, evse_id: int | None = None
) -> CommandOutcome:
    call = payloads.trigger(_version(station), message=message, evse_id=evse_id)
    return _send_call(origin, station, "station.trigger_message", call)


def _configuration_rows(values: payloads.ConfigurationValues) -> list[dict[str, Any]]:
    """Values and unknown keys in one table, as the portal shows them."""
    rows = [{**row, "readonly": bool(row["readonly"])} for row in values.values]
    rows += [
        {"key": key, "value": "", "readonly": True, "status": "UnknownKey"}
        for key in values.unknown
    ]
    return rows


def station_configuration_read(
    *, origin: Origin, station: Station, keys: list[str] | None = None
) -> CommandOutcome:
    """1.6 GetConfiguration (all keys when none are named); 2.0.1 GetVariables of
    ``Component/Variable`` names (``payloads.DEFAULT_VARIABLES`` when none are named)."""
    version = _version(station)
    keys = [key.strip() for key in keys or [] if key.strip()]
    if version != V16 and not keys:
        keys = list(payloads.DEFAULT_VARIABLES)
    call = payloads.configuration_get(version, keys=keys)

    def rows(response: dict[str, Any]) -> list[dict[str, Any]]:
        table = _configuration_rows(payloads.configuration_values(version, response, keys=keys))
        return sorted(table, key=lambda row: row["key"].lower()) if version == V16 else table

    return _send_call(
        origin,
        station,
        "station.configuration_read",
        call,
        permission="stations.configure",
        rows=rows,
    )


def station_configuration_change(
    *, origin: Origin, station: Station, key: str, value: str
) -> CommandOutcome:
    """1.6 ChangeConfiguration; 2.0.1 SetVariables (``key`` is ``Component/Variable``)."""
    version = _version(station)
    changes = [{"key": key, "value": value}]
    [call] = payloads.configuration_set(version, changes=changes)

    def rows(response: dict[str, Any]) -> list[dict[str, Any]]:
        if version == V16:  # the status is the whole answer
            return []
        return [
            {**result, "value": value, "readonly": False}
            for result in payloads.configuration_results(version, changes, [response])
        ]

    return _send_call(
        origin,
        station,
        "station.configuration_change",
        call,
        permission="stations.configure",
        rows=rows,
    )


def session_remote_start(
    *, origin: Origin, station: Station, evse_id: int, id_token: str
) -> CommandOutcome:
    from apps.ocpp.commands import CommandError, remote_start

    _check(origin, "stations.command", station)
    request = {"evse_id": evse_id, "id_token": id_token}
    try:
        result = remote_start(station=station, evse_id=evse_id, id_token=id_token)
    except CommandError as error:
        outcome = CommandOutcome(
            action="RemoteStart",
            request=request,
            ok=False,
            status=type(error).__name__,
            message=str(error),
        )
    else:
        response = {
            "status": result.status,
            "session_id": result.session_id,
            "transaction_id": result.transaction_id,
        }
        if result.session_id:
            message = _("The station accepted; session %(id)s started.") % {"id": result.session_id}
        else:
            message = _describe(result.status, response)
        outcome = CommandOutcome(
            action="RemoteStart",
            request=request,
            ok=result.status == "Accepted",
            status=result.status,
            message=message,
            response=response,
            session_id=result.session_id,
        )
    _audit(origin=origin, audit_action="session.remote_start", station=station, outcome=outcome)
    return outcome


def session_remote_stop(*, origin: Origin, session) -> CommandOutcome:
    from apps.ocpp.commands import CommandError, remote_stop

    station = session.station
    _check(origin, "stations.command", station)
    request = {"session_id": session.pk, "transaction_id": session.transaction_id}
    try:
        status = remote_stop(session=session)
    except CommandError as error:
        outcome = CommandOutcome(
            action="RemoteStop",
            request=request,
            ok=False,
            status=type(error).__name__,
            message=str(error),
        )
    else:
        outcome = CommandOutcome(
            action="RemoteStop",
            request=request,
            ok=status == "Accepted",
            status=status,
            message=_describe(status, {"status": status}),
            response={"status": status},
            session_id=session.pk,
        )
    _audit(origin=origin, audit_action="session.remote_stop", station=station, outcome=outcome)
    return outcome
