"""Station commands in each OCPP version's words, and the stations' answers in one shape.

The one place that knows how a command is spelt in 1.6 and in 2.0.1: the command service
(``apps.ocpp.commands``, which the REST API and the portal's remote control both call) builds
every payload here, and callers read the answers here.  Pure functions: nothing is sent.

Configuration keys are 1.6 key names, or for 2.0.1 ``Component/Variable`` (or
``Component/Variable/Instance``), the spelling docs/api.md documents.  ``Component.Variable``
(the portal's former spelling) is accepted on input too, and an answer names each key the way
the request named it, so a caller can match the two.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from apps.stations.choices import OcppVersion

V16, V201 = OcppVersion.V16.value, OcppVersion.V201.value

# Each version's words for a soft and a hard reset.
RESET_TYPES: dict[str, dict[str, str]] = {
    V16: {"soft": "Soft", "hard": "Hard"},
    V201: {"soft": "OnIdle", "hard": "Immediate"},
}
KEY_FORMAT = "Component/Variable or Component/Variable/Instance"
# 2.0.1 has no "read everything" request that answers at once: callers that want a useful
# default (the portal) read these.
DEFAULT_VARIABLES = (
    "OCPPCommCtrlr/HeartbeatInterval",
    "SampledDataCtrlr/TxUpdatedInterval",
    "SampledDataCtrlr/TxUpdatedMeasurands",
    "AuthCtrlr/AuthorizeRemoteStart",
    "AuthCtrlr/LocalPreAuthorize",
    "TxCtrlr/EVConnectionTimeOut",
    "TxCtrlr/StopTxOnEVSideDisconnect",
)
UNKNOWN_VARIABLE = ("UnknownComponent", "UnknownVariable")


@dataclass(frozen=True)
class Call:
    action: str
    payload: dict[str, Any]


class BadKey(ValueError):
    """A 2.0.1 configuration key that names no component and variable."""


# --- Commands --------------------------------------------------------------------------------
def reset(version: str, *, hard: bool) -> Call:
    return Call("Reset", {"type": RESET_TYPES[_known(version)]["hard" if hard else "soft"]})


def unlock(version: str, *, evse_id: int, connector_id: int = 1) -> Call:
    if version == V16:
        return Call("UnlockConnector", {"connectorId": evse_id})
    return Call("UnlockConnector", {"evseId": evse_id, "connectorId": connector_id})


def availability(version: str, *, operative: bool, evse_id: int | None) -> Call:
    """``evse_id`` None (or 0) is the whole station."""
    kind = "Operative" if operative else "Inoperative"
    if version == V16:
        return Call("ChangeAvailability", {"connectorId": evse_id or 0, "type": kind})
    payload: dict[str, Any] = {"operationalStatus": kind}
    if evse_id:
        payload["evse"] = {"id": evse_id}
    return Call("ChangeAvailability", payload)


def trigger(version: str, *, message: str, evse_id: int | None) -> Call:
    payload: dict[str, Any] = {"requestedMessage": message}
    if evse_id:
        if version == V16:
            payload["connectorId"] = evse_id
        else:
            payload["evse"] = {"id": evse_id}
    return Call("TriggerMessage", payload)


def remote_start(
    version: str, *, evse_id: int, id_token: str, token_type: str, remote_start_id: int
) -> Call:
    """1.6 names the token by its idTag; 2.0.1 also says its type and carries the
    ``remoteStartId`` the station repeats in the transaction it starts."""
    if version == V16:
        return Call("RemoteStartTransaction", {"connectorId": evse_id, "idTag": id_token})
    return Call(
        "RequestStartTransaction",
        {
            "evseId": evse_id,
            "remoteStartId": remote_start_id,
            "idToken": {"idToken": id_token, "type": token_type},
        },
    )


def remote_stop(version: str, *, transaction_id: str) -> Call:
    """1.6 transaction ids are the CSMS's integers; 2.0.1 ids are the station's strings."""
    if version == V16:
        return Call("RemoteStopTransaction", {"transactionId": int(transaction_id)})
    return Call("RequestStopTransaction", {"transactionId": transaction_id})


def reserve_now(
    version: str,
    *,
    evse_id: int,
    reservation_id: int,
    expires_at: str,
    id_token: str,
    token_type: str = "ISO14443",
) -> Call:
    """Hold a port for a token until ``expires_at`` (ISO 8601 UTC).  1.6 names the connector
    (our port number); 2.0.1 the EVSE and the token's type."""
    if version == V16:
        return Call(
            "ReserveNow",
            {
                "connectorId": evse_id,
                "expiryDate": expires_at,
                "idTag": id_token,
                "reservationId": reservation_id,
            },
        )
    return Call(
        "ReserveNow",
        {
            "id": reservation_id,
            "expiryDateTime": expires_at,
            "idToken": {"idToken": id_token, "type": token_type or "ISO14443"},
            "evseId": evse_id,
        },
    )


