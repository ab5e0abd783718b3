"""A small, real OCPP central system for the simulator's tests (1.6J and 2.0.1).

It speaks through the same ``ocpp`` library as the platform, refuses bad credentials at the
handshake, issues 1.6 transaction ids and records every CALL a station sends.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


def now() -> str:
    return datetime.now(UTC).isoformat()


class Recording:
    csms: FakeCsms

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        if message[0] == 2:
            self.csms.calls.append((self.id, message[2], message[3]))
        await super().route_message(raw_msg)  # type: ignore[misc]


class Central16(Recording, ChargePoint16):
    @on("BootNotification")
    def on_boot(self, **_: Any):
        return result16.BootNotification(
            current_time=now(), interval=self.csms.interval, status=self.csms.boot_status
        )

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any):
        return result16.Heartbeat(current_time=now())

    @on("StatusNotification")
    def on_status(self, **_: Any):
        return result16.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_tag: str, **_: Any):
        return result16.Authorize(id_tag_info={"status": self.csms.token_status(id_tag)})

    @on("StartTransaction")
    def on_start(self, id_tag: str, **_: Any):
        return result16.StartTransaction(
            transaction_id=next(self.csms.transaction_ids),
            id_tag_info={"status": self.csms.token_status(id_tag)},
        )

    @on("StopTransaction")
    def on_stop(self, **_: Any):
        return result16.StopTransaction()

    @on("MeterValues")
    def on_meter_values(self, **_: Any):
        return result16.MeterValues()

    @on("FirmwareStatusNotification")
    def on_firmware(self, **_: Any):
        return result16.FirmwareStatusNotification()

    @on("DiagnosticsStatusNotification")
    def on_diagnostics(self, **_: Any):
        return result16.DiagnosticsStatusNotification()

    @on("SecurityEventNotification")
    def on_security(self, **_: Any):
        return result16.SecurityEventNotification()

    @on("DataTransfer")
    def on_data_transfer(self, data: str | None = None, **_: Any):
        return result16.DataTransfer(status="Accepted", data=data)


class Central201(Recording, ChargePoint201):
    @on("BootNotification")
    def on_boot(self, **_: Any):
        return result201.BootNotification(
            current_time=now(), interval=self.csms.interval, status=self.csms.boot_status
        )

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any):
        return result201.Heartbeat(current_time=now())

    @on("StatusNotification")
    def on_status(self, **_: Any):
        return result201.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_token: dict[str, Any], **_: Any):
        status = self.csms.token_status(id_token["id_token"])
        return result201.Authorize(id_token_info={"status": status})

    @on("TransactionEvent")
    def on_transaction_event(self, id_token: dict[str, Any] | None = None, **_: Any):
        if id_token is None:
            return result201.TransactionEvent()
        status = self.csms.token_status(id_token["id_token"])
        return result201.TransactionEvent(id_token_info={"status": status})

    @on("MeterValues")
    def on_meter_values(self, **_: Any):
        return result201.MeterValues()

    @on("FirmwareStatusNotification")
    def on_firmware(self, **_: Any):
        return result201.FirmwareStatusNotification()

    @on("LogStatusNotification")
    def on_log_status(self, **_: Any):
        return result201.LogStatusNotification()

    @on("NotifyReport")
    def on_notify_report(self, **_: Any):
        return result201.NotifyReport()

    @on("SecurityEventNotification")
    def on_security(self, **_: Any):
        return result201.SecurityEventNotification()

    @on("ReservationStatusUpdate")
    def on_reservation_status(self, **_: Any):
        return result201.ReservationStatusUpdate()

    @on("NotifyDisplayMessages")
    def on_display_messages(self, **_: Any):
        return result201.NotifyDisplayMessages()

    @on("ReportChargingProfiles")
    def on_report_profiles(self, **_: Any):
        return result201.ReportChargingProfiles()

    @on("DataTransfer")
    def on_data_transfer(self, data: Any = None, **_: Any):
        return result201.DataTransfer(status="Accepted", data=data)


class FakeCsms:
    """``async with FakeCsms() as csms``: listens on a free port at ``csms.url``."""

    def __init__(self, *, password: str = "pw", tokens: set[str] | None = None) -> None:
        self.password = password
        self.tokens = tokens if tokens is not None else {"TAG1", "TAG2"}
        self.boot_status = "Accepted"
        self.interval = 300
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.stations: dict[str, Any] = {}
        self.transaction_ids = itertools.count(1)
        # Handshakes to refuse next, in order: (HTTP status, Retry-After header or None).
        self.refusals: list[tuple[int, str | None]] = []
        self.handshakes: list[tuple[str, float]] = []  # (identity, loop time) of every attempt
        self._server: Any = None

    async def __aenter__(self) -> FakeCsms:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            process_request=self._check_credentials,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp/"

    def token_status(self, id_tag: str) -> str:
        return "Accepted" if id_tag in self.tokens else "Invalid"

    def _check_credentials(self, connection: ServerConnection, request: Any) -> Any:
        identity = request.path.rsplit("/", 1)[-1]
        self.handshakes.append((identity, asyncio.get_running_loop().time()))
        if self.refusals:
            status, retry_after = self.refusals.pop(0)
            response = connection.respond(status, "Try again later\n")
            if retry_after is not None:
                response.headers["Retry-After"] = retry_after
            return response
        if identity.startswith("UNKNOWN"):
            return connection.respond(HTTPStatus.NOT_FOUND, "Unknown station\n")
        expected = "Basic " + base64.b64encode(f"{identity}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Bad credentials\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        identity = connection.request.path.rsplit("/", 1)[-1]
        cls = Central16 if connection.subprotocol == "ocpp1.6" else Central201
        cp = cls(identity, connection, response_timeout=5)
        cp.csms = self
        self.stations[identity] = cp
        try:
            await cp.start()
        except ConnectionClosed:
            pass

    # ---- for assertions -------------------------------------------------------------------

    def received(self, identity: str, action: str) -> list[dict[str, Any]]:
        return [p for i, a, p in self.calls if i == identity and a == action]

    def actions(self, identity: str) -> list[str]:
        return [a for i, a, _ in self.calls if i == identity]

    async def wait_for(
        self, identity: str, action: str, count: int = 1, timeout: float = 5.0
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while len(self.received(identity, action)) < count:
                await asyncio.sleep(0.005)
        return self.received(identity, action)[count - 1]

    async def send(self, identity: str, payload: Any) -> Any:
        """A CALL to the station; returns its result (raises on a CallError)."""
        return await self.stations[identity].call(payload, suppress=False)

    def drop(self, identity: str) -> None:
        """Cut the station's connection without a closing handshake."""
        self.stations[identity]._connection.transport.abort()
