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
import base64
import logging
import random
import re
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .clock import Clock, SystemClock, sleep_until
from .device_model import SettingStore
from .physics import MIN_PILOT_CURRENT_A, Vehicle, share
from .profiles import (
    ChargingProfile,
    ProfileStore,
    Purpose,
    floor_tenth,
    merge_periods,
    validation_error,
)
from .protocol import Protocol, QueuedMessage, wire_form
from .state import (
    Evse,
    HandshakeRefused,
    PendingStart,
    Reading,
    ReceivedCall,
    Reservation,
    SentCall,
    SessionRefused,
    SimulatorError,
    StationOffline,
    Transaction,
)
from .timeutil import format_time

logger = logging.getLogger("chargegrid.simulator")

# Energy is integrated in steps no longer than this, so the taper follows the state of charge.
MAX_STEP = timedelta(seconds=10)
# Offline, meter samples are dropped first once the queue is this long.
MAX_QUEUE = 10_000
FILE_SCHEMES = {"ftp", "ftps", "http", "https"}
COMMUNICATION_ERRORS = (SimulatorError, OCPPError, TimeoutError, ConnectionClosed, OSError)


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
    history: int = 2000  # CALLs kept in ``received`` and ``sent`` (oldest dropped)

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + "/" + self.identity


@dataclass(frozen=True)
class CompositeSchedule:
    evse_id: int
    start: datetime
    duration: int
    unit: str
    periods: list[tuple[int, float]]  # (seconds from start, limit)