def cancel_reservation(version: str, *, reservation_id: int) -> Call:
    _known(version)
    return Call("CancelReservation", {"reservationId": reservation_id})


def update_firmware(
    version: str,
    *,
    location: str,
    retrieve_at: str,
    request_id: int,
    retries: int | None = None,
    retry_interval: int | None = None,
    signature: str = "",
    signing_certificate: str = "",
    install_at: str | None = None,
) -> Call:
    """1.6 UpdateFirmware (no request id, no signature: integrity is the image's checksum),
    or for a signed image the 1.6 security whitepaper's SignedUpdateFirmware (the 2.0.1
    shape: request id, signature, signing certificate); 2.0.1 UpdateFirmware with the request
    id the station repeats in its status reports and, for a signed image, its signature and
    signing certificate.  Times are ISO 8601 UTC."""
    if version == V16 and not signature:
        payload: dict[str, Any] = {"location": location, "retrieveDate": retrieve_at}
        if retries is not None:
            payload["retries"] = retries
        if retry_interval is not None:
            payload["retryInterval"] = retry_interval
        return Call("UpdateFirmware", payload)
    firmware: dict[str, Any] = {"location": location, "retrieveDateTime": retrieve_at}
    if install_at:
        firmware["installDateTime"] = install_at
    if signature:
        firmware["signature"] = signature
        firmware["signingCertificate"] = signing_certificate
    payload = {"requestId": request_id, "firmware": firmware}
    if retries is not None:
        payload["retries"] = retries
    if retry_interval is not None:
        payload["retryInterval"] = retry_interval
    return Call("SignedUpdateFirmware" if version == V16 else "UpdateFirmware", payload)


def data_transfer(version: str, *, vendor_id: str, message_id: str, data: str) -> Call:
    """The same in both versions (``data`` is a string: vendors put JSON text in it)."""
    _known(version)
    return Call("DataTransfer", {"vendorId": vendor_id, "messageId": message_id, "data": data})


def display_message(
    version: str,
    *,
    message_id: int,
    text: str,
    priority: str = "NormalCycle",
    language: str = "",
    start: str | None = None,
    end: str | None = None,
) -> Call:
    """2.0.1 SetDisplayMessage (1.6 has none: callers use a DataTransfer there)."""
    if version != V201:
        raise ValueError("SetDisplayMessage is an OCPP 2.0.1 message")
    content: dict[str, Any] = {"format": "UTF8", "content": text[:512]}
    if language:
        content["language"] = language[:8]
    message: dict[str, Any] = {"id": message_id, "priority": priority, "message": content}
    if start:
        message["startDateTime"] = start
    if end:
        message["endDateTime"] = end
    return Call("SetDisplayMessage", {"message": message})


@dataclass(frozen=True)
class LocalListEntry:
    """One token of a station's local authorisation list; ``status`` None removes it (a
    differential update)."""

    uid: str
    status: str | None = "Accepted"
    expiry: str | None = None  # ISO 8601 UTC
    group: str = ""  # parentIdTag (1.6) / groupIdToken (2.0.1)
    token_type: str = "ISO14443"


