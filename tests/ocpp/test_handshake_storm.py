"""Handshakes under a reconnect storm (issue 21.2, 21.6), against a real server process.

To hold a handshake or a connect's consequences at a chosen point, the tests take real
PostgreSQL locks from a connection of their own: ``LOCK TABLE`` on the public station registry
keeps a handshake that is not cached waiting in its lookup (pending), and ``SELECT ... FOR
UPDATE`` on a station row holds what a connect writes (online, history, events)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

import psycopg
import pytest
from django.db import connection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from apps.monitoring.choices import AlertKind
from apps.monitoring.models import Alert
from apps.monitoring.services.alerts import alert_raise
from apps.stations.models import Station, StatusChange
from config.embedded import with_database
from tests.live import ServerProcess, basic_auth, wait_until
from tests.ocpp.clients import in_db, raw_exchange

BOOT16 = '[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'


@pytest.fixture(scope="module")
def small_gate_server(django_db_setup):
    """A server that lets at most two handshakes be in progress at once."""
    process = ServerProcess("ocpp-gate").start(OCPP_MAX_PENDING_HANDSHAKES="2")
    yield process
    process.stop()


class Locks:
    """A PostgreSQL session of the test's own, holding locks until ``release()``."""

    def __init__(self) -> None:
        url = with_database(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])
        self.conn = psycopg.connect(url)
        self.database = connection.settings_dict["NAME"]

    def registry(self) -> None:
        self.conn.execute("LOCK TABLE public.tenants_stationidentity IN ACCESS EXCLUSIVE MODE")

    def station_row(self, schema: str, station_id: int) -> None:
        self.conn.execute(
            f'SELECT 1 FROM "{schema}".stations_station WHERE id = %s FOR UPDATE', [station_id]
        )

    def waiters(self) -> int:
        """Server sessions waiting on one of our locks."""
        with psycopg.connect(self.conn.info.dsn, autocommit=True) as other:
            return other.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                [self.database],
            ).fetchone()[0]

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


@contextlib.contextmanager
def held_locks():
    locks = Locks()
    try:
        yield locks
    finally:
        locks.release()


async def open_socket(server, identity, password, *, timeout=10.0):
    return await connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=["ocpp1.6"],
        additional_headers={"Authorization": basic_auth(identity, password)},
        open_timeout=timeout,
    )


async def in_public(fn):
    def run():
        try:
            connection.set_schema_to_public()
            return fn()
        finally:
            connection.close()

    return await asyncio.to_thread(run)


class ServerLog:
    """What the server logged from now on."""

    def __init__(self, server) -> None:
        self.path = server.log_path
        self.start = self.path.stat().st_size

    def new(self) -> str:
        with open(self.path, encoding="utf-8", errors="replace") as log:
            log.seek(self.start)
            return log.read()