class SimulatedStation:
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

    # ---- what tests read ------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return self.config.identity

    @property
    def version(self) -> str:
        return self.config.version

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    @property
    def online(self) -> bool:
        """Connected and accepted by the CSMS."""
        return self.connected and self._online

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

    # ---- connection -----------------------------------------------------------------------

    async def connect(self) -> str:
        """Open the websocket and boot.  Returns the registration status.

        Accepted: queued transaction messages are replayed and every EVSE's status is sent.
        Pending / Rejected: the station boots again after the interval the CSMS gave.
        Raises HandshakeRefused when the CSMS refuses the upgrade, StationOffline when it
        cannot be reached.
        """
        if self.connected:
            raise SimulatorError(f"{self.identity} is already connected")
        await self._stop_supervisor()
        self._closing = False
        status = await self._connect_once()
        self._supervisor = self._spawn(self._supervise())
        return status

    async def close(self) -> None:
        """Stop everything this station runs and close its websocket.  Transactions stay as
        they are (as when a station loses power); call stop_session first for a clean end."""
        self._closing = True
        await self._stop_supervisor()
        current = asyncio.current_task()
        tasks = [*self._auto_tasks, *self._timers.values(), *self._tasks]
        for task in tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not current), return_exceptions=True)
        self._auto_tasks.clear()
        self._timers.clear()
        await self._close_socket()

    async def drop_connection(self) -> None:
        """Lose the network abruptly (no closing handshake), as a cut cable would."""
        if self._ws is not None:
            self._ws.transport.abort()
        if self._reader is not None:
            await asyncio.wait({self._reader})
        self._online = False

    async def _connect_once(self) -> str:
        await self._open()
        try:
            return await self._boot()
        except BaseException:
            await self._close_socket()
            raise

    async def _open(self) -> None:
        headers = {}
        if self.config.password is not None:
            secret = f"{self.identity}:{self.config.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(secret).decode()
        ping = self.settings.get_int("WebSocketPingInterval")
        try:
            ws = await connect(
                self.config.endpoint,
                subprotocols=[self._proto.subprotocol],  # type: ignore[list-item]
                additional_headers=headers,
                ping_interval=ping or None,
                open_timeout=10,
                proxy=None,
            )
        except InvalidStatus as error:
            raise HandshakeRefused(error.response.status_code) from error
        except (OSError, TimeoutError, InvalidHandshake) as error:
            raise StationOffline(f"cannot reach {self.config.endpoint}: {error}") from error
        if ws.subprotocol != self._proto.subprotocol:
            await ws.close()
            raise StationOffline(f"the CSMS did not agree to {self._proto.subprotocol}")
        self._ws = ws
        self._cp = self._proto.charge_point(ws)
        self._reader = asyncio.create_task(self._read(self._cp))
        self._online = False

    async def _read(self, cp: Any) -> BaseException | None:
        """Route CSMS frames until the connection ends; returns why it ended."""
        try:
            await cp.start()
        except ConnectionClosed as error:
            return error
        except Exception as error:  # a bug must not leave a half-dead connection behind
            logger.exception("%s: reader failed", self.identity)
            if self._ws is not None:
                self._ws.transport.abort()
            return error
        return None

    async def _close_socket(self) -> None:
        ws, reader = self._ws, self._reader
        self._online = False
        if ws is not None:
            await ws.close()
        if reader is not None:
            await asyncio.wait({reader}, timeout=2)
            if not reader.done():
                reader.cancel()
        self._ws = None

    async def _boot(self) -> str:
        result = await self._call(self._proto.boot_notification(self._boot_reason))
        status, interval = self._proto.boot_result(result)
        self.registration_status = status
        if status != "Accepted":
            retry = interval or self.settings.get_int("HeartbeatInterval")
            self._set_timer("boot", self.clock.now() + timedelta(seconds=retry), self._boot_again)
            return status
        if interval > 0:
            self.settings.change("HeartbeatInterval", str(interval), force=True)
        self.boot_count += 1
        self._boot_reason = "PowerUp"
        self._online = True
        await self._flush_queue()
        await self._send_all_statuses()
        self._start_auto()
        return status

    async def _boot_again(self) -> None:
        if self.connected and not self._online:
            try:
                await self._boot()
            except COMMUNICATION_ERRORS as error:
                logger.info("%s: boot failed: %s", self.identity, error)

    async def _supervise(self, *, reconnect_first: bool = False) -> None:
        """Notice a lost connection; reconnect with back-off when configured to."""
        if reconnect_first:
            await self._reconnect()
        while self._reader is not None:
            await asyncio.wait({self._reader})
            reader = self._reader
            if not reader.cancelled():
                logger.info("%s: connection lost: %s", self.identity, reader.result())
            self._online = False
            self._ws = None
            if self._closing or not self.config.auto_reconnect:
                return
            await self._reconnect()

    async def _reconnect(self) -> None:
        delay = self.config.reconnect_delay
        while not self._closing:
            await asyncio.sleep(delay * self.random.uniform(0.8, 1.2))
            try:
                await self._connect_once()
                return
            except COMMUNICATION_ERRORS as error:
                logger.info("%s: reconnect failed: %s", self.identity, error)
                delay = min(delay * 2, self.config.reconnect_max_delay)

    async def _stop_supervisor(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and supervisor is not asyncio.current_task():
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)

    async def reboot(
        self, *, stop_reason: str = "Reboot", boot_reason: str = "RemoteReset"
    ) -> None:
        """End transactions, go down, come back after ``reboot_delay`` and boot again."""
        for evse in self.evses.values():
            if evse.transaction is not None:
                await self._end_transaction(evse, reason=stop_reason)
        await self._stop_supervisor()
        await self._close_socket()
        for evse in self.evses.values():
            self._clear_pending_start(evse)
            evse.reported_status = None
        await self.clock.sleep(self.config.reboot_delay)
        self._boot_reason = boot_reason
        try:
            await self.connect()
        except COMMUNICATION_ERRORS as error:
            logger.info("%s: could not reconnect after reboot: %s", self.identity, error)
            if self.config.auto_reconnect and not self._closing:
                self._supervisor = self._spawn(self._supervise(reconnect_first=True))

    # ---- talking to the CSMS --------------------------------------------------------------

    async def _call(self, payload: Any) -> Any:
        """Send one CALL and return the result; the connection dropping fails it at once
        instead of after the response timeout."""
        cp, reader = self._cp, self._reader
        action = type(payload).__name__
        if cp is None or reader is None or reader.done():
            raise StationOffline(f"{self.identity} is not connected")
        wire = wire_form(payload)
        call = asyncio.ensure_future(cp.call(payload, suppress=False))
        try:
            await asyncio.wait({call, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not call.done():
                call.cancel()
                await asyncio.wait({call})
        if call.cancelled():
            self._record_sent(action, wire, error="connection lost")
            raise StationOffline("connection lost while waiting for a response")
        try:
            result = call.result()
        except ConnectionClosed as error:
            self._record_sent(action, wire, error="connection closed")
            raise StationOffline("connection closed") from error
        except (OCPPError, TimeoutError) as error:
            self._record_sent(action, wire, error=f"{type(error).__name__}: {error}")
            raise
        self._record_sent(action, wire, response=wire_form(result))
        return result

    async def _send(self, payload: Any | None, *, accepted_only: bool = True) -> Any | None:
        """Send a message that is not worth queueing; None when it could not go.  Only a
        report the CSMS asked for may go before the station is accepted (B02)."""
        if payload is None or not (self.online if accepted_only else self.connected):
            return None
        try:
            return await self._call(payload)
        except COMMUNICATION_ERRORS as error:
            logger.info("%s: %s not delivered: %s", self.identity, type(payload).__name__, error)
            return None

    async def _enqueue(self, message: QueuedMessage) -> None:
        """Queue a transaction message and send the queue if online (OCPP keeps these while
        offline and delivers them in order)."""
        if len(self.queue) >= MAX_QUEUE:
            self._drop_oldest_sample()
        self.queue.append(message)
        await self._flush_queue()

    async def _flush_queue(self) -> None:
        """Send what is queued.  The sending runs in the station's own task: a caller that
        is cancelled (a driver leaving, a shutdown) must not abandon a message the CSMS has
        already received, or it would go again later."""
        await asyncio.shield(self._spawn(self._drain_queue()))

    async def _drain_queue(self) -> None:
        async with self._queue_lock:
            while self.queue and self.online:
                message = self.queue[0]
                payload = message.build()
                if payload is None:
                    self.queue.popleft()
                    continue
                try:
                    result = await self._call(payload)
                except StationOffline:
                    return
                except (OCPPError, TimeoutError) as error:
                    message.attempts += 1
                    if message.attempts >= self.settings.get_int("TransactionMessageAttempts"):
                        logger.warning("%s: giving up on %s: %s", self.identity, payload, error)
                        self.queue.popleft()
                        continue
                    # Retry later without holding the queue: later messages wait behind it.
                    retry = self.settings.get_int("TransactionMessageRetryInterval")
                    moment = self.clock.now() + timedelta(seconds=retry * message.attempts)
                    self._set_timer("queue-retry", moment, self._flush_queue)
                    return
                self.queue.popleft()
                if message.on_result is not None:
                    message.on_result(result)
                tx = message.transaction
                if tx is not None and tx.authorization_status not in (None, "Accepted"):
                    self._spawn(self._deauthorize(tx))

    def _drop_oldest_sample(self) -> None:
        for index, message in enumerate(self.queue):
            if message.is_sample:
                del self.queue[index]
                return
        self.queue.popleft()

    def _record_sent(self, action: str, payload: dict[str, Any], **outcome: Any) -> None:
        self.sent.append(SentCall(action=action, payload=payload, at=self.clock.now(), **outcome))

    def _record_received(self, action: str, payload: dict[str, Any]) -> None:
        self.received.append(ReceivedCall(action=action, payload=payload, at=self.clock.now()))

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

    def _start_auto(self) -> None:
        if self.config.auto and not self._auto_tasks:
            self._auto_tasks = [
                self._spawn(self._heartbeat_loop()),
                self._spawn(self._meter_loop()),
            ]

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.clock.sleep(max(1, self.settings.get_int("HeartbeatInterval")))
            if self.online:
                await self._send(self._proto.heartbeat())

    async def _meter_loop(self) -> None:
        while True:
            interval = self.settings.get_int("MeterValueSampleInterval")
            await self.clock.sleep(interval or 60)
            try:
                for evse in self.evses.values():
                    if interval and evse.transaction is not None:
                        await self.send_meter_values(evse.id)
                    else:
                        await self._refresh_status(evse)
            except COMMUNICATION_ERRORS as error:
                logger.info("%s: meter values: %s", self.identity, error)
            except Exception:  # a station that runs for days must keep metering
                logger.exception("%s: meter loop", self.identity)

    # ---- physics --------------------------------------------------------------------------

    def _settle(self) -> None:
        """Integrate energy from the last settlement to now."""
        now = self.clock.now()
        moment = self._settled_at
        while moment < now:
            end = min(now, moment + MAX_STEP)
            changes = self.profiles.boundaries(moment, end, self._tx_starts())
            if changes:
                end = changes[0]
            self._allocate(moment)
            hours = (end - moment).total_seconds() / 3600
            for evse in self.evses.values():
                if evse.draw_a > 0:
                    energy = self.config.voltage * evse.draw_a * evse.phases_in_use * hours
                    evse.energy_wh += energy
                    if evse.vehicle is not None:
                        evse.vehicle.store(energy)
            moment = end
        self._settled_at = max(self._settled_at, now)
        self._allocate(now)

    def _allocate(self, at: datetime) -> None:
        """Set what each pilot offers and each vehicle draws at ``at``."""
        demands: dict[int, float] = {}
        for evse in self.evses.values():
            cap = self._evse_cap_a(evse, at, self._tx_start(evse))
            can_charge = evse.transaction is not None and evse.vehicle is not None
            evse.offered_a = cap if can_charge and cap >= MIN_PILOT_CURRENT_A else 0.0
            acceptance = evse.vehicle.acceptance_a() if evse.vehicle is not None else 0.0
            demands[evse.id] = min(evse.offered_a, acceptance)
        shares = share(self._station_cap_a(at), demands)
        for evse in self.evses.values():
            draw = shares[evse.id]
            if draw + 1e-9 < demands[evse.id]:
                evse.offered_a = draw  # the station lowered this pilot to share its supply
            evse.draw_a = draw
            evse.phases_in_use = (
                min(evse.phases, evse.vehicle.phases) if draw > 0 and evse.vehicle else 0
            )

    def _evse_cap_a(self, evse: Evse, at: datetime, tx_start: datetime | None) -> float:
        tx = evse.transaction
        if evse.fault or (tx is not None and tx.authorization_status not in (None, "Accepted")):
            return 0.0
        limits = [evse.max_current_a]
        station = self._station_cap_a(at)
        if station is not None:
            limits.append(station)
        tx_limit = self.profiles.transaction_limit_a(
            evse.id,
            at,
            transaction_id=_tx_key(tx) if tx is not None else None,
            tx_start=tx_start,
            voltage=self.config.voltage,
            phases=evse.phases,
        )
        if tx_limit is not None:
            limits.append(tx_limit)
        return max(0.0, min(limits))

    def _station_cap_a(self, at: datetime) -> float | None:
        limits = [
            limit
            for limit in (
                self.profiles.station_limit_a(at, self.config.voltage, self.config.phases),
                self.config.station_max_current_a,
            )
            if limit is not None
        ]
        return min(limits) if limits else None

    def _tx_start(self, evse: Evse) -> datetime | None:
        return evse.transaction.started_at if evse.transaction is not None else None

    def _tx_starts(self) -> dict[int, datetime | None]:
        return {evse.id: self._tx_start(evse) for evse in self.evses.values()}

    def _reading(self, evse: Evse) -> Reading:
        draw, phases = evse.draw_a, evse.phases_in_use
        return Reading(
            at=self.clock.now(),
            energy_wh=evse.register_wh,
            power_w=self.config.voltage * draw * phases,
            currents_a=tuple(draw if n < phases else 0.0 for n in range(3)),  # type: ignore[arg-type]
            voltage_v=self.config.voltage,
            phases=evse.phases,
            soc=evse.vehicle.soc if evse.vehicle is not None else None,
        )

    # ---- driver actions -------------------------------------------------------------------

    async def plug_in(self, evse_id: int = 1, vehicle: Vehicle | None = None) -> None:
        evse = self._evse(evse_id)
        if evse.vehicle is not None:
            raise SimulatorError(f"EVSE {evse_id} already has a vehicle")
        self._settle()
        evse.vehicle = vehicle or Vehicle()
        evse.finishing = False
        pending = evse.pending_start
        self._clear_pending_start(evse)
        if pending is not None:
            await self._begin_quietly(
                evse,
                pending.id_tag,
                pending.token_type,
                trigger="CablePluggedIn",
                remote_start_id=pending.remote_start_id,
                profile=pending.profile,
            )
        await self._refresh_status(evse)

    async def unplug(self, evse_id: int = 1) -> None:
        """The driver leaves; a running transaction ends with reason EVDisconnected."""
        evse = self._evse(evse_id)
        if evse.vehicle is None:
            raise SimulatorError(f"EVSE {evse_id} has no vehicle")
        if evse.transaction is not None:
            await self._end_transaction(evse, reason="EVDisconnected")
        evse.vehicle = None
        evse.finishing = False
        await self._refresh_status(evse)

    async def authorize(self, id_tag: str, token_type: str = "ISO14443") -> str:
        """Ask the CSMS (or, offline, the local list and cache) whether a token may charge."""
        local = self._local_authorization(id_tag)
        if self.settings.get_bool("LocalPreAuthorize") and local == "Accepted":
            return local
        if self.online:
            try:
                result = await self._call(self._proto.authorize(id_tag, token_type))
            except StationOffline:
                pass
            else:
                status = self._proto.authorize_status(result)
                if self.settings.get_bool("AuthorizationCacheEnabled"):
                    self.auth_cache[id_tag] = status
                return status
        if self.settings.get_bool("LocalAuthorizeOffline") and local is not None:
            return local
        if self.settings.get_bool("AllowOfflineTxForUnknownId"):
            return "Accepted"
        return "Invalid"

    async def start_session(
        self,
        evse_id: int = 1,
        id_tag: str = "",
        *,
        token_type: str = "ISO14443",
        authorize: bool = True,
    ) -> int | str | None:
        """Authorise ``id_tag`` and start a transaction on a plugged-in EVSE.

        Returns the transaction id: 1.6 the CSMS's integer (None when started offline, until
        the queue is replayed), 2.0.1 the station's own id.  Raises SessionRefused.
        """
        evse = self._evse(evse_id)
        self._check_can_start(evse, id_tag)
        if evse.vehicle is None:
            raise SimulatorError(f"EVSE {evse_id} has no vehicle plugged in")
        if authorize:
            status = await self.authorize(id_tag, token_type)
            if status != "Accepted":
                raise SessionRefused(status, f"token {id_tag}")
        tx = await self._begin(evse, id_tag, token_type, trigger="Authorized")
        return tx.transaction_id

    async def stop_session(
        self, evse_id: int = 1, *, reason: str = "Local", id_tag: str | None = None
    ) -> int:
        """End the transaction (the cable stays in: status Finishing).  Returns meterStop."""
        evse = self._evse(evse_id)
        if evse.transaction is None:
            raise SimulatorError(f"no transaction on EVSE {evse_id}")
        return await self._end_transaction(evse, reason=reason, id_tag=id_tag)

    async def send_meter_values(
        self, evse_id: int = 1, *, context: str = "Sample.Periodic"
    ) -> None:
        """Meter values now: with the transaction (queued while offline) or, without one,
        only when online."""
        evse = self._evse(evse_id)
        self._settle()
        reading = self._reading(evse)
        tx = evse.transaction
        if tx is not None and context == "Sample.Periodic":
            await self._enqueue(
                self._proto.transaction_updated(tx, evse, reading, "MeterValuePeriodic")
            )
        else:
            await self._send(self._proto.meter_values(evse, reading, context))
        await self._refresh_status(evse)

    async def send_heartbeat(self) -> None:
        await self._call(self._proto.heartbeat())

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> Any:
        """Station-initiated DataTransfer; returns the CSMS's result."""
        return await self._call(self._proto.data_transfer(vendor_id, message_id, data))

    async def security_event(self, kind: str, tech_info: str | None = None) -> None:
        await self._send(self._proto.security_event(kind, format_time(self.clock.now()), tech_info))

    async def fault(self, evse_id: int = 1, error_code: str = "GroundFailure") -> None:
        """The EVSE stops delivering energy and reports Faulted until clear_fault."""
        evse = self._evse(evse_id)
        self._settle()
        evse.fault = error_code
        await self._refresh_status(evse)

    async def clear_fault(self, evse_id: int = 1) -> None:
        evse = self._evse(evse_id)
        self._settle()
        evse.fault = None
        await self._refresh_status(evse)

    # ---- transactions ---------------------------------------------------------------------

    def _check_can_start(self, evse: Evse, id_tag: str) -> None:
        if evse.transaction is not None:
            raise SimulatorError(f"EVSE {evse.id} already has a transaction")
        if evse.fault:
            raise SessionRefused("Faulted", f"EVSE {evse.id}")
        if not evse.operative:
            raise SessionRefused("Unavailable", f"EVSE {evse.id}")
        reservation = evse.reservation
        if reservation is not None and id_tag not in (
            reservation.id_tag,
            reservation.parent_id_tag,
        ):
            raise SessionRefused("Reserved", f"EVSE {evse.id} is reserved for another driver")

    async def _begin(
        self,
        evse: Evse,
        id_tag: str,
        token_type: str,
        *,
        trigger: str,
        remote_start_id: int | None = None,
        profile: ChargingProfile | None = None,
    ) -> Transaction:
        self._check_can_start(evse, id_tag)
        self._clear_pending_start(evse)
        self._settle()
        reservation = evse.reservation
        if reservation is not None:
            self._end_reservation(evse)
        tx = Transaction(
            evse_id=evse.id,
            id_tag=id_tag,
            token_type=token_type,
            started_at=self.clock.now(),
            meter_start=evse.register_wh,
            remote_start_id=remote_start_id,
            reservation_id=reservation.id if reservation is not None else None,
            started_offline=not self.online,
        )
        if self.version == "2.0.1":
            tx.transaction_id = tx.local_id
        evse.transaction = tx
        evse.finishing = False
        if profile is not None:
            self.profiles.install(profile)
        self._allocate(self.clock.now())
        await self._enqueue(self._proto.transaction_started(tx, evse, self._reading(evse), trigger))
        await self._refresh_status(evse)
        if tx.authorization_status not in (None, "Accepted"):
            await self._deauthorize(tx)
            raise SessionRefused(tx.authorization_status or "Invalid", "refused at start")
        return tx

    async def _begin_quietly(self, evse: Evse, id_tag: str, token_type: str, **kwargs: Any) -> None:
        """Start for a remote request: no caller to tell, so a refusal is only logged."""
        try:
            await self._begin(evse, id_tag, token_type, **kwargs)
        except SimulatorError as error:
            logger.info("%s: remote start on EVSE %s refused: %s", self.identity, evse.id, error)

    async def _deauthorize(self, tx: Transaction) -> None:
        """The CSMS refused the token of a running transaction."""
        evse = self.evses[tx.evse_id]
        if evse.transaction is not tx:
            return
        if self.settings.get_bool("StopTransactionOnInvalidId"):
            await self._end_transaction(evse, reason="DeAuthorized")
        else:  # the transaction goes on without energy (_evse_cap_a gives 0 A)
            await self._refresh_status(evse)

    async def _end_transaction(self, evse: Evse, *, reason: str, id_tag: str | None = None) -> int:
        self._settle()
        tx = evse.transaction
        assert tx is not None
        reading = self._reading(evse)
        tx.ended_at = reading.at
        tx.stop_reason = reason
        tx.meter_stop = reading.energy_wh
        evse.transaction = None
        evse.finishing = evse.vehicle is not None
        self.profiles.remove_transaction_profiles(evse.id)
        self._allocate(self.clock.now())
        await self._enqueue(self._proto.transaction_ended(tx, evse, reading, reason))
        await self._after_transaction(evse)
        await self._refresh_status(evse)
        return tx.meter_stop

    async def _after_transaction(self, evse: Evse) -> None:
        if evse.scheduled_operative is not None:
            evse.operative, evse.scheduled_operative = evse.scheduled_operative, None
        if self._reset_when_idle and not any(e.transaction for e in self.evses.values()):
            kind, self._reset_when_idle = self._reset_when_idle, None
            self._spawn(self.reset(kind))

    # ---- statuses -------------------------------------------------------------------------

    async def _refresh_status(self, evse: Evse, *, force: bool = False) -> None:
        """Tell the CSMS about a status change (and, in 2.0.1, a charging-state change)."""
        self._settle()
        previous, status = evse.reported_status, evse.status()
        tx = evse.transaction
        if (
            tx is not None
            and self.version == "2.0.1"
            and tx.charging_state is not None
            and tx.charging_state != evse.charging_state_v201()
        ):
            await self._enqueue(
                self._proto.transaction_updated(
                    tx, evse, self._reading(evse), "ChargingStateChanged"
                )
            )
        if status == previous and not force:
            return
        if not self.online:
            return  # every status is sent again after the next boot
        evse.reported_status = status
        for payload in self._proto.status_notifications(evse, previous, force):
            await self._send(payload)

    async def _send_all_statuses(self) -> None:
        await self._send(self._proto.station_status_notification())
        for evse in self.evses.values():
            await self._refresh_status(evse, force=True)

    async def refresh_statuses(self) -> None:
        for evse in self.evses.values():
            await self._refresh_status(evse)

    # ---- what the CSMS asks (called by the protocol handlers) -----------------------------

    def remote_start_accept(
        self,
        evse_id: int | None,
        id_tag: str,
        token_type: str,
        remote_start_id: int | None,
        profile: ChargingProfile | None,
    ) -> Evse | None:
        """Pick and hold the EVSE for a remote start, or None to reject it.  A remote start
        prefers an EVSE where a vehicle waits; without one it waits ConnectionTimeOut."""
        candidates = [self.evses.get(evse_id)] if evse_id else list(self.evses.values())
        usable = []
        for evse in candidates:
            if evse is None or evse.pending_start is not None:
                continue
            try:
                self._check_can_start(evse, id_tag)
            except SimulatorError:
                continue
            usable.append(evse)
        if not usable:
            return None
        evse = next((e for e in usable if e.vehicle is not None), usable[0])
        timeout = self.settings.get_int("ConnectionTimeOut")
        evse.pending_start = PendingStart(
            id_tag=id_tag,
            token_type=token_type,
            remote_start_id=remote_start_id,
            expires_at=self.clock.now() + timedelta(seconds=timeout),
            profile=profile,
        )
        return evse

    async def remote_start(self, evse: Evse) -> None:
        """After accepting a remote start: authorise if configured, then start at once when
        the cable is in, else when it is plugged in (plug_in picks up the pending start)."""
        pending = evse.pending_start
        if pending is None:
            return
        if self.settings.get_bool("AuthorizeRemoteTxRequests"):
            status = await self.authorize(pending.id_tag, pending.token_type)
            if status != "Accepted":
                self._clear_pending_start(evse)
                await self._refresh_status(evse)
                return
        if evse.vehicle is not None:
            self._clear_pending_start(evse)
            await self._begin_quietly(
                evse,
                pending.id_tag,
                pending.token_type,
                trigger="RemoteStart",
                remote_start_id=pending.remote_start_id,
                profile=pending.profile,
            )
            return
        self._set_timer(f"pending-{evse.id}", pending.expires_at, lambda: self._expire_start(evse))
        await self._refresh_status(evse)

    async def _expire_start(self, evse: Evse) -> None:
        evse.pending_start = None
        await self._refresh_status(evse)

    def _clear_pending_start(self, evse: Evse) -> None:
        evse.pending_start = None
        self._cancel_timer(f"pending-{evse.id}")

    def find_transaction(self, transaction_id: int | str) -> Evse | None:
        for evse in self.evses.values():
            tx = evse.transaction
            if tx is not None and str(tx.transaction_id) == str(transaction_id):
                return evse
        return None

    async def remote_stop(self, evse: Evse) -> None:
        if evse.transaction is not None:
            await self._end_transaction(evse, reason="Remote")

    def reset_accept(self, kind: str) -> str:
        """kind: Soft, Hard (1.6), Immediate, OnIdle (2.0.1).  Accepted or Scheduled."""
        if kind == "OnIdle" and any(e.transaction for e in self.evses.values()):
            self._reset_when_idle = kind
            return "Scheduled"
        return "Accepted"

    async def reset(self, kind: str) -> None:
        stop_reason = {"Soft": "SoftReset", "Hard": "HardReset"}.get(kind, "ImmediateReset")
        await self.security_event("ResetOrReboot", f"{kind} reset requested by the CSMS")
        await self.reboot(stop_reason=stop_reason, boot_reason="RemoteReset")

    async def unlock(self, evse: Evse) -> None:
        """1.6 UnlockConnector during a transaction ends it first."""
        if evse.transaction is not None:
            await self._end_transaction(evse, reason="UnlockCommand")

    def change_availability(self, evse_id: int, operative: bool) -> str:
        """evse_id 0: the whole station.  Accepted, Scheduled (after the running transaction)
        or Rejected."""
        if evse_id and evse_id not in self.evses:
            return "Rejected"
        self._settle()
        targets = list(self.evses.values()) if evse_id == 0 else [self.evses[evse_id]]
        scheduled = False
        for evse in targets:
            if evse.transaction is not None and not operative:
                evse.scheduled_operative = False
                scheduled = True
            else:
                evse.operative, evse.scheduled_operative = operative, None
        return "Scheduled" if scheduled else "Accepted"

    async def availability_changed(self, evse_id: int) -> None:
        if evse_id == 0:
            await self._send(self._proto.station_status_notification())
        await self.refresh_statuses()

    def check_profile(self, profile: ChargingProfile) -> str | None:
        """Why this station cannot take ``profile`` (transactions aside), or None."""
        return validation_error(
            profile,
            evse_count=self.config.evse_count,
            max_stack_level=self.settings.get_int("ChargeProfileMaxStackLevel"),
            allowed_units=self.allowed_units(),
            max_periods=self.settings.get_int("ChargingScheduleMaxPeriods"),
        )

    def set_charging_profile(self, profile: ChargingProfile) -> str | None:
        """Install a profile; returns why it is refused, or None when accepted."""
        error = self.check_profile(profile)
        if error:
            return error
        if profile.purpose == Purpose.TX:
            tx = self.evses[profile.evse_id].transaction
            if tx is None:
                return "a TxProfile needs a running transaction"
            if profile.transaction_id is not None and profile.transaction_id != _tx_key(tx):
                return f"no transaction {profile.transaction_id} on EVSE {profile.evse_id}"
        replaces = any(
            p.id == profile.id
            or (p.evse_id, p.purpose, p.stack_level)
            == (profile.evse_id, profile.purpose, profile.stack_level)
            for p in self.profiles
        )
        if not replaces and len(self.profiles) >= self.settings.get_int(
            "MaxChargingProfilesInstalled"
        ):
            return "too many profiles installed"
        self._settle()  # energy so far was delivered under the old limits
        self.profiles.install(profile)
        self._allocate(self.clock.now())
        return None

    def clear_charging_profiles(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> bool:
        self._settle()
        removed = self.profiles.clear(
            profile_id=profile_id, evse_id=evse_id, purpose=purpose, stack_level=stack_level
        )
        self._allocate(self.clock.now())
        return removed > 0

    def allowed_units(self) -> set[str]:
        if self.version == "1.6":
            names = {"Current": "A", "Power": "W"}
            return {
                names[u]
                for u in self.settings.get_list("ChargingScheduleAllowedChargingRateUnit")
                if u in names
            }
        return set(self.settings.get_list("RateUnit"))

    def composite_schedule(
        self, evse_id: int, duration: int, unit: str | None
    ) -> CompositeSchedule | None:
        """What the station will apply from now for ``duration`` seconds: hardware, station
        maximum and transaction limits combined.  None when the EVSE or unit is unknown."""
        allowed = self.allowed_units()
        unit = unit or ("A" if "A" in allowed else "W")
        if unit not in allowed or (evse_id and evse_id not in self.evses):
            return None
        self._settle()
        start = self.clock.now()
        end = start + timedelta(seconds=duration)
        # Without a transaction, relative profiles count from now, as for a session
        # starting now.
        tx_starts = {e.id: self._tx_start(e) or start for e in self.evses.values()}
        moments = [start, *(m for m in self.profiles.boundaries(start, end, tx_starts) if m < end)]
        voltage = self.config.voltage
        points = []
        for moment in moments:
            if evse_id == 0:
                hardware = sum(e.max_current_a for e in self.evses.values())
                station = self._station_cap_a(moment)
                amps_now = hardware if station is None else min(hardware, station)
                phases = self.config.phases
            else:
                evse = self.evses[evse_id]
                amps_now = self._evse_cap_a(evse, moment, tx_starts[evse_id])
                phases = evse.phases
            value = amps_now if unit == "A" else amps_now * voltage * phases
            points.append((int((moment - start).total_seconds()), floor_tenth(value)))
        return CompositeSchedule(evse_id, start, duration, unit, merge_periods(points))

    async def limits_changed(self) -> None:
        """After a profile change: report what changed for the vehicles."""
        await self.refresh_statuses()

    def reserve(
        self,
        reservation_id: int,
        evse_id: int | None,
        id_tag: str,
        expires_at: datetime,
        parent_id_tag: str | None = None,
    ) -> str:
        """Accepted, Faulted, Occupied, Rejected or Unavailable.  evse_id None: any EVSE."""
        if evse_id == 0:
            return "Rejected"  # ReserveConnectorZeroSupported is false
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                self._end_reservation(evse)
        if evse_id is None:
            free = [e for e in self.evses.values() if e.status() == "Available"]
            if not free:
                return "Occupied"
            evse = free[0]
        elif evse_id not in self.evses:
            return "Rejected"
        else:
            evse = self.evses[evse_id]
        if evse.fault:
            return "Faulted"
        if not evse.operative:
            return "Unavailable"
        if evse.status() != "Available":
            return "Occupied"
        evse.reservation = Reservation(reservation_id, evse.id, id_tag, expires_at, parent_id_tag)
        self._set_timer(
            f"reservation-{evse.id}", expires_at, lambda: self._expire_reservation(evse)
        )
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> Reservation | None:
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                reservation = evse.reservation
                self._end_reservation(evse)
                return reservation
        return None

    def _end_reservation(self, evse: Evse) -> None:
        evse.reservation = None
        self._cancel_timer(f"reservation-{evse.id}")

    async def _expire_reservation(self, evse: Evse) -> None:
        reservation = evse.reservation
        if reservation is None:
            return
        evse.reservation = None
        await self._send(self._proto.reservation_ended(reservation, "Expired"))
        await self._refresh_status(evse)

    def update_local_list(
        self, version: int, full: bool, entries: list[tuple[str, str | None]]
    ) -> str:
        """Accepted, Failed or VersionMismatch.  An entry's status None removes it."""
        if not self.settings.get_bool("LocalAuthListEnabled"):
            return "Failed"
        if not full and version <= self.local_list_version:
            return "VersionMismatch"
        if len(entries) > self.settings.get_int("SendLocalListMaxLength"):
            return "Failed"
        updated = {} if full else dict(self.local_list)
        for id_tag, status in entries:
            if status is None:
                updated.pop(id_tag, None)
            else:
                updated[id_tag] = status
        if len(updated) > self.settings.get_int("LocalAuthListMaxLength"):
            return "Failed"
        self.local_list, self.local_list_version = updated, version
        return "Accepted"

    def _local_authorization(self, id_tag: str) -> str | None:
        if self.settings.get_bool("LocalAuthListEnabled") and id_tag in self.local_list:
            return self.local_list[id_tag]
        if self.settings.get_bool("AuthorizationCacheEnabled") and id_tag in self.auth_cache:
            return self.auth_cache[id_tag]
        return None

    def trigger_accept(self, message: str, evse_id: int | None) -> str:
        """Accepted, Rejected or NotImplemented (names as in the version's enum)."""
        supported = {
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
            "FirmwareStatusNotification",
            "DiagnosticsStatusNotification",
            "LogStatusNotification",
            "TransactionEvent",
        }
        if message not in supported:
            return "NotImplemented"
        if evse_id and evse_id not in self.evses:
            return "Rejected"
        if message == "BootNotification" and self.version == "2.0.1" and self._online:
            return "Rejected"  # F06.FR.17: only while not yet accepted
        if message == "TransactionEvent":
            evses = [self.evses[evse_id]] if evse_id else list(self.evses.values())
            if not any(e.transaction for e in evses):
                return "Rejected"
        return "Accepted"

    async def triggered(self, message: str, evse_id: int | None) -> None:
        evses = [self.evses[evse_id]] if evse_id else list(self.evses.values())
        if message == "BootNotification":
            await self._boot()
        elif message == "Heartbeat":
            await self._send(self._proto.heartbeat())
        elif message == "StatusNotification":
            if not evse_id:
                await self._send(self._proto.station_status_notification())
            for evse in evses:
                await self._refresh_status(evse, force=True)
        elif message == "MeterValues":
            for evse in evses:
                await self.send_meter_values(evse.id, context="Trigger")
        elif message == "TransactionEvent":
            self._settle()
            for evse in evses:
                if evse.transaction is not None:
                    await self._enqueue(
                        self._proto.transaction_updated(
                            evse.transaction, evse, self._reading(evse), "Trigger"
                        )
                    )
        elif message == "FirmwareStatusNotification":
            await self._send(self._proto.firmware_status(self.firmware_status, None))
        else:  # DiagnosticsStatusNotification / LogStatusNotification
            await self._send(self._proto.upload_status(self.upload_state, None))

    def firmware_update_accept(self) -> bool:
        """One update at a time; the caller then runs update_firmware."""
        if self._firmware_busy:
            return False
        self._firmware_busy = True
        return True

    async def update_firmware(
        self,
        location: str,
        *,
        retrieve_at: datetime | None,
        install_at: datetime | None = None,
        request_id: int | None = None,
        signed: bool = False,
    ) -> None:
        """Download, install, reboot, report.  The transfer is simulated (no bytes move): it
        takes ``transfer_seconds`` per step and fails for a scheme the station does not
        support.  The new version is read from the file name (``.../fw-2.1.0.bin`` → 2.1.0)."""
        try:
            await self._run_firmware_update(location, retrieve_at, install_at, request_id, signed)
        finally:
            self._firmware_busy = False

    async def _run_firmware_update(
        self,
        location: str,
        retrieve_at: datetime | None,
        install_at: datetime | None,
        request_id: int | None,
        signed: bool,
    ) -> None:
        if retrieve_at is not None and retrieve_at > self.clock.now():
            await self._firmware_step("DownloadScheduled", request_id)
            await sleep_until(self.clock, retrieve_at)
        await self._firmware_step("Downloading", request_id)
        await self.clock.sleep(self.config.transfer_seconds)
        if not self._transfer_possible(location):
            await self._firmware_step("DownloadFailed", request_id)
            self.firmware_status = "Idle"
            return
        await self._firmware_step("Downloaded", request_id)
        if signed:
            await self._firmware_step("SignatureVerified", request_id)
        if install_at is not None and install_at > self.clock.now():
            await self._firmware_step("InstallScheduled", request_id)
            await sleep_until(self.clock, install_at)
        if any(e.transaction for e in self.evses.values()):
            await self._firmware_step("InstallScheduled", request_id)
            while any(e.transaction for e in self.evses.values()):
                await self.clock.sleep(1)
        await self._firmware_step("Installing", request_id)
        await self.clock.sleep(self.config.transfer_seconds)
        await self._firmware_step("InstallRebooting", request_id)
        self.firmware_version = version_from_location(location)
        await self.reboot(stop_reason="Reboot", boot_reason="FirmwareUpdate")
        while not self.online:
            await asyncio.sleep(0.05)
        await self._firmware_step("Installed", request_id)
        self.firmware_status = "Idle"
        await self.security_event("FirmwareUpdated", f"now running {self.firmware_version}")

    async def _firmware_step(self, status: str, request_id: int | None) -> None:
        self.firmware_status = status
        await self._send(self._proto.firmware_status(status, request_id))

    def log_file_name(self) -> str:
        return f"{self.identity}-{self.clock.now():%Y%m%dT%H%M%SZ}.log"

    async def upload_log(self, location: str, request_id: int | None) -> None:
        """Simulated upload of the diagnostics / log file: Uploading, then Uploaded, or Failed
        for a scheme the station does not support."""
        self.upload_state = "Uploading"
        await self._send(self._proto.upload_status("Uploading", request_id))
        await self.clock.sleep(self.config.transfer_seconds)
        outcome = "Uploaded" if self._transfer_possible(location) else "Failed"
        await self._send(self._proto.upload_status(outcome, request_id))
        self.upload_state = "Idle"

    def _transfer_possible(self, location: str) -> bool:
        scheme = urlparse(location).scheme.upper()
        return scheme in set(self.settings.get_list("SupportedFileTransferProtocols"))

    def clear_cache(self) -> None:
        self.auth_cache.clear()

    def handle_data_transfer(
        self, vendor_id: str, message_id: str | None, data: Any
    ) -> tuple[str, Any]:
        handler = self.data_transfer_handlers.get((vendor_id, message_id))
        handler = handler or self.data_transfer_handlers.get((vendor_id, None))
        if handler is not None:
            return handler(data)
        if any(vendor == vendor_id for vendor, _ in self.data_transfer_handlers):
            return "UnknownMessageId", None
        return "UnknownVendorId", None

    def _evse(self, evse_id: int) -> Evse:
        try:
            return self.evses[evse_id]
        except KeyError:
            raise SimulatorError(f"{self.identity} has no EVSE {evse_id}") from None


def _tx_key(tx: Transaction) -> str:
    """How charging profiles name a transaction (local id until the CSMS has issued one)."""
    return str(tx.transaction_id) if tx.transaction_id is not None else f"local:{tx.local_id}"


def version_from_location(location: str) -> str:
    """The firmware version in a download URL's file name: ``fw-2.1.0.bin`` → ``2.1.0``."""
    name = urlparse(location).path.rsplit("/", 1)[-1]
    found = re.search(r"\d+(?:\.\d+)+", name)
    if found:
        return found.group(0)
    return name.rsplit(".", 1)[0] or "unknown"


def _protocol_for(station: SimulatedStation) -> Protocol:
    if station.config.version == "1.6":
        from .ocpp16 import Ocpp16

        return Ocpp16(station)
    from .ocpp201 import Ocpp201

    return Ocpp201(station)