def send_local_list(
    version: str, *, list_version: int, full: bool, entries: Sequence[LocalListEntry]
) -> Call:
    """SendLocalList (1.6 D / 2.0.1 D01): Full replaces the list, Differential adds, changes
    and (status None) removes entries."""
    update_type = "Full" if full else "Differential"
    items: list[dict[str, Any]] = []
    for entry in entries:
        if _known(version) == V16:
            item: dict[str, Any] = {"idTag": entry.uid}
            if entry.status is not None:
                info: dict[str, Any] = {"status": entry.status}
                if entry.expiry:
                    info["expiryDate"] = entry.expiry
                if entry.group:
                    info["parentIdTag"] = entry.group
                item["idTagInfo"] = info
        else:
            item = {"idToken": {"idToken": entry.uid, "type": entry.token_type}}
            if entry.status is not None:
                info = {"status": entry.status}
                if entry.expiry:
                    info["cacheExpiryDateTime"] = entry.expiry
                if entry.group:
                    info["groupIdToken"] = {"idToken": entry.group, "type": "Central"}
                item["idTokenInfo"] = info
        items.append(item)
    if version == V16:
        payload: dict[str, Any] = {"listVersion": list_version, "updateType": update_type}
    else:
        payload = {"versionNumber": list_version, "updateType": update_type}
    if items:
        payload["localAuthorizationList"] = items
    return Call("SendLocalList", payload)


# --- Smart charging (1.6 §5.16/§7, 2.0.1 K) ---------------------------------------------------
# The portal's purposes: a cap on the whole station, or the default for every new session.
PROFILE_PURPOSES: dict[str, dict[str, str]] = {
    V16: {"station_max": "ChargePointMaxProfile", "tx_default": "TxDefaultProfile"},
    V201: {"station_max": "ChargingStationMaxProfile", "tx_default": "TxDefaultProfile"},
}
RATE_UNITS = ("A", "W")


def _limit(value: float) -> float:
    """Schedule limits allow one decimal (1.6 ``multipleOf 0.1``): round down, never up."""
    return math.floor(float(value) * 10 + 1e-9) / 10


def charging_profile_set(
    version: str,
    *,
    profile_id: int,
    purpose: str,
    evse_id: int,
    stack_level: int,
    unit: str,
    periods: Sequence[tuple[int, float]],
    start: str,
    schedule_id: int = 1,
) -> Call:
    """SetChargingProfile of an absolute schedule starting at ``start`` (ISO 8601 UTC) with
    ``periods`` of (seconds from the start, limit in ``unit``).  ``purpose``: "station_max"
    (connector/EVSE 0 only) or "tx_default"."""
    words = PROFILE_PURPOSES[_known(version)]
    if purpose not in words:
        raise ValueError(f"Not a charging profile purpose: {purpose!r}")
    if unit not in RATE_UNITS:
        raise ValueError(f"Not a charging rate unit: {unit!r}")
    if purpose == "station_max" and evse_id:
        raise ValueError("A station maximum applies to the whole station (EVSE 0)")
    rows = [
        {"startPeriod": int(offset), "limit": _limit(limit)}
        for offset, limit in sorted(periods, key=lambda period: period[0])
    ]
    if not rows or rows[0]["startPeriod"] != 0:
        raise ValueError("The first period starts at 0")
    schedule: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": rows}
    profile: dict[str, Any] = {
        "stackLevel": stack_level,
        "chargingProfilePurpose": words[purpose],
        "chargingProfileKind": "Absolute",
    }
    if version == V16:
        schedule["startSchedule"] = start
        profile = {"chargingProfileId": profile_id, **profile, "chargingSchedule": schedule}
        return Call("SetChargingProfile", {"connectorId": evse_id, "csChargingProfiles": profile})
    schedule = {"id": schedule_id, "startSchedule": start, **schedule}
    profile = {"id": profile_id, **profile, "chargingSchedule": [schedule]}
    return Call("SetChargingProfile", {"evseId": evse_id, "chargingProfile": profile})


def charging_profile_clear(
    version: str,
    *,
    profile_id: int | None = None,
    purpose: str | None = None,
    evse_id: int | None = None,
    stack_level: int | None = None,
) -> Call:
    """ClearChargingProfile by id, or by criteria (port, purpose, stack level); none clears
    every profile the CSMS set."""
    words = PROFILE_PURPOSES[_known(version)]
    purpose_word = words[purpose] if purpose else None
    if version == V16:
        payload: dict[str, Any] = {}
        if profile_id is not None:
            payload["id"] = profile_id
        if evse_id is not None:
            payload["connectorId"] = evse_id
        if purpose_word:
            payload["chargingProfilePurpose"] = purpose_word
        if stack_level is not None:
            payload["stackLevel"] = stack_level
        return Call("ClearChargingProfile", payload)
    payload = {}
    if profile_id is not None:
        payload["chargingProfileId"] = profile_id
    criteria: dict[str, Any] = {}
    if evse_id is not None:
        criteria["evseId"] = evse_id
    if purpose_word:
        criteria["chargingProfilePurpose"] = purpose_word
    if stack_level is not None:
        criteria["stackLevel"] = stack_level
    if criteria:
        payload["chargingProfileCriteria"] = criteria
    return Call("ClearChargingProfile", payload)


