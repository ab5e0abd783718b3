"""Websocket keepalive of the ASGI server as the platform starts it (config.processes), against
a raw websocket client that counts the pings it gets and may refuse to answer them.

The server pings at a short interval here (0.5 s, timeout 1 s) so that the tests take seconds;
production uses the same code with 30 s / 900 s (docs/deployment.md, "Keepalive").
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from django_tenants.utils import tenant_context
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from apps.stations.services import station_register
from apps.tenants.models import Tenant
from tests.live import ServerProcess, basic_auth, unique_identity

pytestmark = pytest.mark.slow

INTERVAL, TIMEOUT = 0.5, 1.0


class RawStation:
    """An OCPP 1.6 station on a bare socket: counts the server's pings; answers them or not."""

    def __init__(self, *, answer_pings: bool) -> None:
        self.answer_pings = answer_pings
        self.pings = 0
        self.closed = False
        self.texts: list[str] = []

    async def open(self, url: str, identity: str, password: str) -> None:
        station = self

        class Protocol(ClientProtocol):
            def send_frame(self, frame: Frame) -> None:
                if frame.opcode is Opcode.PONG and not station.answer_pings:
                    return  # a charger that never answers pings (ocpp issue #626)
                super().send_frame(frame)

        uri = parse_uri(url)
        self.protocol = Protocol(uri, subprotocols=["ocpp1.6"])
        request = self.protocol.connect()
        request.headers["Authorization"] = basic_auth(identity, password)
        self.reader, self.writer = await asyncio.open_connection(uri.host, uri.port)
        self.protocol.send_request(request)
        await self._flush()
        while True:
            events = await self._read(5)
            responses = [event for event in events if isinstance(event, Response)]
            if responses:
                assert responses[0].status_code == 101, responses[0]
                return

    async def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.writer.write(data)
            else:  # the protocol asks to close the TCP connection
                self.writer.close()
        await self.writer.drain()

    async def _read(self, timeout: float) -> list:
        data = await asyncio.wait_for(self.reader.read(65536), timeout)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
            self.closed = True
        events = self.protocol.events_received()
        for event in events:
            if isinstance(event, Frame):
                if event.opcode is Opcode.PING:
                    self.pings += 1
                elif event.opcode is Opcode.TEXT:
                    self.texts.append(event.data.decode())
                elif event.opcode is Opcode.CLOSE:
                    self.closed = True
        await self._flush()  # pongs (when answering) and close replies
        return events

    async def heartbeat(self, number: int) -> None:
        self.protocol.send_text(json.dumps([2, f"hb-{number}", "Heartbeat", {}]).encode())
        await self._flush()

    async def run(self, seconds: float, *, heartbeat_every: float | None = None) -> None:
        """Read for ``seconds`` (sending a Heartbeat every ``heartbeat_every``) or until the
        server closes the connection."""
        end = time.monotonic() + seconds
        next_heartbeat = time.monotonic() if heartbeat_every else end
        sent = 0
        while not self.closed and (now := time.monotonic()) < end:
            if now >= next_heartbeat:
                await self.heartbeat(sent)
                sent += 1
                next_heartbeat = now + heartbeat_every
            try:
                await self._read(max(0.01, min(end, next_heartbeat) - now))
            except TimeoutError:
                pass

    def close(self) -> None:
        self.writer.close()


@pytest.fixture(scope="module")
def keepalive_server(django_db_setup):
    process = ServerProcess("keepalive", ping_interval=INTERVAL, ping_timeout=TIMEOUT).start()
    yield process
    process.stop()


@pytest.fixture
def station(django_db_blocker):
    """A registered station, committed so that the server process sees it."""
    identity = unique_identity("KA")
    password = f"pw-{identity.lower()}-0123456789"
    with django_db_blocker.unblock():
        with tenant_context(Tenant.objects.get(slug="alpha")):
            station_register(identity=identity, password=password, evse_count=1)
    return identity, password


async def connected(server: ServerProcess, station, *, answer_pings: bool) -> RawStation:
    identity, password = station
    client = RawStation(answer_pings=answer_pings)
    await client.open(f"{server.ws}/ocpp/{identity}", identity, password)
    return client


async def test_pings_come_at_the_configured_interval(keepalive_server, station):
    """uvicorn's legacy ``--ws websockets`` with ``--ws-ping-interval 0`` (bin/run before)
    sent hundreds of pings in this time; the shared command pings every INTERVAL seconds."""
    client = await connected(keepalive_server, station, answer_pings=True)
    try:
        await client.run(3.0)
    finally:
        client.close()
    assert not client.closed
    assert 3 <= client.pings <= 8, client.pings  # 3 s / 0.5 s = 6


async def test_station_that_never_answers_pings_stays_while_it_talks(keepalive_server, station):
    """Any traffic counts as alive: heartbeats keep a station that never answers a ping
    connected far beyond the ping timeout, and its messages are answered all along."""
    client = await connected(keepalive_server, station, answer_pings=False)
    try:
        await client.run(4 * (INTERVAL + TIMEOUT), heartbeat_every=0.3)
    finally:
        client.close()
    assert not client.closed, "the server dropped a station that was sending heartbeats"
    assert client.pings >= 3  # it was pinged all along, and never answered
    answers = [json.loads(text) for text in client.texts]
    assert len([a for a in answers if a[0] == 3 and a[1].startswith("hb-")]) >= 15


async def test_silent_station_that_never_answers_pings_is_closed(keepalive_server, station):
    """The timeout is real: no pong and no frame at all for TIMEOUT after a ping -> closed."""
    client = await connected(keepalive_server, station, answer_pings=False)
    started = time.monotonic()
    try:
        await client.run(4 * (INTERVAL + TIMEOUT))
    finally:
        client.close()
    assert client.closed
    assert time.monotonic() - started < 2 * (INTERVAL + TIMEOUT)