# --- 21.6: identities that cannot be a station's --------------------------------------------
async def handshake_status(server, raw_path: str) -> int:
    """The HTTP status a websocket upgrade of ``raw_path`` (sent exactly as written) gets."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            (
                f"GET {raw_path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: ocpp1.6\r\n"
                "Authorization: Basic eDp4eHh4eHh4eHh4eHh4eHh4eA==\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        return int(status_line.split()[1])
    finally:
        writer.close()


@pytest.mark.parametrize(
    "raw_path",
    [
        "/ocpp/A%2FB",
        "/ocpp/%2F",
        "/ocpp/A%00B",
        "/ocpp/%00",
        "/ocpp/..",
        "/ocpp/%2E%2E",
        "/ocpp/../x",
        "/ocpp/CP%2F..%2F..",
        "/ocpp/A%0AB",
        "/ocpp/" + "X" * 49,
        "/ocpp/",
    ],
)
async def test_identities_that_cannot_be_a_station_are_404(server, live_db, raw_path):
    log = ServerLog(server)
    assert await handshake_status(server, raw_path) == 404
    assert "Traceback" not in log.new()


async def test_a_percent_encoded_identity_is_decoded_once(server, make_station):
    station, identity, password = make_station(prefix="CP%41")  # the identity holds "%41"
    encoded = identity.replace("%", "%25")
    async with connect(
        f"{server.ws}/ocpp/{encoded}",
        subprotocols=["ocpp1.6"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        reply = await raw_exchange(ws, BOOT16)
        assert reply[2]["status"] == "Accepted"


# --- 21.2: load shedding ----------------------------------------------------------------------
async def test_over_the_pending_handshake_bound_is_503_with_retry_after(
    small_gate_server, make_station
):
    stations = [make_station() for _ in range(3)]
    with held_locks() as locks:
        locks.registry()  # the first two handshakes wait in their (uncached) lookup
        first = [
            asyncio.create_task(open_socket(small_gate_server, identity, password, timeout=30))
            for _, identity, password in stations[:2]
        ]
        await wait_until(lambda: locks.waiters() >= 2, timeout=10)
        _, identity, password = stations[2]
        started = time.monotonic()
        with pytest.raises(InvalidStatus) as refused:
            await open_socket(small_gate_server, identity, password, timeout=5)
        # Refused at once with a retryable status, not left to time out.
        assert refused.value.response.status_code == 503
        assert time.monotonic() - started < 3
        assert int(refused.value.response.headers["Retry-After"]) >= 1
        locks.release()
        sockets = await asyncio.gather(*first)
    for ws in sockets:
        assert (await raw_exchange(ws, BOOT16))[2]["status"] == "Accepted"
        await ws.close()
    # Once the storm has passed, the refused station gets in.
    ws = await open_socket(small_gate_server, identity, password)
    assert (await raw_exchange(ws, BOOT16))[2]["status"] == "Accepted"
    await ws.close()


# --- 21.2: the newest socket wins, at any moment ------------------------------------------------
async def test_a_newer_socket_supersedes_an_accepted_one_while_its_connect_is_being_written(
    server, make_station, live_alpha
):
    station, identity, password = make_station()
    log = ServerLog(server)
    with held_locks() as locks:
        # What the first connect writes waits on this lock; its handshake must not.
        locks.station_row(live_alpha.schema_name, station.pk)
        older = await open_socket(server, identity, password, timeout=5)
        newer = await open_socket(server, identity, password, timeout=5)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(older.recv(), 10)
        assert closed.value.rcvd.code == 4001
        locks.release()
    assert (await raw_exchange(newer, BOOT16))[2]["status"] == "Accepted"

    def state():
        return Station.objects.values_list("is_online", flat=True).get(pk=station.pk)

    await wait_until(lambda: in_db(live_alpha, state), timeout=10)
    await newer.close()
    new_log = log.new()
    assert "RuntimeError" not in new_log and "Traceback" not in new_log


async def test_a_pending_handshake_superseded_by_a_newer_one_is_refused_cleanly(
    server, make_station
):
    station, identity, password = make_station()
    log = ServerLog(server)
    with held_locks() as locks:
        locks.registry()  # both handshakes wait in their lookup: both pending
        older = asyncio.create_task(open_socket(server, identity, password, timeout=30))
        await wait_until(lambda: locks.waiters() >= 1, timeout=10)
        newer = asyncio.create_task(open_socket(server, identity, password, timeout=30))
        await wait_until(lambda: locks.waiters() >= 2, timeout=10)
        locks.release()
        # Both authenticate when the lock goes; the older ends cleanly either way: refused
        # (409) if it was still pending when the newer claimed the identity, else closed.
        try:
            stale = await older
        except InvalidStatus as refused:
            assert refused.response.status_code == 409
        else:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(stale.recv(), 10)
            assert closed.value.rcvd.code == 4001
        ws = await newer
    assert (await raw_exchange(ws, BOOT16))[2]["status"] == "Accepted"
    await ws.close()
    new_log = log.new()
    assert "RuntimeError" not in new_log and "Traceback" not in new_log


async def test_a_handshake_that_fails_authentication_supersedes_nothing(server, make_station):
    station, identity, password = make_station()
    ws = await open_socket(server, identity, password)
    assert (await raw_exchange(ws, BOOT16))[2]["status"] == "Accepted"
    with pytest.raises(InvalidStatus) as refused:
        await open_socket(server, identity, password + "-wrong")
    assert refused.value.response.status_code == 401
    reply = await raw_exchange(ws, '[2,"h1","Heartbeat",{}]')
    assert reply[0] == 3
    await ws.close()


# --- 21.2: the consequences of a connect run after the accept ---------------------------------
async def test_connect_consequences_run_after_the_accept(server, make_station, live_alpha):
    station, identity, password = make_station()

    def offline_alert():
        Station.objects.filter(pk=station.pk).update(is_online=False)
        alert_raise(station_id=station.pk, kind=AlertKind.OFFLINE, message="gone")

    await in_db(live_alpha, offline_alert)
    with held_locks() as locks:
        locks.station_row(live_alpha.schema_name, station.pk)
        # Accepted although nothing of the connect could be written yet.
        ws = await open_socket(server, identity, password, timeout=5)
        locks.release()

    def consequences():
        online = Station.objects.filter(pk=station.pk, is_online=True).exists()
        history = StatusChange.objects.filter(
            station_id=station.pk, kind="connection", status="Online"
        ).exists()
        # monitoring's station.connected handler clears the offline alert
        cleared = not Alert.objects.filter(
            station_id=station.pk, kind=AlertKind.OFFLINE, cleared_at__isnull=True
        ).exists()
        return online and history and cleared

    await wait_until(lambda: in_db(live_alpha, consequences), timeout=10)
    assert (await raw_exchange(ws, BOOT16))[2]["status"] == "Accepted"
    await ws.close()


# --- The identity cache stays right -----------------------------------------------------------
async def test_a_changed_password_reaches_the_servers_cache(server, make_station, live_alpha):
    from apps.stations.services import station_set_password

    station, identity, password = make_station()
    # Twice: the server's cache serves once its change subscription is up.
    for _ in range(2):
        ws = await open_socket(server, identity, password)
        await ws.close()
        await asyncio.sleep(0.3)

    def change():
        station_set_password(
            station=Station.objects.get(pk=station.pk), password="a-new-password-0123456789"
        )

    await in_db(live_alpha, change)

    async def old_password_refused():
        try:
            ws = await open_socket(server, identity, password)
        except InvalidStatus as error:
            return error.response.status_code == 401
        await ws.close()
        return False

    # Over Redis from this process to the server's, well before the cache's age limit.
    await wait_until(old_password_refused, timeout=3)
    ws = await open_socket(server, identity, "a-new-password-0123456789")
    await ws.close()


async def test_a_legacy_password_hash_is_replaced_at_the_next_login(server, make_station):
    from django.contrib.auth.hashers import make_password

    from apps.tenants.models import StationIdentity

    station, identity, password = make_station()

    def legacy():
        StationIdentity.objects.filter(identity=identity).update(
            password_hash=make_password(password)
        )
        return StationIdentity.objects.get(identity=identity).password_hash

    assert not (await in_public(legacy)).startswith("sha256$")
    ws = await open_socket(server, identity, password)
    await ws.close()

    def stored():
        return StationIdentity.objects.get(identity=identity).password_hash

    assert (await in_public(stored)).startswith("sha256$")
    ws = await open_socket(server, identity, password)  # and the new hash checks
    await ws.close()
