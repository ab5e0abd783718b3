"""What every part of a simulated station shares: its state, its background tasks and timers,
and the record of CALLs in both directions.

The station is composed of one mixin per concern, each in its own module:
``connection`` (websocket, boot, heartbeat, supervision and reconnection), ``transactions``
(sessions, the offline queue, statuses), ``metering`` (energy, limits, meter values) and
``device`` (configuration, reset, availability, profiles, reservations, local list, firmware,
diagnostics, display messages).  ``station.SimulatedStation`` puts them together.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from .clock import Clock, SystemClock, sleep_until
from .device_model import SettingStore
from .ocpp16 import Ocpp16
from .ocpp201 import Ocpp201
from .profiles import ProfileStore
from .protocol import Protocol, QueuedMessage
from .state import Evse, ReceivedCall, SentCall, SimulatorError, Transaction

logger = logging.getLogger("chargegrid.simulator")

COMMUNICATION_ERRORS = (SimulatorError, OCPPError, TimeoutError, ConnectionClosed, OSError)

if TYPE_CHECKING:
    from .station import SimulatedStation, StationConfig


class StationCore:
    def __init__(self, config: StationConfig, clock: Clock | None = None) -> None:
        if config.version not in ("1.6", "2.0.1"):
            raise ValueError(f"unsupported OCPP version {config.version!r}")
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.settings = SettingStore(config.version)
        for key, value in {
            "HeartbeatInterval": str(config.heartbeat_interval),
            "MeterValueSampleInterval": str(config.meter_interval),
            "NumberOfConnectors": str(config.evse_count),
            "Model": config.model,
            "VendorName": config.vendor,
            "SupplyPhases": str(config.phases),
            **config.settings,
        }.items():
            self.settings.change(key, value, force=True)
        self.evses = {
            n: Evse(id=n, max_current_a=config.max_current_a, phases=config.phases)
            for n in range(1, config.evse_count + 1)
        }
        self.profiles = ProfileStore()
        self.firmware_version = config.firmware_version
        self.firmware_status = "Idle"
        self.upload_state = "Idle"
        self.registration_status: str | None = None
        self.boot_count = 0
        self.received: deque[ReceivedCall] = deque(maxlen=config.history)
        self.sent: deque[SentCall] = deque(maxlen=config.history)
        self.queue: deque[QueuedMessage] = deque()
        self.local_list: dict[str, str] = {}
        self.local_list_version = 0
        self.auth_cache: dict[str, str] = {}
        self.display_messages: dict[int, dict[str, Any]] = {}
        # (vendorId, messageId) -> handler(data) returning (status, data); messageId None = any
        self.data_transfer_handlers: dict[
            tuple[str, str | None], Callable[[Any], tuple[str, Any]]
        ] = {}
        self.random = random.Random(config.identity)
        self._proto = _protocol_for(self)
        self._ws: ClientConnection | None = None
        self._cp: Any = None
        self._reader: asyncio.Task[Any] | None = None
        self._online = False
        self._closing = False
        self._boot_reason = "PowerUp"
        self._supervisor: asyncio.Task[None] | None = None
        self._auto_tasks: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[str, asyncio.Task[Any]] = {}
        self._queue_lock = asyncio.Lock()
        self._reset_when_idle: str | None = None
        self._firmware_busy = False
        self._settled_at = self.clock.now()

    @property
    def identity(self) -> str:
        return self.config.identity

    @property
    def version(self) -> str:
        return self.config.version

    # ---- background work ------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: background task failed", self.identity, exc_info=task.exception())

    def _set_timer(self, key: str, moment: datetime, action: Callable[[], Awaitable[Any]]) -> None:
        self._cancel_timer(key)

        async def run() -> None:
            await sleep_until(self.clock, moment)
            self._timers.pop(key, None)
            await action()

        self._timers[key] = self._spawn(run())

    def _cancel_timer(self, key: str) -> None:
        task = self._timers.pop(key, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _record_sent(self, action: str, payload: dict[str, Any], **outcome: Any) -> None:
        self.sent.append(SentCall(action=action, payload=payload, at=self.clock.now(), **outcome))

    # ---- what the protocol layer uses -----------------------------------------------------

    @property
    def protocol(self) -> Protocol:
        """The version adapter (``ocpp16.Ocpp16`` or ``ocpp201.Ocpp201``)."""
        return self._proto

    def record_received(self, action: str, payload: dict[str, Any]) -> None:
        """A CALL from the CSMS, for ``received`` / ``calls_received``."""
        self.received.append(ReceivedCall(action=action, payload=payload, at=self.clock.now()))

    def run_in_background(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work the CSMS asked for after the response; ``close`` cancels it."""
        return self._spawn(coroutine)

    def _evse(self, evse_id: int) -> Evse:
        try:
            return self.evses[evse_id]
        except KeyError:
            raise SimulatorError(f"{self.identity} has no EVSE {evse_id}") from None


def tx_key(tx: Transaction) -> str:
    """How charging profiles name a transaction (local id until the CSMS has issued one)."""
    return str(tx.transaction_id) if tx.transaction_id is not None else f"local:{tx.local_id}"


def _protocol_for(station: SimulatedStation) -> Protocol:
    if station.config.version == "1.6":
        return Ocpp16(station)
    return Ocpp201(station)
