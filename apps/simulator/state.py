"""What a simulated station knows, independent of the OCPP version it speaks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .physics import MIN_PILOT_CURRENT_A, Vehicle


class SimulatorError(Exception):
    pass


class StationOffline(SimulatorError):
    """The station has no usable connection to the CSMS."""


class HandshakeRefused(SimulatorError):
    """The CSMS refused the websocket upgrade (unknown identity, wrong password, or 503 when
    it sheds load).  ``retry_after``: the seconds its Retry-After header asked for, if any."""

    def __init__(self, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(f"CSMS refused the connection with HTTP {status_code}")
        self.status_code = status_code
        self.retry_after = retry_after


class SessionRefused(SimulatorError):
    """A session could not start: the token was not accepted, or the EVSE cannot charge."""

    def __init__(self, status: str, detail: str = "") -> None:
        super().__init__(f"{status}: {detail}" if detail else status)
        self.status = status


@dataclass
class Transaction:
    evse_id: int
    id_tag: str
    token_type: str
    started_at: datetime
    meter_start: int
    # 1.6: the integer the CSMS issues (None until StartTransaction is answered);
    # 2.0.1: the station's own id.
    transaction_id: int | str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    started_offline: bool = False
    authorization_status: str | None = None
    seq_no: int = 0  # 2.0.1 TransactionEvent sequence
    charging_state: str | None = None  # last 2.0.1 chargingState reported
    ended_at: datetime | None = None
    stop_reason: str | None = None
    meter_stop: int | None = None
    local_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def next_seq_no(self) -> int:
        number = self.seq_no
        self.seq_no += 1
        return number


@dataclass
class Reservation:
    id: int
    evse_id: int
    id_tag: str
    expires_at: datetime
    parent_id_tag: str | None = None


@dataclass
class PendingStart:
    """A remote start accepted before the cable is in: it waits ConnectionTimeOut."""

    id_tag: str
    token_type: str
    remote_start_id: int | None
    expires_at: datetime
    profile: Any = None  # a profiles.ChargingProfile to install as TxProfile


@dataclass(frozen=True)
class Reading:
    """One meter sample of an EVSE."""

    at: datetime
    energy_wh: int
    power_w: float
    currents_a: tuple[float, float, float]
    voltage_v: float
    phases: int
    soc: float | None


@dataclass
class Evse:
    id: int
    max_current_a: float
    phases: int
    energy_wh: float = 0.0  # the register, kept as a float so that small steps add up
    vehicle: Vehicle | None = None
    transaction: Transaction | None = None
    operative: bool = True
    scheduled_operative: bool | None = None  # applied when the transaction ends
    reservation: Reservation | None = None
    pending_start: PendingStart | None = None
    fault: str | None = None  # OCPP 1.6 error code while faulted
    finishing: bool = False  # the session ended, the cable is still in
    offered_a: float = 0.0  # what the pilot offers now
    draw_a: float = 0.0  # what the vehicle takes now
    phases_in_use: int = 0
    reported_status: str | None = None

    @property
    def register_wh(self) -> int:
        """The register as the meter shows it: whole Wh, rounded down (after forgiving the
        float error of summing many small steps)."""
        return int(self.energy_wh + 1e-6)

    def status(self) -> str:
        """The connector status in OCPP 1.6 terms."""
        if self.fault:
            return "Faulted"
        if self.transaction is not None:
            if self.draw_a > 0:
                return "Charging"
            if self.offered_a >= MIN_PILOT_CURRENT_A:
                return "SuspendedEV"
            return "SuspendedEVSE"
        if not self.operative:
            return "Unavailable"
        if self.vehicle is not None:
            return "Finishing" if self.finishing else "Preparing"
        if self.pending_start is not None:
            return "Preparing"
        if self.reservation is not None:
            return "Reserved"
        return "Available"

    def connector_status_v201(self) -> str:
        status = self.status()
        if status in ("Available", "Reserved", "Unavailable", "Faulted"):
            return status
        return "Occupied"

    def charging_state_v201(self) -> str:
        status = self.status()
        if status in ("Charging", "SuspendedEV", "SuspendedEVSE"):
            return status
        return "EVConnected" if self.vehicle is not None else "Idle"


@dataclass(frozen=True)
class ReceivedCall:
    """A CALL from the CSMS, as it came over the wire (camelCase payload)."""

    action: str
    payload: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class SentCall:
    """A CALL the station sent and what came back (wire form, camelCase)."""

    action: str
    payload: dict[str, Any]
    at: datetime
    response: dict[str, Any] | None = None
    error: str | None = None
