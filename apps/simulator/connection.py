"""Connection and supervision: the websocket, boot, heartbeats, and reconnecting after a drop
with back-off and jitter, never sooner than a refusing CSMS's Retry-After."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .core import COMMUNICATION_ERRORS, StationCore
from .protocol import wire_form
from .state import HandshakeRefused, SimulatorError, StationOffline
from .timeutil import format_time

logger = logging.getLogger("chargegrid.simulator")


class ConnectionMixin(StationCore):
    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    @property
    def online(self) -> bool:
        """Connected and accepted by the CSMS."""
        return self.connected and self._online

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
            response = error.response
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise HandshakeRefused(response.status_code, retry_after) from error
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
        failure: BaseException | None = None
        while not self._closing:
            await asyncio.sleep(self.backoff_pause(delay, failure))
            try:
                await self._connect_once()
                return
            except COMMUNICATION_ERRORS as error:
                logger.info("%s: reconnect failed: %s", self.identity, error)
                failure = error
                delay = min(delay * 2, self.config.reconnect_max_delay)

    def backoff_pause(self, delay: float, failure: BaseException | None = None) -> float:
        """Real seconds to wait before the next connection attempt: ``delay`` give or take
        20 % (so that a fleet dropped at once does not return at once), and never sooner than
        the Retry-After of a CSMS that refused the last attempt (503 while it sheds load)."""
        pause = delay * self.random.uniform(0.8, 1.2)
        retry_after = failure.retry_after if isinstance(failure, HandshakeRefused) else None
        if retry_after is not None:
            pause = max(pause, retry_after * self.random.uniform(1.0, 1.2))
        return pause

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

    async def notify(self, payload: Any, *, accepted_only: bool = True) -> Any | None:
        """Send a report the CSMS asked for (NotifyReport...); the result, or None when it
        could not go.  ``accepted_only=False``: even before the station is accepted (B02)."""
        return await self._send(payload, accepted_only=accepted_only)

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

    async def send_heartbeat(self) -> None:
        await self._call(self._proto.heartbeat())

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> Any:
        """Station-initiated DataTransfer; returns the CSMS's result."""
        return await self._call(self._proto.data_transfer(vendor_id, message_id, data))

    async def security_event(self, kind: str, tech_info: str | None = None) -> None:
        await self._send(self._proto.security_event(kind, format_time(self.clock.now()), tech_info))


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
