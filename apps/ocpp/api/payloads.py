"""The API's commands in each OCPP version's words, and the stations' answers in one shape.

The API speaks one vocabulary (reset soft/hard, a port number, configuration keys); a 1.6
station gets ``Reset{type: Soft}``, a 2.0.1 station ``Reset{type: OnIdle}``.  Configuration keys
are 1.6 key names, or for 2.0.1 ``Component/Variable`` (``Component/Variable/Instance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

V16, V201 = "1.6", "2.0.1"


@dataclass(frozen=True)
class Call:
    action: str
    payload: dict[str, Any]


def reset(version: str, *, hard: bool) -> Call:
    if version == V16:
        return Call("Reset", {"type": "Hard" if hard else "Soft"})
    return Call("Reset", {"type": "Immediate" if hard else "OnIdle"})


def unlock(version: str, *, evse_id: int, connector_id: int = 1) -> Call:
    if version == V16:
        return Call("UnlockConnector", {"connectorId": evse_id})
    return Call("UnlockConnector", {"evseId": evse_id, "connectorId": connector_id})


def availability(version: str, *, operative: bool, evse_id: int | None) -> Call:
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
        payload["connectorId" if version == V16 else "evse"] = (
            evse_id if version == V16 else {"id": evse_id}
        )
    return Call("TriggerMessage", payload)


# --- Configuration (1.6) and variables (2.0.1) -------------------------------------------------
class BadKey(ValueError):
    pass


def parse_variable(key: str, evse_id: int | None = None) -> dict[str, Any]:
    """``Component/Variable[/Instance]`` → a 2.0.1 component/variable pair."""
    parts = key.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise BadKey(f"{key!r}: use Component/Variable or Component/Variable/Instance")
    component: dict[str, Any] = {"name": parts[0]}
    if evse_id:
        component["evse"] = {"id": evse_id}
    variable: dict[str, Any] = {"name": parts[1]}
    if len(parts) == 3:
        variable["instance"] = parts[2]
    return {"component": component, "variable": variable}


def key_of(pair: dict[str, Any]) -> str:
    parts = [pair["component"]["name"], pair["variable"]["name"]]
    if pair["variable"].get("instance"):
        parts.append(pair["variable"]["instance"])
    return "/".join(parts)


def configuration_get(version: str, *, keys: list[str]) -> Call:
    if version == V16:
        return Call("GetConfiguration", {"key": keys} if keys else {})
    if not keys:
        raise BadKey("OCPP 2.0.1 stations are read variable by variable: name at least one")
    return Call("GetVariables", {"getVariableData": [parse_variable(key) for key in keys]})


def configuration_values(version: str, answer: dict[str, Any]) -> dict[str, Any]:
    """``{"values": [{key, value, readonly, status}], "unknown": [key...]}``"""
    if version == V16:
        values = [
            {
                "key": item.get("key"),
                "value": item.get("value"),
                "readonly": item.get("readonly"),
                "status": "Accepted",
            }
            for item in answer.get("configurationKey", []) or []
        ]
        return {"values": values, "unknown": list(answer.get("unknownKey", []) or [])}
    values, unknown = [], []
    for item in answer.get("getVariableResult", []) or []:
        key = key_of(item)
        status = item.get("attributeStatus")
        if status in ("UnknownComponent", "UnknownVariable"):
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
    return {"values": values, "unknown": unknown}


def configuration_set(version: str, *, changes: list[dict[str, Any]]) -> list[Call]:
    """1.6 changes one key per ChangeConfiguration; 2.0.1 sets them all in one SetVariables."""
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
    results = answers[0].get("setVariableResult", []) if answers else []
    return [{"key": key_of(item), "status": item.get("attributeStatus")} for item in results]
