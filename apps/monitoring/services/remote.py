"""Remote control of a station: one service per command, the same for the portal and the API.

Each service checks that the actor may command the station's site, translates the command
into the station's OCPP version, sends it through ``apps.ocpp.commands`` (which reaches the
station whichever server process holds its socket), writes one audit entry whatever happens,
and returns the station's answer as a ``CommandOutcome``.  Errors (offline, timeout, rejected)
are answers too: they are returned, not raised, so every caller shows and audits them the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from apps.core.scoping import Actor
from apps.stations.choices import OcppVersion
from apps.stations.models import Station

V16, V201 = OcppVersion.V16.value, OcppVersion.V201.value

# What the portal offers, per version (the schemas allow these values).
RESET_TYPES = {V16: ("Soft", "Hard"), V201: ("Immediate", "OnIdle")}
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
# 2.0.1 has no "read everything" request that answers at once: these are read by default.
DEFAULT_VARIABLES = (
    ("OCPPCommCtrlr", "HeartbeatInterval"),
    ("SampledDataCtrlr", "TxUpdatedInterval"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("AuthCtrlr", "AuthorizeRemoteStart"),
    ("AuthCtrlr", "LocalPreAuthorize"),
    ("TxCtrlr", "EVConnectionTimeOut"),
    ("TxCtrlr", "StopTxOnEVSideDisconnect"),
)
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


def _send(
    *,
    origin: Origin,
    station: Station,
    permission: str,
    audit_action: str,
    action: str,
    payload: dict[str, Any],
    rows=None,
) -> CommandOutcome:
    from apps.ocpp.commands import CommandError, station_call

    _check(origin, permission, station)
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


# --- Commands ----------------------------------------------------------------------------
def station_reset(*, origin: Origin, station: Station, reset_type: str = "") -> CommandOutcome:
    version = _version(station)
    reset_type = reset_type or RESET_TYPES[version][0]
    return _send(
        origin=origin,
        station=station,
        permission="stations.command",
        audit_action="station.reset",
        action="Reset",
        payload={"type": reset_type},
    )


def station_unlock(
    *, origin: Origin, station: Station, evse_id: int, connector_id: int = 1
) -> CommandOutcome:
    if _version(station) == V16:
        payload: dict[str, Any] = {"connectorId": evse_id}
    else:
        payload = {"evseId": evse_id, "connectorId": connector_id}
    return _send(
        origin=origin,
        station=station,
        permission="stations.command",
        audit_action="station.unlock",
        action="UnlockConnector",
        payload=payload,
    )


def station_change_availability(
    *, origin: Origin, station: Station, evse_id: int, operative: bool
) -> CommandOutcome:
    """``evse_id`` 0 is the whole station."""
    state = "Operative" if operative else "Inoperative"
    if _version(station) == V16:
        payload: dict[str, Any] = {"connectorId": evse_id, "type": state}
    else:
        payload = {"operationalStatus": state}
        if evse_id:
            payload["evse"] = {"id": evse_id}
    return _send(
        origin=origin,
        station=station,
        permission="stations.command",
        audit_action="station.availability",
        action="ChangeAvailability",
        payload=payload,
    )


def station_trigger_message(
    *, origin: Origin, station: Station, message: str, evse_id: int | None = None
) -> CommandOutcome:
    payload: dict[str, Any] = {"requestedMessage": message}
    if evse_id:
        if _version(station) == V16:
            payload["connectorId"] = evse_id
        else:
            payload["evse"] = {"id": evse_id}
    return _send(
        origin=origin,
        station=station,
        permission="stations.command",
        audit_action="station.trigger_message",
        action="TriggerMessage",
        payload=payload,
    )


def _configuration_rows(response: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {
            "key": item.get("key", ""),
            "value": item.get("value", ""),
            "readonly": bool(item.get("readonly")),
            "status": "",
        }
        for item in response.get("configurationKey") or []
    ]
    rows += [
        {"key": key, "value": "", "readonly": True, "status": "UnknownKey"}
        for key in response.get("unknownKey") or []
    ]
    return sorted(rows, key=lambda row: row["key"].lower())


def _variable_rows(response: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in response.get("getVariableResult") or response.get("setVariableResult") or []:
        component = (item.get("component") or {}).get("name", "")
        variable = (item.get("variable") or {}).get("name", "")
        rows.append(
            {
                "key": f"{component}.{variable}",
                "value": item.get("attributeValue", ""),
                "readonly": False,
                "status": item.get("attributeStatus", ""),
            }
        )
    return rows


def _variable_ref(key: str) -> dict[str, Any]:
    component, _, variable = key.strip().partition(".")
    if not variable:
        raise ValueError(key)
    return {"component": {"name": component}, "variable": {"name": variable}}


def station_configuration_read(
    *, origin: Origin, station: Station, keys: list[str] | None = None
) -> CommandOutcome:
    """1.6 GetConfiguration (all keys when none are named); 2.0.1 GetVariables of
    ``Component.Variable`` names (a useful default set when none are named)."""
    keys = [key.strip() for key in keys or [] if key.strip()]
    if _version(station) == V16:
        payload: dict[str, Any] = {"key": keys} if keys else {}
        return _send(
            origin=origin,
            station=station,
            permission="stations.configure",
            audit_action="station.configuration_read",
            action="GetConfiguration",
            payload=payload,
            rows=_configuration_rows,
        )
    names = keys or [f"{c}.{v}" for c, v in DEFAULT_VARIABLES]
    payload = {"getVariableData": [_variable_ref(name) for name in names]}
    return _send(
        origin=origin,
        station=station,
        permission="stations.configure",
        audit_action="station.configuration_read",
        action="GetVariables",
        payload=payload,
        rows=_variable_rows,
    )


def station_configuration_change(
    *, origin: Origin, station: Station, key: str, value: str
) -> CommandOutcome:
    """1.6 ChangeConfiguration; 2.0.1 SetVariables (``key`` is ``Component.Variable``)."""
    if _version(station) == V16:
        return _send(
            origin=origin,
            station=station,
            permission="stations.configure",
            audit_action="station.configuration_change",
            action="ChangeConfiguration",
            payload={"key": key, "value": value},
        )
    payload = {"setVariableData": [{**_variable_ref(key), "attributeValue": value}]}

    def rows(response: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**row, "value": value} for row in _variable_rows(response)]

    outcome = _send(
        origin=origin,
        station=station,
        permission="stations.configure",
        audit_action="station.configuration_change",
        action="SetVariables",
        payload=payload,
        rows=rows,
    )
    return outcome


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
