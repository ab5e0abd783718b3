"""End to end: 20 simulated stations on a 100 A panel, through a real server process.

The stations (apps.simulator) connect over websockets to uvicorn + Channels and obey the
charging profiles they receive; this test plays the Celery worker (it calls the same services
the tasks call) and sends through the core's real command service.  After every single push
the current the simulated vehicles draw must stay within 100 A per phase.
"""

from __future__ import annotations

import time
import uuid
import warnings
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.power import selectors, services
from apps.simulator.physics import Vehicle
from apps.simulator.station import SimulatedStation, StationConfig
from tests.live import LoopThread, ServerProcess

pytestmark = pytest.mark.slow

STATIONS = 20
PANEL_A = 100


@dataclass
class Depot:
    tenant: object
    site: object
    stations: list  # apps.stations Station rows
    password: str
    tokens: list[str]


@pytest.fixture(scope="module")
def live_db(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def server(live_db):
    process = ServerProcess("power-live").start()
    yield process
    process.stop()


@pytest.fixture
def depot(live_db):
    from apps.charging.models import ChargingSession
    from apps.charging.services import token_create
    from apps.power.choices import NodeKind
    from apps.stations.models import Station
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import StationIdentity, Tenant

    tenant = Tenant.objects.get(slug="alpha")
    tag = uuid.uuid4().hex[:8].upper()
    password = f"pw-{tag.lower()}-0123456789"
    with tenant_context(tenant):
        site = site_create(name=f"Depot {tag}", timezone="America/Montreal")
        panel = services.power_node_create(
            site=site,
            name="Panel",
            kind=NodeKind.PANEL,
            rating_a=Decimal(PANEL_A),
            continuous_factor=Decimal("1.00"),
        )
        stations = []
        for index in range(STATIONS):
            station = station_register(
                identity=f"PW-{tag}-{index:02d}", password=password, site=site
            )
            services.station_power_set(station=station, node=panel)
            stations.append(station)
        tokens = [f"PW{tag}{index:02d}" for index in range(STATIONS)]
        for token in tokens:
            token_create(uid=token)
    yield Depot(tenant, site, stations, password, tokens)
    # Best effort (names are unique per run): let the server record the disconnections first.
    with tenant_context(tenant):
        deadline = time.monotonic() + 10
        while Station.objects.filter(site=site, is_online=True).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        try:
            ChargingSession.objects.filter(station__site=site).delete()
            Station.objects.filter(site=site).delete()
            site.delete()
        except Exception as error:  # left behind is harmless; failing the run is not
            warnings.warn(f"Depot {tag} left in the test database: {error}", stacklevel=1)
    StationIdentity.objects.filter(identity__startswith=f"PW-{tag}-").delete()


def test_twenty_stations_share_a_100_a_panel(server, depot, monkeypatch):
    # Quick turns so the test sees rotation and raises in seconds, not minutes.
    monkeypatch.setattr(
        selectors,
        "POLICY",
        replace(
            selectors.POLICY,
            raise_interval=timedelta(0),
            hysteresis_da=0,
            rotation_interval=timedelta(seconds=3),
        ),
    )
    loop = LoopThread()
    simulated = [
        SimulatedStation(
            StationConfig(
                identity=station.identity,
                url=f"{server.ws}/ocpp/",
                password=depot.password,
                version="1.6",
                max_current_a=32.0,
                phases=3,
            )
        )
        for station in depot.stations
    ]

    async def total() -> float:
        return round(sum(station.current_draw(1) for station in simulated), 6)

    def drawn() -> float:
        """Amps per phase all vehicles take now (three-phase vehicles: the same on each), read
        in the stations' own thread."""
        return loop.run(total())

    overloads = []

    def send(station, action, payload):
        """The real command service; after each answer (pushes run in parallel: all
        reductions first, then all increases) the vehicles' total must be within the panel."""
        answer = services.station_call(station, action, payload)
        total_now = drawn()
        if total_now > PANEL_A:
            overloads.append(f"{total_now:.1f} A after {action} to {station}")
        return answer

    def worker(step):
        with tenant_context(depot.tenant):
            return step()

    def site_rebalance():
        return worker(lambda: services.site_rebalance(site_id=depot.site.pk, send=send))

    def limits() -> list[float]:
        return [station.limit(1) for station in simulated]

    try:
        for station in simulated:
            assert loop.run(station.connect()) == "Accepted"
        # station.connected: abilities and a 0 A default profile, before any session starts.
        for station in depot.stations:
            assert worker(
                lambda station=station: services.station_power_connect(
                    station_id=station.pk, send=send
                )
            )
        for station, token in zip(simulated, depot.tokens, strict=True):
            loop.run(station.plug_in(1, Vehicle(soc=20, max_current_a=32.0)))
            loop.run(station.start_session(1, token))
        assert drawn() == 0  # the default profile holds them at 0 A until allocated

        # session.started for each, then the rebalance: 16 minimums of 6 A fit in 100 A.
        from apps.charging.models import ChargingSession

        session_ids = worker(
            lambda: list(
                ChargingSession.objects.filter(station__site=depot.site).values_list(
                    "pk", flat=True
                )
            )
        )
        assert len(session_ids) == STATIONS
        for session_id in session_ids:
            worker(
                lambda session_id=session_id: services.session_power_start(session_id=session_id)
            )
        started = time.perf_counter()
        outcome = site_rebalance()
        elapsed = time.perf_counter() - started
        print(
            f"\n{outcome.pushed} profiles pushed in {elapsed:.2f} s "
            f"({outcome.pushed / elapsed:.0f} per second through real connections)"
        )
        assert outcome.pushed == STATIONS and outcome.failed == 0
        assert overloads == []
        powered = [limit > 0 for limit in limits()]
        assert sum(powered) == 16
        assert drawn() <= PANEL_A
        assert all(6.2 <= limit <= 6.3 for limit in limits() if limit > 0)
        paused_first = {index for index, on in enumerate(powered) if not on}

        # Their turn is over: the four that waited get power, four others wait.
        time.sleep(3.5)
        site_rebalance()
        powered_now = {index for index, limit in enumerate(limits()) if limit > 0}
        assert paused_first <= powered_now and len(powered_now) == 16
        assert drawn() <= PANEL_A

        # Five sessions end: the fifteen left all fit, and are raised to 100 / 15 A.
        for station in simulated[:5]:
            loop.run(station.stop_session(1))
        site_rebalance()
        remaining = limits()[5:]
        assert all(6.6 <= limit <= 6.7 for limit in remaining)
        assert drawn() <= PANEL_A
        assert drawn() > 99  # the panel's capacity is used, not left idle
        assert overloads == []
    finally:
        for station in simulated:
            try:
                loop.run(station.close(), timeout=10)
            except Exception:  # a station that already dropped its socket
                pass
        loop.stop()
