"""A simulated charging station that speaks OCPP 1.6J or 2.0.1 to a real CSMS.

Tests drive it step by step::

    station = SimulatedStation(StationConfig(identity="SIM-1", url=url, password="pw"), clock)
    await station.connect()                      # BootNotification + StatusNotifications
    await station.plug_in(1, Vehicle(soc=20))
    tx_id = await station.start_session(1, "TAG1")
    clock.advance(3600)                          # an hour of charging, instantly
    await station.send_meter_values(1)
    await station.stop_session(1)

Demos and load tests set ``auto=True`` (heartbeats, periodic meter values) and
``auto_reconnect=True`` (back-off reconnection after a drop).  Whatever the CSMS asks
(remote start, charging profiles, reset, firmware...) the station does on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from .connection import ConnectionMixin
from .core import COMMUNICATION_ERRORS
from .device import CompositeSchedule, DeviceMixin, version_from_location
from .metering import MeteringMixin
from .state import ReceivedCall, SentCall, Transaction
from .transactions import TransactionsMixin

__all__ = [
    "COMMUNICATION_ERRORS",
    "CompositeSchedule",
    "SimulatedStation",
    "StationConfig",
    "version_from_location",
]


@dataclass
class StationConfig:
    identity: str
    url: str  # the CSMS's OCPP endpoint without the identity, e.g. ws://127.0.0.1:8000/ocpp/
    password: str | None = None  # HTTP Basic (security profile 1); None sends no credentials
    version: str = "1.6"  # "1.6" | "2.0.1"
    evse_count: int = 1
    max_current_a: float = 32.0  # per phase, per EVSE (hardware)
    phases: int = 3
    voltage: float = 230.0
    meter_interval: int = 60  # initial MeterValueSampleInterval / TxUpdatedInterval, seconds
    heartbeat_interval: int = 300  # until the CSMS sets one at boot
    vendor: str = "ChargeGrid"
    model: str = "SimCharger AC"
    serial_number: str = ""
    firmware_version: str = "1.0.0"
    station_max_current_a: float | None = None  # supply shared by all EVSEs, if smaller
    settings: dict[str, str] = field(default_factory=dict)  # initial settings by 1.6 key
    auto: bool = False  # heartbeats and periodic meter values in the background
    auto_reconnect: bool = False
    reconnect_delay: float = 1.0  # first back-off, real seconds; doubles up to the maximum
    reconnect_max_delay: float = 60.0
    response_timeout: float = 30.0
    reboot_delay: float = 5.0  # station-clock seconds between going down and reconnecting
    transfer_seconds: float = 3.0  # each simulated download / install / upload step
    # Firmware: really fetch http(s) images and verify them (SHA-256 from the server's
    # X-Checksum-SHA256 header, the signature of a signed update) instead of simulating the
    # transfer; and the documented failure to report instead of succeeding: DownloadFailed,
    # InvalidSignature, InstallationFailed or InstallVerificationFailed.
    download_firmware: bool = False
    firmware_failure: str = ""
    # 1.6: implements the security whitepaper's SignedUpdateFirmware (off: NotImplemented).
    signed_firmware_16: bool = True
    # A screen: plays the platform's media manifests (DataTransfer org.chargegrid.media /
    # PlayManifest, docs/media.md) after fetching and checking every item.
    screen: bool = False
    history: int = 2000  # CALLs kept in ``received`` and ``sent`` (oldest dropped)

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + "/" + self.identity


class SimulatedStation(ConnectionMixin, TransactionsMixin, MeteringMixin, DeviceMixin):
    """One station: each concern lives in its own mixin (see ``core``); this class adds what
    tests and scripts read."""

    # ---- what tests read ------------------------------------------------------------------

    def status(self, evse_id: int = 1) -> str:
        """The connector status in OCPP 1.6 terms (Available, Preparing, Charging...)."""
        self._settle()
        return self._evse(evse_id).status()

    def transaction(self, evse_id: int = 1) -> Transaction | None:
        return self._evse(evse_id).transaction

    def current_draw(self, evse_id: int = 1) -> float:
        """Amps per phase the vehicle takes now."""
        self._settle()
        return self._evse(evse_id).draw_a

    def limit(self, evse_id: int = 1) -> float:
        """Amps per phase the EVSE may deliver now: hardware, station maximum and charging
        profiles combined (before the station shares its supply among EVSEs)."""
        self._settle()
        evse = self._evse(evse_id)
        return self._evse_cap_a(evse, self.clock.now(), self._tx_start(evse))

    def energy_wh(self, evse_id: int = 1) -> int:
        """The energy register (Wh, monotonic)."""
        self._settle()
        return self._evse(evse_id).register_wh

    def power_w(self, evse_id: int = 1) -> float:
        self._settle()
        evse = self._evse(evse_id)
        return self.config.voltage * evse.draw_a * evse.phases_in_use

    def calls_received(self, action: str) -> list[ReceivedCall]:
        return [c for c in self.received if c.action == action]

    def calls_sent(self, action: str) -> list[SentCall]:
        return [c for c in self.sent if c.action == action]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait (real time) until ``predicate()`` holds; for tests."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.005)

    async def wait_for_call(
        self, action: str, count: int = 1, timeout: float = 5.0
    ) -> ReceivedCall:
        """Wait until the CSMS has sent ``count`` CALLs of ``action``; returns the last."""
        await self.wait_until(lambda: len(self.calls_received(action)) >= count, timeout)
        return self.calls_received(action)[count - 1]