def composite_schedule_get(
    version: str, *, evse_id: int, duration: int, unit: str | None = None
) -> Call:
    """What the station will really apply on a port (0: the station's own consumption) over
    the next ``duration`` seconds."""
    payload: dict[str, Any] = {"duration": duration}
    payload["connectorId" if _known(version) == V16 else "evseId"] = evse_id
    if unit:
        payload["chargingRateUnit"] = unit
    return Call("GetCompositeSchedule", payload)


@dataclass(frozen=True)
class SchedulePeriod:
    starts_at: dt.datetime
    seconds: int  # from the schedule's start
    limit: float
    phases: int | None


@dataclass(frozen=True)
class CompositeSchedule:
    status: str
    unit: str = ""
    starts_at: dt.datetime | None = None
    duration: int | None = None
    periods: list[SchedulePeriod] = field(default_factory=list)


def composite_schedule(version: str, answer: dict[str, Any]) -> CompositeSchedule:
    """A GetCompositeSchedule answer in one shape (1.6 ``chargingSchedule`` beside
    ``scheduleStart``; 2.0.1 ``schedule`` with its own ``scheduleStart``)."""
    status = str(answer.get("status", ""))
    if version == V16:
        schedule = answer.get("chargingSchedule") or {}
        start_text = answer.get("scheduleStart") or schedule.get("startSchedule")
    else:
        schedule = answer.get("schedule") or {}
        start_text = schedule.get("scheduleStart")
    if not schedule:
        return CompositeSchedule(status=status)
    starts_at = _parse_time(start_text)
    periods = []
    for row in schedule.get("chargingSchedulePeriod") or []:
        seconds = int(row.get("startPeriod", 0))
        periods.append(
            SchedulePeriod(
                starts_at=starts_at + dt.timedelta(seconds=seconds) if starts_at else None,
                seconds=seconds,
                limit=float(row.get("limit", 0)),
                phases=row.get("numberPhases"),
            )
        )
    return CompositeSchedule(
        status=status,
        unit=str(schedule.get("chargingRateUnit", "")),
        starts_at=starts_at,
        duration=schedule.get("duration"),
        periods=periods,
    )


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --- Local authorisation list (1.6 §5.15/§5.6, 2.0.1 D) ---------------------------------------
def local_list_version(version: str) -> Call:
    _known(version)
    return Call("GetLocalListVersion", {})


def local_list_version_of(version: str, answer: dict[str, Any]) -> int:
    """The version a GetLocalListVersion answer names (1.6: -1 when the station has no list
    support, 0 when it has no list)."""
    return int(answer.get("listVersion" if version == V16 else "versionNumber", -1))


def clear_cache(version: str) -> Call:
    _known(version)
    return Call("ClearCache", {})


# --- Diagnostics and logs (1.6 GetDiagnostics, 2.0.1 N01 GetLog) ------------------------------
LOG_TYPES = ("DiagnosticsLog", "SecurityLog")


def logs_upload(
    version: str,
    *,
    location: str,
    request_id: int,
    since: str | None = None,
    until: str | None = None,
    log_type: str = "DiagnosticsLog",
    retries: int | None = None,
) -> Call:
    """Ask the station to upload its logs to ``location`` (an FTP/HTTP URL it can reach);
    it reports progress in Diagnostics/LogStatusNotifications."""
    if version == V16:
        payload: dict[str, Any] = {"location": location}
        if since:
            payload["startTime"] = since
        if until:
            payload["stopTime"] = until
        if retries is not None:
            payload["retries"] = retries
        return Call("GetDiagnostics", payload)
    _known(version)
    if log_type not in LOG_TYPES:
        raise ValueError(f"Not a log type: {log_type!r}")
    log: dict[str, Any] = {"remoteLocation": location}
    if since:
        log["oldestTimestamp"] = since
    if until:
        log["latestTimestamp"] = until
    payload = {"logType": log_type, "requestId": request_id, "log": log}
    if retries is not None:
        payload["retries"] = retries
    return Call("GetLog", payload)


