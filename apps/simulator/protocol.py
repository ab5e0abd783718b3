"""What an OCPP version must provide to a simulated station, and what the versions share.

``ocpp16.Ocpp16`` and ``ocpp201.Ocpp201`` turn the station's version-neutral state into that
version's messages (outbound); their ChargePoint subclasses turn CSMS requests into calls on the
station (inbound).  Where 1.6 and 2.0.1 ask for the same thing under other names (remote start,
reset, profiles, reservations, firmware...), the version's handler only translates field names
and the answer; the behaviour lives once, in ``StationChargePoint`` here.  The protocol layer
reaches the station only through its public methods.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.routing import on

from .profiles import ChargingProfile, Purpose
from .state import Evse, Reading, Reservation, Transaction
from .timeutil import parse_time

logger = logging.getLogger("chargegrid.simulator")

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
    """Mixin for the ocpp ChargePoint subclasses: records every CALL from the CSMS, runs
    follow-up work (the StartTransaction after a RemoteStart...) once the response is sent, and
    holds the handler behaviour 1.6 and 2.0.1 share.

    A handler must not await a CALL of its own: the library routes the response only after the
    handler returns.  Handlers register follow-ups with ``after_response`` instead.
    """

    # The version's parser for a charging profile as the CSMS sent it (snake_case keys).
    parse_profile: Callable[[int, dict[str, Any], datetime], ChargingProfile]
    # 2.0.1 refuses a remote-start profile that names a transaction (there is none yet).
    remote_start_profile_names_no_transaction = False
    call_result: ModuleType  # the version's ``ocpp.v16.call_result`` / ``ocpp.v201.call_result``

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
            self.station.record_received(message[2], message[3])
        try:
            await super().route_message(raw_msg)  # type: ignore[misc]
        finally:
            # Even when the response could not be sent, the station does what it accepted.
            follow_ups, self._follow_ups = self._follow_ups, []
            for make in follow_ups:
                self.station.run_in_background(make())

    # ---- handlers alike in both versions (names and fields) ------------------------------

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        return self.call_result.CancelReservation(status=self.cancel_reservation(reservation_id))

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        self.station.clear_cache()
        return self.call_result.ClearCache(status="Accepted")

    @on("DataTransfer")
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        status, answer = self.station.handle_data_transfer(vendor_id, message_id, data)
        return self.call_result.DataTransfer(status=status, data=answer)

    # ---- what both versions do (the handlers translate names and answers) ---------------

    def start_remotely(
        self,
        evse_id: int | None,
        id_tag: str,
        token_type: str,
        remote_start_id: int | None,
        charging_profile: dict[str, Any] | None,
    ) -> bool:
        """RemoteStartTransaction / RequestStartTransaction: accepted or not."""
        station = self.station
        evse = station.remote_start_accept(evse_id, id_tag, token_type, remote_start_id, None)
        if evse is None:
            return False
        if charging_profile is not None:
            profile = self.parse_profile(evse.id, charging_profile, station.clock.now())
            error = station.check_profile(profile)
            names_transaction = (
                self.remote_start_profile_names_no_transaction and profile.transaction_id
            )
            if profile.purpose != Purpose.TX or names_transaction or error:
                evse.pending_start = None
                logger.info("%s: remote start profile refused: %s", station.identity, error)
                return False
            evse.pending_start.profile = profile  # type: ignore[union-attr]
        self.after_response(lambda: station.remote_start(evse))
        return True

    def stop_remotely(self, transaction_id: int | str) -> bool:
        """RemoteStopTransaction / RequestStopTransaction: accepted or not."""
        evse = self.station.find_transaction(transaction_id)
        if evse is None:
            return False
        self.after_response(lambda: self.station.remote_stop(evse))
        return True

    def reset(self, kind: str) -> str:
        status = self.station.reset_accept(kind)
        if status == "Accepted":
            self.after_response(lambda: self.station.reset(kind))
        return status

    def change_availability(self, evse_id: int, operative: bool) -> str:
        """evse_id 0: the whole station."""
        status = self.station.change_availability(evse_id, operative)
        if status != "Rejected":
            self.after_response(lambda: self.station.availability_changed(evse_id))
        return status

    def set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any]) -> str | None:
        """Why the profile is refused, or None when it is installed."""
        station = self.station
        profile = self.parse_profile(evse_id, charging_profile, station.clock.now())
        error = station.set_charging_profile(profile)
        if error:
            logger.info("%s: SetChargingProfile refused: %s", station.identity, error)
            return error
        self.after_response(station.limits_changed)
        return None

    def clear_charging_profiles(
        self,
        *,
        profile_id: int | None,
        evse_id: int | None,
        purpose: Purpose | None,
        stack_level: int | None,
    ) -> str:
        removed = self.station.clear_charging_profiles(
            profile_id=profile_id, evse_id=evse_id, purpose=purpose, stack_level=stack_level
        )
        if removed:
            self.after_response(self.station.limits_changed)
        return "Accepted" if removed else "Unknown"

    def reserve(
        self,
        reservation_id: int,
        evse_id: int | None,
        id_tag: str,
        expiry: str,
        parent_id_tag: str | None,
    ) -> str:
        expires_at = parse_time(expiry)
        assert expires_at is not None
        status = self.station.reserve(reservation_id, evse_id, id_tag, expires_at, parent_id_tag)
        if status == "Accepted":
            self.after_response(self.station.refresh_statuses)
        return status

    def cancel_reservation(self, reservation_id: int) -> str:
        if self.station.cancel_reservation(reservation_id) is None:
            return "Rejected"
        self.after_response(self.station.refresh_statuses)
        return "Accepted"

    def update_firmware(
        self,
        location: str,
        retrieve_date: str | None,
        *,
        install_date: str | None = None,
        request_id: int | None = None,
        signed: bool = False,
        signature: str = "",
        certificate: str = "",
    ) -> bool:
        """Accepted unless an update is already running."""
        station = self.station
        if not station.firmware_update_accept():
            logger.info("%s: firmware update already running; ignored", station.identity)
            return False
        retrieve_at = parse_time(retrieve_date)
        install_at = parse_time(install_date)
        self.after_response(
            lambda: station.update_firmware(
                location,
                retrieve_at=retrieve_at,
                install_at=install_at,
                request_id=request_id,
                signed=signed,
                signature=signature,
                certificate=certificate,
            )
        )
        return True

    def upload_log(self, location: str, request_id: int | None) -> str:
        """GetDiagnostics / GetLog: the file name the upload will have."""
        file_name = self.station.log_file_name()
        self.after_response(lambda: self.station.upload_log(location, request_id))
        return file_name

    def trigger(self, message: str, evse_id: int | None) -> str:
        status = self.station.trigger_accept(message, evse_id)
        if status == "Accepted":
            self.after_response(lambda: self.station.triggered(message, evse_id))
        return status


class Protocol(ABC):
    version: str
    subprotocol: str
    call: ModuleType  # the version's ``ocpp.v16.call`` / ``ocpp.v201.call``

    def __init__(self, station: SimulatedStation) -> None:
        self.station = station

    @abstractmethod
    def charge_point(self, connection: Any) -> ChargePoint: ...

    @abstractmethod
    def boot_notification(self, reason: str) -> Any: ...

    def boot_result(self, result: Any) -> tuple[str, int]:
        """(registration status, interval)"""
        return result.status, result.interval

    def heartbeat(self) -> Any:
        return self.call.Heartbeat()

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

    def security_event(self, kind: str, at: str, tech_info: str | None) -> Any:
        return self.call.SecurityEventNotification(type=kind, timestamp=at, tech_info=tech_info)

    def data_transfer(self, vendor_id: str, message_id: str | None, data: str | None) -> Any:
        return self.call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)

    @abstractmethod
    def reservation_ended(self, reservation: Reservation, how: str) -> Any | None:
        """2.0.1 ReservationStatusUpdate (how: Expired | Removed); None in 1.6."""


Sample = Callable[..., dict[str, Any]]


def sampled_values(reading: Reading, measurands: list[str], sample: Sample) -> list[dict[str, Any]]:
    """The sampled values of ``reading`` for the configured measurands, each built by the
    version's ``sample(value, measurand, unit, **extra)``: the energy register in whole Wh,
    everything else to one decimal."""
    sampled: list[dict[str, Any]] = []
    for measurand in measurands:
        if measurand == "Energy.Active.Import.Register":
            sampled.append(sample(reading.energy_wh, measurand, "Wh"))
        elif measurand == "Power.Active.Import":
            sampled.append(sample(round(float(reading.power_w), 1), measurand, "W"))
        elif measurand == "Current.Import":
            for n in range(reading.phases):
                amps = round(float(reading.currents_a[n]), 1)
                sampled.append(sample(amps, measurand, "A", phase=f"L{n + 1}"))
        elif measurand == "Voltage":
            for n in range(reading.phases):
                volts = round(float(reading.voltage_v), 1)
                sampled.append(sample(volts, measurand, "V", phase=f"L{n + 1}-N"))
        elif measurand == "SoC" and reading.soc is not None:
            sampled.append(
                sample(round(float(reading.soc), 1), measurand, "Percent", location="EV")
            )
    return sampled
