"""The site power page's live feed, end to end through real processes.

A uvicorn + Channels server and a Celery worker run as separate processes on the test
database; a simulated station (apps.simulator) connects over OCPP, charges a single-phase
vehicle and reports its meter values; a changed circuit limit goes through the service.  Each
time the worker rebalances the site, ``power_tree`` messages must reach the browsers'
``/ws/live/`` socket (a real websocket client with a real session cookie) of people holding
``power.view`` on the site, with the figures of every node: its limit and what is allocated
and drawn on each line.  A valet (stations.view, no power.view), a viewer of another site,
and the owner of another tenant get none; that owner's cookie opens no socket on this
tenant's host, nor does the cookie of a person without any role.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import warnings
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django_tenants.utils import tenant_context
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from apps.simulator.physics import Vehicle
from apps.simulator.station import SimulatedStation, StationConfig
from config.celery import app as celery_app
from tests.live import LoopThread, ServerProcess
from tests.workers import WorkerProcess

pytestmark = pytest.mark.slow

WAIT = 45  # seconds: a loaded two-core machine, a 2 s rebalance debounce, one worker


@pytest.fixture(scope="module")
def live_db(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def server(live_db):
    process = ServerProcess("power-tree").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def worker(live_db):
    celery_app.control.purge()  # what earlier tests queued and nobody consumed
    process = WorkerProcess("power-tree").start()
    yield process
    process.stop()


@pytest.fixture
def loop():
    thread = LoopThread()
    yield thread
    thread.stop()


@dataclass
class Yard:
    tenant: object
    beta: object
    site: object
    supply: object
    circuit: object
    station: object
    password: str
    token: str
    owner: object
    valet: object
    elsewhere: object  # a viewer (power.view) of another site only
    roleless: object
    beta_owner: object


@pytest.fixture
def yard(live_db):
    """A site whose 63 A supply feeds a 20 A circuit (factor 1.00) with one station on it,
    and the people of the scenario (all committed: the server and the worker read them)."""
    from apps.accounts.models import User
    from apps.charging.services import token_create
    from apps.power import services
    from apps.power.choices import NodeKind
    from apps.roles.services import role_assign, role_by_slug
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import Tenant
    from tests.factories import UserFactory

    tenant = Tenant.objects.get(slug="alpha")
    beta = Tenant.objects.get(slug="beta")
    tag = uuid.uuid4().hex[:8].upper()
    password = f"pw-{tag.lower()}-0123456789"
    forget_power_cache(tenant)
    with tenant_context(tenant):
        site = site_create(name=f"Live tree {tag}", timezone="America/Montreal")
        other_site = site_create(name=f"Live tree other {tag}", timezone="America/Montreal")
        supply = services.power_node_create(
            site=site,
            name="Supply",
            kind=NodeKind.SUPPLY,
            rating_a=Decimal("63"),
            continuous_factor=Decimal("1.00"),
        )
        circuit = services.power_node_create(
            site=site,
            name="C1",
            kind=NodeKind.CIRCUIT,
            parent=supply,
            rating_a=Decimal("20"),
            continuous_factor=Decimal("1.00"),
        )
        station = station_register(identity=f"LT-{tag}", password=password, site=site)
        services.station_power_set(station=station, node=circuit)
        token = f"LT{tag}"
        token_create(uid=token)
        owner = User.objects.get(email="owner@alpha.test")
        valet = UserFactory(email=f"valet-{tag.lower()}@alpha.test")
        role_assign(user=valet, role=role_by_slug("valet"), sites=[site])
        elsewhere = UserFactory(email=f"elsewhere-{tag.lower()}@alpha.test")
        role_assign(user=elsewhere, role=role_by_slug("viewer"), sites=[other_site])
        roleless = UserFactory(email=f"roleless-{tag.lower()}@alpha.test")
    with tenant_context(beta):
        beta_owner = User.objects.get(email="owner@beta.test")
    yield Yard(
        tenant,
        beta,
        site,
        supply,
        circuit,
        station,
        password,
        token,
        owner,
        valet,
        elsewhere,
        roleless,
        beta_owner,
    )
    _clean_up(tenant, site, other_site, station)


def forget_power_cache(tenant) -> None:
    """Site and session ids start at 1 again in every new test database, while Redis keeps
    the power keys of earlier runs (a rebalance "already queued" for a minute, a draw "already
    seen"): forget them, or this run's first rebalance may never be queued."""
    from django.core.cache import cache

    with tenant_context(tenant):
        client = cache._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=cache.make_key("power:*")))
        if keys:
            client.delete(*keys)


