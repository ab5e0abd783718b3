"""What an OCPP version must provide to a simulated station.

``ocpp16.Ocpp16`` and ``ocpp201.Ocpp201`` turn the station's version-neutral state into that
version's messages (outbound) and its ChargePoint subclass turns CSMS requests into calls on the
station (inbound).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case

from .state import Evse, Reading, Reservation, Transaction

if TYPE_CHECKING:
    from ocpp.charge_point import ChargePoint

    from .station import SimulatedStation


@dataclass
class QueuedMessage:
    """A transaction-related CALL: kept while offline and sent in order once online.

    ``build`` runs when the message is sent, not when it is queued, so that a 1.6 message about
    a transaction started offline carries the id the CSMS issued once StartTransaction went
    through.  It returns None when the message can no longer be sent.
    """

    build: Callable[[], Any | None]
    on_result: Callable[[Any], None] | None = None
    transaction: Transaction | None = None
    is_sample: bool = False  # a periodic meter sample: the first thing dropped when full
    attempts: int = 0


def wire_form(payload: Any) -> dict[str, Any]:
    """A payload dataclass as it goes over the wire (camelCase, no nulls)."""
    return remove_nones(snake_to_camel_case(serialize_as_dict(payload)))


class StationChargePoint:
    """Mixin for the ocpp ChargePoint subclasses: records every CALL from the CSMS and runs
    follow-up work (the StartTransaction after a RemoteStart...) once the response is sent.

    A handler must not await a CALL of its own: the library routes the response only after the
    handler returns.  Handlers register follow-ups with ``after_response`` instead.
    """

    def __init__(self, station: SimulatedStation, connection: Any) -> None:
        super().__init__(  # type: ignore[call-arg]
            station.config.identity, connection, response_timeout=station.config.response_timeout
        )
        self.station = station
        self._follow_ups: list[Callable[[], Awaitable[Any]]] = []

    def after_response(self, make: Callable[[], Awaitable[Any]]) -> None:
        self._follow_ups.append(make)

    async def route_message(self, raw_msg: str) -> None:
        self._follow_ups = []
        try:
            message = json.loads(raw_msg)
        except ValueError:
            message = None
        if isinstance(message, list) and len(message) == 4 and message[0] == 2:
            self.station._record_received(message[2], message[3])
        try:
            await super().route_message(raw_msg)  # type: ignore[misc]
        finally:
            # Even when the response could not be sent, the station does what it accepted.
            follow_ups, self._follow_ups = self._follow_ups, []
            for make in follow_ups:
                self.station._spawn(make())


class Protocol(ABC):
    version: str
    subprotocol: str

    def __init__(self, station: SimulatedStation) -> None:
        self.station = station

    @abstractmethod
    def charge_point(self, connection: Any) -> ChargePoint: ...

    @abstractmethod
    def boot_notification(self, reason: str) -> Any: ...

    @abstractmethod
    def boot_result(self, result: Any) -> tuple[str, int]:
        """(registration status, interval)"""

    @abstractmethod
    def heartbeat(self) -> Any: ...

    @abstractmethod
    def status_notifications(self, evse: Evse, previous: str | None, force: bool) -> list[Any]:
        """Messages telling the CSMS that ``evse`` changed from ``previous`` (1.6 terms)."""

    @abstractmethod
    def station_status_notification(self) -> Any | None:
        """The status of the station as a whole (1.6 connector 0), if the version has one."""

    @abstractmethod
    def authorize(self, id_tag: str, token_type: str) -> Any: ...

    @abstractmethod
    def authorize_status(self, result: Any) -> str: ...

    @abstractmethod
    def transaction_started(
        self, tx: Transaction, evse: Evse, reading: Reading, trigger: str
    ) -> QueuedMessage: ...

    @abstractmethod
    def transaction_updated(
        self, tx: Transaction, evse: Evse, reading: Reading, trigger: str
    ) -> QueuedMessage: ...

    @abstractmethod
    def transaction_ended(
        self, tx: Transaction, evse: Evse, reading: Reading, reason: str
    ) -> QueuedMessage: ...

    @abstractmethod
    def meter_values(self, evse: Evse, reading: Reading, context: str) -> Any: ...

    @abstractmethod
    def firmware_status(self, status: str, request_id: int | None) -> Any | None:
        """None when this version has no such status (2.0.1-only steps on a 1.6 station)."""

    @abstractmethod
    def upload_status(self, status: str, request_id: int | None) -> Any:
        """status: Idle, Uploading, Uploaded or Failed."""

    @abstractmethod
    def security_event(self, kind: str, at: str, tech_info: str | None) -> Any: ...

    @abstractmethod
    def data_transfer(self, vendor_id: str, message_id: str | None, data: str | None) -> Any: ...

    @abstractmethod
    def reservation_ended(self, reservation: Reservation, how: str) -> Any | None:
        """2.0.1 ReservationStatusUpdate (how: Expired | Removed); None in 1.6."""