# --- Display messages (2.0.1 O) ---------------------------------------------------------------
def display_messages_get(version: str, *, request_id: int) -> Call:
    """The station answers at once, then sends what it shows in NotifyDisplayMessages."""
    if version != V201:
        raise ValueError("GetDisplayMessages is an OCPP 2.0.1 message")
    return Call("GetDisplayMessages", {"requestId": request_id})


def display_message_clear(version: str, *, message_id: int) -> Call:
    if version != V201:
        raise ValueError("ClearDisplayMessage is an OCPP 2.0.1 message")
    return Call("ClearDisplayMessage", {"id": message_id})


# --- The station's own report of its settings (2.0.1 B07) -------------------------------------
def base_report(version: str, *, request_id: int, base: str = "FullInventory") -> Call:
    """2.0.1 GetBaseReport: the station answers, then sends NotifyReport parts (1.6 has no
    report: a GetConfiguration without keys reads everything at once)."""
    if version != V201:
        raise ValueError("GetBaseReport is an OCPP 2.0.1 message")
    return Call("GetBaseReport", {"requestId": request_id, "reportBase": base})


def reported_settings(report_data: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """NotifyReport ``reportData`` (either spelling: stored snake_case or as sent) → one row
    per variable: ``key`` (Component/Variable[/Instance]), its actual ``value``, ``readonly``."""
    rows = []
    for item in report_data:
        key = key_of(item)
        attributes = item.get("variable_attribute") or item.get("variableAttribute") or []
        actual = next(
            (a for a in attributes if a.get("type", "Actual") == "Actual"),
            attributes[0] if attributes else {},
        )
        rows.append(
            {
                "key": key,
                "value": str(actual.get("value", "")),
                "readonly": actual.get("mutability", "ReadWrite") == "ReadOnly",
            }
        )
    return rows


def _known(version: str) -> str:
    if version not in RESET_TYPES:
        raise ValueError(f"Unknown OCPP version {version!r}")
    return version


# --- Configuration (1.6) and variables (2.0.1) -----------------------------------------------
def parse_variable(key: str, evse_id: int | None = None) -> dict[str, Any]:
    """``Component/Variable[/Instance]`` (or ``Component.Variable[.Instance]``) → a 2.0.1
    component/variable pair."""
    text = key.strip()
    parts = [part.strip() for part in text.split("/" if "/" in text else ".")]
    if len(parts) not in (2, 3) or not all(parts):
        raise BadKey(f"{key!r}: write {KEY_FORMAT} (Component.Variable is also accepted)")
    component: dict[str, Any] = {"name": parts[0]}
    if evse_id:
        component["evse"] = {"id": evse_id}
    variable: dict[str, Any] = {"name": parts[1]}
    if len(parts) == 3:
        variable["instance"] = parts[2]
    return {"component": component, "variable": variable}


def key_of(pair: dict[str, Any]) -> str:
    """The documented spelling of a component/variable pair: ``Component/Variable[/Instance]``."""
    component = pair.get("component") or {}
    variable = pair.get("variable") or {}
    parts = [component.get("name", ""), variable.get("name", "")]
    if variable.get("instance"):
        parts.append(variable["instance"])
    return "/".join(parts)


def _spellings(keys: Sequence[str]) -> dict[str, str]:
    """Documented spelling → the caller's own, for the keys a request named."""
    names = {}
    for key in keys:
        try:
            names[key_of(parse_variable(key))] = key.strip()
        except BadKey:
            continue
    return names


def configuration_get(version: str, *, keys: list[str]) -> Call:
    """1.6 GetConfiguration (no keys: all); 2.0.1 GetVariables, which needs at least one."""
    keys = [key.strip() for key in keys if key.strip()]
    if version == V16:
        return Call("GetConfiguration", {"key": keys} if keys else {})
    if not keys:
        raise BadKey("OCPP 2.0.1 stations are read variable by variable: name at least one")
    return Call("GetVariables", {"getVariableData": [parse_variable(key) for key in keys]})


@dataclass(frozen=True)
class ConfigurationValues:
    values: list[dict[str, Any]] = field(default_factory=list)  # key, value, readonly, status
    unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"values": self.values, "unknown": self.unknown}