def _clean_up(tenant, site, other_site, station) -> None:
    """Best effort (names are unique per run): once the server has recorded the station's
    disconnection, the site leaves power management (its tree goes).  The station, its
    session and the site stay: an ended session is priced, and the ledger keeps its rows."""
    from apps.power.models import PowerNode, StationPower
    from apps.stations.models import Station

    with tenant_context(tenant):
        deadline = time.monotonic() + 10
        while Station.objects.filter(pk=station.pk, is_online=True).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        try:
            StationPower.objects.filter(station=station).delete()
            PowerNode.objects.filter(site=site, parent__isnull=False).delete()
            PowerNode.objects.filter(site=site).delete()
            other_site.delete()
        except Exception as error:  # left behind is harmless; failing the run is not
            warnings.warn(f"The tree of {site} left in the test database: {error}", stacklevel=1)


def session_cookie(tenant, user) -> str:
    """A real session of ``user`` in ``tenant``'s schema (what signing in leaves behind)."""
    with tenant_context(tenant):
        client = Client(HTTP_HOST=tenant.get_primary_domain().domain)
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value


@dataclass
class Socket:
    """A real websocket client on /ws/live/ that keeps every message it receives."""

    name: str
    messages: list[dict] = field(default_factory=list)
    connection: object = None
    reader: object = None

    def kinds(self) -> set[str]:
        return {message.get("kind") for message in self.messages}

    def trees(self, site_id: int) -> list[dict]:
        return [
            message
            for message in self.messages
            if message.get("kind") == "power_tree" and message.get("site_id") == site_id
        ]


async def open_socket(server: ServerProcess, host: str, cookie: str, name: str) -> Socket:
    """Connect to the server on 127.0.0.1 with ``host`` in the Host header (tenants are told
    apart by host name), as a browser on that host would."""
    socket = Socket(name)
    socket.connection = await connect(
        f"ws://{host}:{server.port}/ws/live/",
        host="127.0.0.1",
        port=server.port,
        additional_headers={
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
            "Origin": f"http://{host}:{server.port}",
        },
        open_timeout=20,
    )

    async def read() -> None:
        async for text in socket.connection:
            socket.messages.append(json.loads(text))

    socket.reader = asyncio.get_running_loop().create_task(read())
    return socket


async def refused(server: ServerProcess, host: str, cookie: str) -> int:
    """The HTTP status a handshake is refused with (fails if it is accepted)."""
    try:
        connection = await connect(
            f"ws://{host}:{server.port}/ws/live/",
            host="127.0.0.1",
            port=server.port,
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
            open_timeout=20,
        )
    except InvalidStatus as error:
        return error.response.status_code
    await connection.close()
    raise AssertionError(f"the handshake on {host} was accepted")


async def close_socket(socket: Socket) -> None:
    await socket.connection.close()
    socket.reader.cancel()


def managed(yard: Yard) -> bool:
    from apps.power.models import SessionPower

    with tenant_context(yard.tenant):
        return SessionPower.objects.filter(session__station=yard.station).exists()


async def limit_of(station: SimulatedStation) -> float:
    """The TxProfile limit the station applies now (read in the stations' own thread)."""
    return station.limit(1)


