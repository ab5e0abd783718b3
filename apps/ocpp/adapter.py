"""What both version adapters share: outbound calls with raw payloads, lax mode, and the
registration guard."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import uuid
from typing import Any

from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict
from ocpp.charge_point import snake_to_camel_case as _snake_to_camel
from ocpp.exceptions import NotImplementedError as OcppNotImplementedError
from ocpp.exceptions import OCPPError, SecurityError
from ocpp.messages import Call, MessageType, validate_payload

from . import validation
from .link import StationLink

logger = logging.getLogger(__name__)
# Boot Pending (2.0.1 B02, 1.6 §4.2): the station sends nothing but BootNotification unless
# the CSMS asks; what it asks for (a report: B07/B08 bring NotifyReport; a TriggerMessage
# brings the triggered message) is answered, anything else gets SecurityError (B03 wording).
ALLOWED_BEFORE_ACCEPTED = {"BootNotification"}
ANSWERS_TO_CSMS_REQUESTS = {"NotifyReport"}
# What the CSMS may send while the boot is not Accepted (B02.FR.01: B05-B08, and a
# TriggerMessage for the BootNotification that brings it to Accepted; 1.6: configuration).
SENDABLE_WHILE_PENDING = {
    "GetVariables",
    "SetVariables",
    "GetBaseReport",
    "GetReport",
    "TriggerMessage",
    "GetConfiguration",
    "ChangeConfiguration",
}
# TriggerMessage's requestedMessage → the CALL the station then sends.
TRIGGERED_ACTION = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
    "DiagnosticsStatusNotification": "DiagnosticsStatusNotification",
}


@functools.cache
def _snake_key(key: str) -> str:
    """The library's camelCase → snake_case rule, applied once per distinct key."""
    return next(iter(camel_to_snake_case({key: None})))


@functools.cache
def _camel_key(key: str) -> str:
    return next(iter(_snake_to_camel({key: None})))


def to_snake(data: Any) -> Any:
    if isinstance(data, dict):
        return {_snake_key(key): to_snake(value) for key, value in data.items()}
    if isinstance(data, list):
        return [to_snake(value) for value in data]
    return data


def to_camel(data: Any) -> Any:
    if isinstance(data, dict):
        return {_camel_key(key): to_camel(value) for key, value in data.items()}
    if isinstance(data, list):
        return [to_camel(value) for value in data]
    return data


@functools.cache
def _wants_unique_id(function) -> bool:
    return "call_unique_id" in inspect.signature(function).parameters


def sendable_while_not_accepted(status: str, action: str, payload: dict[str, Any]) -> bool:
    """While the boot is Pending only B02's messages go out; while Rejected only the
    TriggerMessage that asks for a new BootNotification (B03)."""
    if status == "Pending" and action in SENDABLE_WHILE_PENDING:
        return True
    return action == "TriggerMessage" and payload.get("requestedMessage") == "BootNotification"