def configuration_values(
    version: str, answer: dict[str, Any], *, keys: Sequence[str] = ()
) -> ConfigurationValues:
    """A GetConfiguration / GetVariables answer as values and unknown keys; ``keys`` are the
    ones the request named (each answered in the caller's spelling)."""
    if version == V16:
        values = [
            {
                "key": item.get("key"),
                "value": item.get("value"),
                "readonly": item.get("readonly"),
                "status": "Accepted",
            }
            for item in answer.get("configurationKey") or []
        ]
        return ConfigurationValues(values, list(answer.get("unknownKey") or []))
    names = _spellings(keys)
    values, unknown = [], []
    for item in answer.get("getVariableResult") or []:
        key = key_of(item)
        key = names.get(key, key)
        status = item.get("attributeStatus")
        if status in UNKNOWN_VARIABLE:
            unknown.append(key)
            continue
        values.append(
            {
                "key": key,
                "value": item.get("attributeValue"),
                "readonly": None,  # GetVariables does not say; the device model report does
                "status": status,
            }
        )
    return ConfigurationValues(values, unknown)


def configuration_set(version: str, *, changes: list[dict[str, Any]]) -> list[Call]:
    """1.6 changes one key per ChangeConfiguration; 2.0.1 sets them all in one SetVariables.
    ``changes``: ``{"key", "value"}`` and, for an EVSE component in 2.0.1, ``"evse_id"``."""
    if version == V16:
        return [
            Call("ChangeConfiguration", {"key": change["key"], "value": change["value"]})
            for change in changes
        ]
    data = [
        {"attributeValue": change["value"], **parse_variable(change["key"], change.get("evse_id"))}
        for change in changes
    ]
    return [Call("SetVariables", {"setVariableData": data})]


