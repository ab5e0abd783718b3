"""Commands to stations, from any process: views, API, Celery tasks, other apps.

A command goes to the station's channel-layer group; whichever ASGI process holds the
station's websocket acknowledges at once (so a station nobody holds is reported offline in
about a second, not after the full timeout), sends the CALL when the connection's previous
CALL has been answered (one outstanding CALL per connection), and replies with the station's
answer.  ``station_call`` is the sync entry point; ``station_call_async`` the async one.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

ACK_TIMEOUT = 3.0


class CommandError(Exception):
    """A command could not be carried out; ``str()`` is a message for people."""


class StationOffline(CommandError):
    pass


class CommandTimeout(CommandError):
    pass


class CommandRejected(CommandError):
    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(f"The station answered {code}: {description}".strip(": "))
        self.code, self.description = code, description


class InvalidPayload(CommandError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class RemoteStartResult:
    status: str
    session_id: int | None = None
    transaction_id: str | None = None


def station_group(schema_name: str, station_id: int) -> str:
    return f"ocpp.{schema_name}.{station_id}"


def validate_action_payload(version: str, action: str, payload: dict[str, Any]) -> None:
    """Check a CSMS → station payload against the version's JSON schema before sending."""
    from jsonschema import Draft4Validator
    from ocpp.messages import MessageType, get_validator

    if version not in ("1.6", "2.0.1"):
        raise InvalidPayload([{"path": "", "message": f"Unknown OCPP version {version!r}"}])
    if not isinstance(payload, dict):
        raise InvalidPayload([{"path": "", "message": "The payload must be a JSON object"}])
    try:
        validator = get_validator(MessageType.Call, action, version)
    except (OSError, ValueError):
        raise InvalidPayload(
            [{"path": "action", "message": f"{action} is not an OCPP {version} action"}]
        ) from None
    schema_validator = Draft4Validator(validator.schema)
    if version == "1.6" and action in ("SetChargingProfile", "RemoteStartTransaction"):
        # These schemas use multipleOf 0.1 and are loaded with Decimal (see apps.ocpp.apps).
        payload = json.loads(json.dumps(payload), parse_float=Decimal)
    errors = [
        {"path": "/".join(str(p) for p in error.absolute_path), "message": error.message}
        for error in sorted(schema_validator.iter_errors(payload), key=lambda e: list(e.path))
    ]
    if errors:
        raise InvalidPayload(errors)


async def station_call_async(
    *,
    schema_name: str,
    station_id: int,
    action: str,
    payload: dict[str, Any],
    timeout: float | None = None,
    wait_for_session: dict | None = None,
) -> dict[str, Any]:
    layer = get_channel_layer()
    timeout = timeout or settings.OCPP_RESPONSE_TIMEOUT
    reply_to = await layer.new_channel("ocpp.reply.")
    try:
        await layer.group_send(
            station_group(schema_name, station_id),
            {
                "type": "ocpp.command",
                "action": action,
                "payload": payload,
                "reply_to": reply_to,
                "timeout": timeout,
                "wait_for_session": wait_for_session,
            },
        )
        try:
            first = await asyncio.wait_for(layer.receive(reply_to), ACK_TIMEOUT)
        except TimeoutError:
            raise StationOffline("The station is not connected.") from None
        reply = first
        if first["type"] == "ocpp.ack":
            extra = float(wait_for_session.get("timeout", 30)) if wait_for_session else 0
            try:
                reply = await asyncio.wait_for(layer.receive(reply_to), timeout + extra + 5)
            except TimeoutError:
                raise CommandTimeout("The station did not answer in time.") from None
    finally:
        await _release(layer, reply_to)
    if reply.get("ok"):
        if wait_for_session is not None:
            return {**reply["payload"], "_session": reply.get("session")}
        return reply["payload"]
    error = reply.get("error")
    if error == "timeout":
        raise CommandTimeout(f"The station did not answer {action} within {timeout:g} s.")
    if error == "rejected":
        raise CommandRejected(reply.get("code", "GenericError"), reply.get("description", ""))
    if error == "invalid":
        raise InvalidPayload([{"path": "", "message": reply.get("description", "")}])
    raise CommandError(reply.get("description") or "The command failed.")


async def _release(layer, channel: str) -> None:
    """Unsubscribe the reply channel (the pub/sub layer does so when a receive is cancelled)."""
    try:
        await asyncio.wait_for(layer.receive(channel), 0.01)
    except (TimeoutError, asyncio.CancelledError):
        pass


def _version_of(station) -> str:
    if not station.ocpp_version:
        raise StationOffline("The station has never connected.")
    return station.ocpp_version


def station_call(
    station,
    action: str,
    payload: dict[str, Any],
    *,
    timeout: float | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Send ``action`` to ``station`` (current tenant) and return its answer's payload."""
    version = _version_of(station)
    if validate and not station.lax_validation:
        validate_action_payload(version, action, payload)
    if not station.is_online:
        raise StationOffline("The station is offline.")
    return async_to_sync(station_call_async)(
        schema_name=connection.schema_name,
        station_id=station.pk,
        action=action,
        payload=payload,
        timeout=timeout,
    )


def remote_start(
    *,
    station,
    evse_id: int,
    id_token: str,
    token_type: str = "Central",
    timeout: float | None = None,
    wait_for_session: float = 30.0,
) -> RemoteStartResult:
    """Ask the station to start; once it reports the transaction, return its session."""
    version = _version_of(station)
    if version == "1.6":
        action = "RemoteStartTransaction"
        payload: dict[str, Any] = {"connectorId": evse_id, "idTag": id_token}
        expect = {"evse_id": evse_id, "id_token": id_token}
    else:
        remote_start_id = secrets.randbelow(2**31 - 1) + 1
        action = "RequestStartTransaction"
        payload = {
            "evseId": evse_id,
            "remoteStartId": remote_start_id,
            "idToken": {"idToken": id_token, "type": token_type},
        }
        expect = {"remote_start_id": remote_start_id}
    validate_action_payload(version, action, payload)
    if not station.is_online:
        raise StationOffline("The station is offline.")
    answer = async_to_sync(station_call_async)(
        schema_name=connection.schema_name,
        station_id=station.pk,
        action=action,
        payload=payload,
        timeout=timeout,
        wait_for_session={**expect, "timeout": wait_for_session},
    )
    session = answer.get("_session") or {}
    return RemoteStartResult(
        status=answer.get("status", "Rejected"),
        session_id=session.get("session_id"),
        transaction_id=session.get("transaction_id"),
    )


def remote_stop(*, session, timeout: float | None = None) -> str:
    station = session.station
    if _version_of(station) == "1.6":
        answer = station_call(
            station,
            "RemoteStopTransaction",
            {"transactionId": int(session.transaction_id)},
            timeout=timeout,
        )
    else:
        answer = station_call(
            station,
            "RequestStopTransaction",
            {"transactionId": session.transaction_id},
            timeout=timeout,
        )
    return answer.get("status", "Rejected")