class StationCallError(Exception):
    """The station answered a CALL with a CallError."""

    def __init__(self, code: str, description: str, details: Any = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.details = code, description, details


NOT_SENT_CODE = "StationNotAccepted"


class StationNotAccepted(StationCallError):
    """A CALL the CSMS may not send while the station's boot is not Accepted: refused here,
    never sent (the command layer reads the code and says so)."""

    def __init__(self, description: str) -> None:
        super().__init__(NOT_SENT_CODE, description)


class AdapterMixin:
    version: str

    def __init__(
        self, identity: str, connection, *, link: StationLink, background: set[asyncio.Task]
    ) -> None:
        """``background``: where follow-up tasks are kept (whoever holds the connection cancels
        them when it closes).  ``link.lax`` (non-compliant firmware): no schema checks at all."""
        super().__init__(identity, connection, response_timeout=30)
        self.link = link
        self.background = background
        self.triggered: set[str] = set()  # messages a TriggerMessage asked for (Pending)

    @property
    def handled_actions(self) -> set[str]:
        return set(self.route_map)

    async def handle_call(self, unique_id: str, action: str, payload: dict) -> None:
        """A CALL the consumer has already parsed and checked (protocol.precheck): answered
        with its CallResult, or with the CallError the spec names."""
        msg = Call(unique_id, action, payload)
        try:
            await self._handle_call(msg)
        except OCPPError as error:
            logger.info("%s: %s answered with %s", self.id, action, error.code)
            await self._send(msg.create_call_error(error).to_json())

    async def _handle_call(self, msg):
        """The library's CALL handling, faster: schemas compiled (validation.py) instead of
        interpreted on another thread, handler signatures and key spellings looked up once."""
        if self.link.registration_status != "Accepted" and not self._allowed_before_accepted(
            msg.action
        ):
            raise SecurityError(
                description="The station is not accepted: only BootNotification is allowed",
            )
        handlers = self.route_map.get(msg.action)
        if handlers is None or "_on_action" not in handlers:
            raise OcppNotImplementedError(details={"cause": f"No handler for {msg.action}"})
        strict = not self.link.lax
        if strict:
            validation.check(self.version, msg.action, validation.REQUEST, msg.payload)
        validation.check_values(msg.payload)  # what the database cannot hold
        arguments = to_snake(msg.payload)
        handler = handlers["_on_action"]
        try:
            if _wants_unique_id(handler.__func__):
                response = handler(**arguments, call_unique_id=msg.unique_id)
            else:
                response = handler(**arguments)
            if inspect.isawaitable(response):
                response = await response
        except OCPPError:
            raise  # a value the spec names an error for: answered by handle_call, no traceback
        except Exception as error:
            logger.exception("Error while handling %s from %s", msg.action, self.id)
            await self._send(msg.create_call_error(error).to_json())
            return None
        payload = to_camel(remove_nones(serialize_as_dict(response)))
        if strict:
            validation.check(self.version, msg.action, validation.RESPONSE, payload)
        result = msg.create_call_result(payload)
        await self._send(result.to_json())
        after = handlers.get("_after_action")
        if after is not None:
            if _wants_unique_id(after.__func__):
                follow_up = after(**arguments, call_unique_id=msg.unique_id)
            else:
                follow_up = after(**arguments)
            if inspect.isawaitable(follow_up):
                task = asyncio.ensure_future(follow_up)
                self.background.add(task)
                task.add_done_callback(self.background.discard)
        return result

    def _allowed_before_accepted(self, action: str) -> bool:
        if action in ALLOWED_BEFORE_ACCEPTED:
            return True
        if self.link.registration_status == "Pending" and action in ANSWERS_TO_CSMS_REQUESTS:
            return True
        if action in self.triggered:
            self.triggered.discard(action)
            return True
        return False

    def _check_sendable(self, action: str, payload: dict[str, Any]) -> None:
        status = self.link.registration_status
        if status == "Accepted" or sendable_while_not_accepted(status, action, payload):
            return
        raise StationNotAccepted(
            f"The station's boot is {status or 'not answered'}: {action} may not be sent"
        )

    async def send_call(self, action: str, payload: dict[str, Any], timeout: float) -> dict:
        """Send one CALL with a raw camelCase payload; waits its turn behind the library's
        lock (one outstanding CALL per connection) and returns the raw response payload."""
        self._check_sendable(action, payload)
        call = Call(unique_id=str(uuid.uuid4()), action=action, payload=payload)
        if not self.link.lax:
            await validate_payload(call, self.version)
        async with self._call_lock:
            await self._send(call.to_json())
            response = await self._get_specific_response(call.unique_id, timeout)
        if response.message_type_id == MessageType.CallError:
            raise StationCallError(
                response.error_code, response.error_description, response.error_details
            )
        if action == "TriggerMessage" and response.payload.get("status") == "Accepted":
            requested = payload.get("requestedMessage", "")
            self.triggered.add(TRIGGERED_ACTION.get(requested, requested))
        return response.payload


__all__ = ["AdapterMixin", "OCPPError", "StationCallError", "StationNotAccepted"]
