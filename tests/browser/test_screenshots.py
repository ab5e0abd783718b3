"""Screenshots of the dashboard, the map and a station page for the README
(docs/screenshots/), taken on a small demo network with one simulated station charging."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.simulator.physics import Vehicle
from apps.simulator.station import SimulatedStation, StationConfig
from tests.browser.conftest import SCREENSHOTS, page_errors, portal_url
from tests.live import blocking

pytestmark = pytest.mark.slow

SITES = (
    ("Old Port garage", "45.502700", "-73.554000"),
    ("Mile End library", "45.524400", "-73.600700"),
    ("Olympic Park lot", "45.559800", "-73.551500"),
    ("Verdun market", "45.458600", "-73.571000"),
    ("Laval station", "45.557800", "-73.721000"),
)
STATES = (
    ("Available", "Charging"),
    ("Charging", "Charging"),
    ("Available", "Available"),
    ("Finishing", "Available"),
    ("Faulted", "Available"),
    ("Available", "Reserved"),
)


def seed_demo(tenant, tag: str) -> None:
    """A few committed sites and stations in varied states, with history and alerts."""
    from apps.monitoring.models import Alert
    from apps.stations.models import StatusChange
    from apps.stations.services import site_create
    from tests.portal.factories import add_power, make_session, make_station

    rng = random.Random(7)
    now = timezone.now()
    with tenant_context(tenant):
        for site_number, (name, lat, lon) in enumerate(SITES):
            site = site_create(
                name=f"{name} {tag}", latitude=lat, longitude=lon, timezone="America/Montreal"
            )
            for number in range(3):
                index = site_number * 3 + number
                online = index % 7 != 3
                station = make_station(
                    site,
                    f"MTL-{tag}-{index + 1:02d}",
                    statuses=STATES[index % len(STATES)],
                    online=online,
                    vendor=rng.choice(["ABB", "Grizzl-E", "Wallbox"]),
                    model=rng.choice(["Terra AC", "Smart 40", "Pulsar Plus"]),
                )
                StatusChange.objects.create(
                    station=station,
                    kind="connection",
                    status="Online",
                    occurred_at=now - dt.timedelta(days=12),
                )
                for evse_id, status in enumerate(STATES[index % len(STATES)], start=1):
                    if status == "Charging":
                        session = make_session(
                            station,
                            evse_id=evse_id,
                            token=f"CARD-{index}{evse_id}",
                            energy_wh=rng.randint(2000, 18000),
                            started_at=now - dt.timedelta(minutes=95),
                        )
                        for minute in range(0, 90, 3):
                            add_power(
                                session,
                                at=now - dt.timedelta(minutes=90 - minute),
                                watts=6500 + rng.randint(-700, 700),
                            )
                    if status == "Faulted":
                        Alert.objects.create(
                            station=station,
                            evse=station.evses.get(evse_id=evse_id),
                            kind="faulted",
                            message="GroundFailure",
                            error_code="GroundFailure",
                        )
                if not online:
                    Alert.objects.create(
                        station=station,
                        kind="offline",
                        raised_at=now - dt.timedelta(minutes=14),
                    )


def test_screenshots_for_the_readme(network, portal_server, sign_in, loop):
    tag = uuid.uuid4().hex[:4].upper()
    blocking(lambda: seed_demo(network.tenant, tag))
    config = StationConfig(
        identity=network.station_a.identity,
        url=f"ws://127.0.0.1:{portal_server.port}/ocpp/",
        password=network.password_a,
        version="2.0.1",
        evse_count=1,
        meter_interval=2,
        model="SimCharger AC",
        auto=True,
    )

    async def make():
        return SimulatedStation(config)

    station = loop.run(make())
    try:
        page = sign_in(network.host, "owner@alpha.test")
        page.wait_for_selector("#live-indicator.live")
        # The dashboard watches the station arrive and start charging.
        assert loop.run(station.connect()) == "Accepted"
        loop.run(station.plug_in(1, Vehicle(soc=35)))
        loop.run(station.start_session(1, network.token))
        page.wait_for_function("() => document.querySelectorAll('#activity li').length >= 3")
        page.wait_for_timeout(1500)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

        page.goto(portal_url(network, portal_server, "/dashboard/map/"))
        page.wait_for_selector("#live-indicator.live")
        page.evaluate("() => window.chargegridMap.map.setView([45.52, -73.60], 11)")
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / "map.png"))

        page.goto(portal_url(network, portal_server, f"/stations/{network.station_a.pk}/"))
        page.wait_for_selector("#live-indicator.live")
        page.wait_for_function(
            "() => Number(document.querySelector('.power-chart[data-session]')?.dataset.points || 0) >= 2",
            timeout=20_000,
        )
        page.screenshot(path=str(SCREENSHOTS / "station.png"), full_page=True)
        assert page_errors(page) == []
    finally:
        loop.run(station.close())
    for name in ("dashboard", "map", "station"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