def configuration_results(
    version: str, changes: list[dict[str, Any]], answers: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``[{key, status}]``: Accepted, Rejected, RebootRequired, NotSupported / Unknown..."""
    if version == V16:
        return [
            {"key": change["key"], "status": answer.get("status")}
            for change, answer in zip(changes, answers, strict=True)
        ]
    names = _spellings([change["key"] for change in changes])
    results = merged_answer("SetVariables", answers)["setVariableResult"]
    return [
        {"key": names.get(key_of(item), key_of(item)), "status": item.get("attributeStatus")}
        for item in results
    ]


# --- The station's Basic-auth password ------------------------------------------------------
PASSWORD_KEY_16 = "AuthorizationKey"
PASSWORD_VARIABLE = ("SecurityCtrlr", "BasicAuthPassword")
PASSWORD_TAKEN = {"Accepted", "RebootRequired"}


def password_set(version: str, *, password: str) -> Call:
    if version == V16:
        return Call("ChangeConfiguration", {"key": PASSWORD_KEY_16, "value": password})
    component, variable = PASSWORD_VARIABLE
    return Call(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": password,
                    "component": {"name": component},
                    "variable": {"name": variable},
                }
            ]
        },
    )


def _is_password_item(item: dict[str, Any]) -> bool:
    return (
        (item.get("component") or {}).get("name"),
        (item.get("variable") or {}).get("name"),
    ) == PASSWORD_VARIABLE


def password_changes(version: str, calls: Sequence[Call]) -> dict[int, str]:
    """The calls (by index) that give the station a new password, and the password."""
    found = {}
    for index, call in enumerate(calls):
        if version == V16 and call.action == "ChangeConfiguration":
            if call.payload.get("key") == PASSWORD_KEY_16:
                found[index] = str(call.payload.get("value", ""))
        elif version == V201 and call.action == "SetVariables":
            for item in call.payload.get("setVariableData") or []:
                if _is_password_item(item):
                    found[index] = str(item.get("attributeValue", ""))
    return found


def password_status(version: str, answer: dict[str, Any]) -> str:
    """The station's word on its new password (Accepted, RebootRequired, Rejected...)."""
    if version == V16:
        return str(answer.get("status", ""))
    for item in answer.get("setVariableResult") or []:
        if _is_password_item(item):
            return str(item.get("attributeStatus", ""))
    return ""


def password_accepted(version: str, call: Call, answer: dict[str, Any]) -> bool:
    return password_status(version, answer) in PASSWORD_TAKEN


# --- Batching (2.0.1 B06-B08: ItemsPerMessage / BytesPerMessage) ----------------------------
LIMITED_ACTIONS = ("GetVariables", "SetVariables", "GetReport")
LIMIT_KEYS = tuple(
    f"{variable}/{action}"
    for action in LIMITED_ACTIONS
    for variable in ("ItemsPerMessage", "BytesPerMessage")
)
LIST_FIELD = {
    "GetVariables": "getVariableData",
    "SetVariables": "setVariableData",
    "GetReport": "componentVariable",
}
RESULT_FIELD = {"GetVariables": "getVariableResult", "SetVariables": "setVariableResult"}
_UNIQUE_ID = "x" * 36  # the length of the uuid4 the CSMS gives every CALL


def frame_bytes(action: str, payload: dict[str, Any]) -> int:
    """The size of the CALL frame the station receives (what BytesPerMessage limits)."""
    frame = [2, _UNIQUE_ID, action, payload]
    return len(json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode())


def batched(call: Call, *, items: int | None, max_bytes: int | None) -> list[Call]:
    """``call`` split into calls that each hold at most ``items`` list entries and fit in
    ``max_bytes``, in order (a single entry too big for ``max_bytes`` still goes, alone: the
    station answers it).  GetReport batches get consecutive request ids."""
    field = LIST_FIELD.get(call.action)
    entries = call.payload.get(field) if field else None
    if not entries or not (items or max_bytes):
        return [call]
    groups: list[list[Any]] = [[]]
    for entry in entries:
        candidate = [*groups[-1], entry]
        too_many = items is not None and len(candidate) > items
        too_big = (
            max_bytes is not None
            and frame_bytes(call.action, {**call.payload, field: candidate}) > max_bytes
        )
        if groups[-1] and (too_many or too_big):
            groups.append([entry])
        else:
            groups[-1] = candidate
    calls = []
    for index, group in enumerate(groups):
        payload = {**call.payload, field: group}
        if call.action == "GetReport" and "requestId" in payload:
            payload["requestId"] = payload["requestId"] + index
        calls.append(Call(call.action, payload))
    return calls


def merged_answer(action: str, answers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The answers to a batched GetVariables / SetVariables as if it had been one; for a
    GetReport, Accepted when a batch was (reports follow), else the first batch's status."""
    if action == "GetReport":
        statuses = [answer.get("status") for answer in answers]
        if "Accepted" in statuses:
            return {"status": "Accepted"}
        return dict(answers[0]) if answers else {"status": "EmptyResultSet"}
    field = RESULT_FIELD[action]
    return {field: [result for answer in answers for result in answer.get(field) or []]}


def variable_limits(answer: dict[str, Any]) -> dict[str, int]:
    """``ItemsPerMessage/GetVariables``... from a GetVariables answer that read DeviceDataCtrlr's
    variables (Accepted results of the Actual attribute only)."""
    limits = {}
    for result in answer.get("getVariableResult") or []:
        component = result.get("component") or {}
        variable = result.get("variable") or {}
        if (
            component.get("name") != "DeviceDataCtrlr"
            or result.get("attributeStatus") != "Accepted"
        ):
            continue
        if result.get("attributeType", "Actual") != "Actual":
            continue
        key = f"{variable.get('name')}/{variable.get('instance')}"
        try:
            value = int(str(result.get("attributeValue", "")).strip())
        except ValueError:
            continue
        if key in LIMIT_KEYS and value > 0:
            limits[key] = value
    return limits


def report_limits(report_data: Sequence[dict[str, Any]]) -> dict[str, int]:
    """``ItemsPerMessage/GetVariables``... from a NotifyReport's reportData (the Actual
    values of DeviceDataCtrlr's variables); keys spelt camelCase or snake_case."""
    limits = {}
    for item in report_data or []:
        component = item.get("component") or {}
        variable = item.get("variable") or {}
        if component.get("name") != "DeviceDataCtrlr":
            continue
        key = f"{variable.get('name')}/{variable.get('instance')}"
        if key not in LIMIT_KEYS:
            continue
        attributes = item.get("variableAttribute") or item.get("variable_attribute") or []
        for attribute in attributes:
            if attribute.get("type", "Actual") == "Actual":
                try:
                    value = int(str(attribute.get("value", "")).strip())
                except ValueError:
                    continue
                if value > 0:
                    limits[key] = value
    return limits


def certificate_signed(version: str, *, certificate_chain: str, certificate_type: str) -> Call:
    """2.0.1 A02/A03 (1.6 security whitepaper: no certificateType)."""
    payload: dict[str, Any] = {"certificateChain": certificate_chain}
    if version != V16:
        payload["certificateType"] = certificate_type
    return Call("CertificateSigned", payload)


# --- Certificate management (2.0.1 M03-M05; 1.6 security whitepaper) ---------------------------
# The portal and the API name certificate types in 2.0.1's words; 1.6 has two of them.
CERTIFICATE_TYPES_16 = {
    "CSMSRootCertificate": "CentralSystemRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}
INSTALL_TYPES_201 = (
    "V2GRootCertificate",
    "MORootCertificate",
    "CSMSRootCertificate",
    "ManufacturerRootCertificate",
)
INSTALLED_TYPES_201 = (*INSTALL_TYPES_201, "V2GCertificateChain")


class BadCertificateType(ValueError):
    """A certificate type the station's OCPP version has no word for."""


def certificate_types(version: str, *, install: bool = True) -> tuple[str, ...]:
    """The types (2.0.1 spelling) a station of ``version`` installs (or reports)."""
    if version == V16:
        return tuple(CERTIFICATE_TYPES_16)
    return INSTALL_TYPES_201 if install else INSTALLED_TYPES_201


def _certificate_type(version: str, certificate_type: str, *, install: bool = True) -> str:
    if certificate_type not in certificate_types(version, install=install):
        raise BadCertificateType(certificate_type)
    return CERTIFICATE_TYPES_16[certificate_type] if version == V16 else certificate_type


def certificate_install(version: str, *, certificate_type: str, certificate: str) -> Call:
    return Call(
        "InstallCertificate",
        {
            "certificateType": _certificate_type(version, certificate_type),
            "certificate": certificate,
        },
    )


def certificate_delete(version: str, *, hash_data: dict[str, str]) -> Call:
    """``hash_data``: hash_algorithm, issuer_name_hash, issuer_key_hash, serial_number."""
    return Call(
        "DeleteCertificate",
        {
            "certificateHashData": {
                "hashAlgorithm": hash_data["hash_algorithm"],
                "issuerNameHash": hash_data["issuer_name_hash"],
                "issuerKeyHash": hash_data["issuer_key_hash"],
                "serialNumber": hash_data["serial_number"],
            }
        },
    )


def installed_certificate_ids(version: str, *, certificate_types: Sequence[str]) -> list[Call]:
    """2.0.1: one request (no type: every type); 1.6 asks one type per request."""
    if version == V16:
        return [
            Call(
                "GetInstalledCertificateIds",
                {"certificateType": _certificate_type(version, kind)},
            )
            for kind in (certificate_types or CERTIFICATE_TYPES_16)
        ]
    payload: dict[str, Any] = {}
    if certificate_types:
        payload["certificateType"] = [
            _certificate_type(version, kind, install=False) for kind in certificate_types
        ]
    return [Call("GetInstalledCertificateIds", payload)]


def _hash_row(data: dict[str, Any], certificate_type: str, parent: str = "") -> dict[str, str]:
    return {
        "certificate_type": certificate_type,
        "hash_algorithm": str(data.get("hashAlgorithm", "")),
        "issuer_name_hash": str(data.get("issuerNameHash", "")).lower(),
        "issuer_key_hash": str(data.get("issuerKeyHash", "")).lower(),
        "serial_number": str(data.get("serialNumber", "")).lower(),
        "parent_serial_number": parent,
    }


def installed_certificate_rows(
    version: str, calls: Sequence[Call], answers: Sequence[dict[str, Any]]
) -> list[dict[str, str]]:
    """The installed certificates the answers name, one row each (2.0.1 type names; a
    V2GCertificateChain's sub-CAs carry their leaf's serial as ``parent_serial_number``)."""
    rows: list[dict[str, str]] = []
    reverse16 = {v: k for k, v in CERTIFICATE_TYPES_16.items()}
    for call, answer in zip(calls, answers, strict=False):
        if not isinstance(answer, dict):
            continue
        if version == V16:
            kind = reverse16.get(call.payload.get("certificateType", ""), "")
            rows += [_hash_row(item, kind) for item in answer.get("certificateHashData") or []]
            continue
        for chain in answer.get("certificateHashDataChain") or []:
            kind = str(chain.get("certificateType", ""))
            head = _hash_row(chain.get("certificateHashData") or {}, kind)
            rows.append(head)
            rows += [
                _hash_row(child, kind, parent=head["serial_number"])
                for child in chain.get("childCertificateHashData") or []
            ]
    return rows
