"""What both version adapters share: outbound calls with raw payloads, lax mode, and the
registration guard."""

from __future__ import annotations

import uuid
from typing import Any

from ocpp.exceptions import OCPPError, SecurityError
from ocpp.messages import Call, MessageType, validate_payload

from .runtime import StationLink

ALLOWED_BEFORE_ACCEPTED = {"BootNotification"}


class StationCallError(Exception):
    """The station answered a CALL with a CallError."""

    def __init__(self, code: str, description: str, details: Any = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.details = code, description, details


class AdapterMixin:
    version: str

    def __init__(self, identity: str, connection, *, link: StationLink, consumer) -> None:
        super().__init__(identity, connection, response_timeout=30)
        self.link = link
        self.consumer = consumer
        if link.lax:
            # Non-compliant firmware: accept what it sends and what it answers.
            for handlers in self.route_map.values():
                handlers["_skip_schema_validation"] = True

    @property
    def handled_actions(self) -> set[str]:
        return set(self.route_map)

    async def _handle_call(self, msg):
        if (
            self.link.registration_status != "Accepted"
            and msg.action not in ALLOWED_BEFORE_ACCEPTED
        ):
            raise SecurityError(
                description="The station is not accepted: only BootNotification is allowed",
            )
        return await super()._handle_call(msg)

    async def send_call(self, action: str, payload: dict[str, Any], timeout: float) -> dict:
        """Send one CALL with a raw camelCase payload; waits its turn behind the library's
        lock (one outstanding CALL per connection) and returns the raw response payload."""
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
        return response.payload


__all__ = ["AdapterMixin", "OCPPError", "StationCallError"]