def wait_for(predicate, timeout: float = WAIT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met in {timeout} s")
        time.sleep(0.1)


def amps(values: list[str]) -> list[Decimal]:
    return [Decimal(value) for value in values]


def tree_where(socket: Socket, site_id: int, check) -> dict:
    """The first power_tree message of the site that passes ``check`` (waits for it)."""

    def find():
        for message in socket.trees(site_id):
            if check(message):
                return message
        return None

    seen = lambda: [(m["nodes"], m["evses"]) for m in socket.trees(site_id)]  # noqa: E731
    try:
        return wait_for(find, what=f"power_tree on {socket.name}'s socket")
    except AssertionError as error:
        raise AssertionError(f"{error}; received: {seen()}") from None


def test_the_power_tree_goes_live_to_power_viewers_of_the_site_only(server, worker, yard, loop):
    alpha_host = yard.tenant.get_primary_domain().domain
    beta_host = yard.beta.get_primary_domain().domain
    site_id = yard.site.pk
    supply, circuit = str(yard.supply.pk), str(yard.circuit.pk)
    cookies = {
        name: session_cookie(yard.tenant, user)
        for name, user in (
            ("owner", yard.owner),
            ("valet", yard.valet),
            ("elsewhere", yard.elsewhere),
            ("roleless", yard.roleless),
        )
    }
    beta_cookie = session_cookie(yard.beta, yard.beta_owner)

    owner = loop.run(open_socket(server, alpha_host, cookies["owner"], "owner"))
    valet = loop.run(open_socket(server, alpha_host, cookies["valet"], "valet"))
    elsewhere = loop.run(open_socket(server, alpha_host, cookies["elsewhere"], "elsewhere"))
    beta_owner = loop.run(open_socket(server, beta_host, beta_cookie, "beta owner"))
    sockets = (owner, valet, elsewhere, beta_owner)
    # Another tenant's session means nothing on this host; no role, no feed.
    assert loop.run(refused(server, alpha_host, beta_cookie)) == 403
    assert loop.run(refused(server, alpha_host, cookies["roleless"])) == 403

    station = SimulatedStation(
        StationConfig(
            identity=yard.station.identity,
            url=f"{server.ws}/ocpp/",
            password=yard.password,
            version="1.6",
            max_current_a=32.0,
            phases=3,
        )
    )
    try:
        assert loop.run(station.connect()) == "Accepted"
        loop.run(station.plug_in(1, Vehicle(soc=20, max_current_a=32.0, phases=1)))
        loop.run(station.start_session(1, yard.token))
        # The worker allocates the session the circuit's 20 A and pushes it to the station.
        wait_for(lambda: loop.run(limit_of(station)) == 20.0, what="the station at 20 A")
        first = tree_where(
            owner, site_id, lambda m: amps(m["nodes"][circuit]["allocated_a"]) == [20] * 3
        )
        assert first["nodes"][circuit]["limit_a"] == "20.0"
        assert first["nodes"][supply]["limit_a"] == "63.0"

        # The vehicle takes 20 A on L1 only: its meter values say so (once the worker has
        # taken the session under management: a reading before that is not looked at), and
        # the worker rebalances for a single-phase vehicle (the other two lines are free).
        wait_for(lambda: managed(yard), what="the session under power management")
        loop.run(station.send_meter_values(1))
        measured = tree_where(
            owner, site_id, lambda m: amps(m["nodes"][circuit]["drawn_a"]) != [0] * 3
        )
        for node in (circuit, supply):
            assert amps(measured["nodes"][node]["allocated_a"]) == [20, 0, 0]
            assert amps(measured["nodes"][node]["drawn_a"]) == [20, 0, 0]
        assert measured["nodes"][circuit]["limit_a"] == "20.0"
        (evse,) = measured["evses"].values()
        assert amps([evse["limit_a"], evse["draw_a"]]) == [20, 20] and evse["node"] == "C1"

        # The circuit's breaker is changed to 16 A: the worker lowers the station and the
        # page hears of the new limit.
        from apps.power import services

        with tenant_context(yard.tenant), transaction.atomic():
            services.power_node_update(node=yard.circuit, rating_a=Decimal("16"))
        lowered = tree_where(owner, site_id, lambda m: m["nodes"][circuit]["limit_a"] == "16.0")
        assert amps(lowered["nodes"][circuit]["allocated_a"]) == [16, 0, 0]
        assert amps(lowered["nodes"][supply]["allocated_a"]) == [16, 0, 0]
        assert lowered["nodes"][supply]["limit_a"] == "63.0"
        (evse,) = lowered["evses"].values()
        assert amps([evse["limit_a"]]) == [16] and evse["node"] == "C1"
        wait_for(lambda: loop.run(limit_of(station)) == 16.0, what="the station at 16 A")

        # The others' sockets were live all along: the valet sees the session end on the
        # station (a message sent after every power tree above, so it arrives after them).
        loop.run(station.stop_session(1))

        def finishing(socket: Socket) -> bool:
            return any(
                message.get("kind") == "station" and message["evses"][0]["status"] == "Finishing"
                for message in socket.messages
            )

        wait_for(lambda: finishing(valet), what="the valet's station message")
        wait_for(lambda: finishing(owner), what="the owner's station message")
        # ... but no power tree reached the valet, nor the viewer of another site; the other
        # tenant's owner heard nothing of this tenant.
        assert valet.trees(site_id) == [] and "power_tree" not in valet.kinds()
        assert "power_tree" not in elsewhere.kinds()
        assert beta_owner.messages == []
        assert len(owner.trees(site_id)) >= 3
    finally:
        try:
            loop.run(station.close(), timeout=10)
        except Exception:  # a station that already dropped its socket
            pass
        for socket in sockets:
            try:
                loop.run(close_socket(socket), timeout=10)
            except Exception:
                pass
