"""The portal in a real browser: live dashboard and map, remote reset, a delegate's view.
Screenshots of the dashboard, the map and the station page go to docs/screenshots/."""

from __future__ import annotations

import pytest

from apps.simulator.physics import Vehicle
from apps.simulator.station import SimulatedStation, StationConfig
from tests.browser.conftest import page_errors, portal_url, watch_errors

pytestmark = pytest.mark.slow


def simulated(network, server, loop, identity=None, password=None) -> SimulatedStation:
    config = StationConfig(
        identity=identity or network.station_a.identity,
        url=f"ws://127.0.0.1:{server.port}/ocpp/",
        password=password or network.password_a,
        version="1.6",
        evse_count=1,
        meter_interval=5,
        vendor="ChargeGrid",
        model="SimCharger AC",
        firmware_version="2.4.1",
        reboot_delay=2.0,
    )

    async def make():
        return SimulatedStation(config)

    return loop.run(make())


def count(page, state: str) -> int:
    return int(page.locator(f'[data-count="{state}"]').inner_text())


def marker_state(page, station_id: int) -> str | None:
    return page.evaluate(
        """(id) => {
            const marker = window.chargegridMap.markers()[id];
            return marker ? marker.options.state : null;
        }""",
        station_id,
    )


def wait_live(page) -> None:
    page.wait_for_selector("#live-indicator.live", timeout=10_000)


def test_dashboard_and_map_follow_a_station_from_offline_to_charging(
    network, portal_server, sign_in, loop
):
    dashboard = sign_in(network.host, "owner@alpha.test")
    wait_live(dashboard)
    map_page = dashboard.context.new_page()
    watch_errors(map_page)
    map_page.goto(portal_url(network, portal_server, "/dashboard/map/"))
    wait_live(map_page)
    station_id = network.station_a.pk
    assert marker_state(map_page, station_id) == "offline"
    # A reload would clear these marks: they prove the pages update in place.
    for page in (dashboard, map_page):
        page.evaluate("window.__sameDocument = true")
    offline, charging = count(dashboard, "offline"), count(dashboard, "charging")

    station = simulated(network, portal_server, loop)
    try:
        assert loop.run(station.connect()) == "Accepted"
        dashboard.wait_for_function(
            f"() => document.querySelector('[data-count=offline]').textContent == '{offline - 1}'"
        )
        map_page.wait_for_function(
            f"() => window.chargegridMap.markers()[{station_id}].options.state == 'available'"
        )
        loop.run(station.plug_in(1, Vehicle(soc=30)))
        loop.run(station.start_session(1, network.token))
        loop.run(station.send_meter_values(1))
        dashboard.wait_for_function(
            f"() => document.querySelector('[data-count=charging]').textContent == '{charging + 1}'"
        )
        map_page.wait_for_function(
            f"() => window.chargegridMap.markers()[{station_id}].options.state == 'charging'"
        )
        assert marker_state(map_page, station_id) == "charging"
        assert count(dashboard, "offline") == offline - 1
        activity = dashboard.locator("#activity").inner_text()
        assert network.station_a.name in activity
        for page in (dashboard, map_page):
            assert page.evaluate("window.__sameDocument") is True
            assert page_errors(page) == []

    finally:
        loop.run(station.close())


def test_remote_reset_reaches_the_station_and_its_answer_is_shown(
    network, portal_server, sign_in, loop
):
    station = simulated(network, portal_server, loop)
    try:
        assert loop.run(station.connect()) == "Accepted"
        page = sign_in(network.host, "owner@alpha.test")
        page.goto(portal_url(network, portal_server, f"/stations/{network.station_a.pk}/"))
        wait_live(page)
        page.wait_for_selector("#station-online[data-online='1']")
        dialogs = []

        def accept(dialog):
            dialogs.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        page.select_option("#id_reset-reset_type", "Hard")
        page.click("form[data-command=reset] button[type=submit]")
        outcome = page.wait_for_selector("#command-result .outcome", timeout=35_000)
        assert outcome.get_attribute("data-status") == "Accepted"
        assert "The station answered Accepted." in outcome.inner_text()
        assert dialogs and "Reset this station now?" in dialogs[0]
        loop.run(station.wait_until(lambda: bool(station.calls_received("Reset"))))
        assert station.calls_received("Reset")[0].payload == {"type": "Hard"}
        assert page_errors(page) == []
        # The station reboots: the page shows it leave and come back, without a reload.
        page.wait_for_selector("#station-online[data-online='0']", timeout=15_000)
        page.wait_for_selector("#station-online[data-online='1']", timeout=30_000)
        loop.run(station.plug_in(1, Vehicle(soc=40)))
        loop.run(station.start_session(1, network.token))
        # The session's panel and chart arrive with the session; its power follows live.
        page.wait_for_selector(".power-chart[data-session] canvas", timeout=15_000)
        drawn = int(page.get_attribute(".power-chart[data-session]", "data-points") or 0)
        for _ in range(2):
            loop.run(station.send_meter_values(1))
        page.wait_for_function(
            f"() => Number(document.querySelector('.power-chart[data-session]').dataset.points) > {drawn}",
            timeout=15_000,
        )
        # The stop button of the new session came with the refreshed panel, and works.
        page.click("form[data-command=remote_stop] button[type=submit]")
        outcome = page.wait_for_selector(
            "#command-result .outcome[data-action=RemoteStopTransaction]", timeout=35_000
        )
        assert outcome.get_attribute("data-status") == "Accepted"
        loop.run(station.wait_until(lambda: station.transaction(1) is None, timeout=10))
    finally:
        loop.run(station.close())


def test_a_delegate_sees_only_their_sites(network, portal_server, sign_in):
    page = sign_in(network.host, network.delegate_email)
    page.goto(portal_url(network, portal_server, "/stations/"))
    listed = page.locator("table.stations tbody").inner_text()
    assert network.station_a.identity in listed
    assert network.station_b.identity not in listed
    page.goto(portal_url(network, portal_server, "/dashboard/map/"))
    identities = page.evaluate(
        "() => JSON.parse(document.getElementById('map-data').textContent).stations.map(s => s.identity)"
    )
    assert network.station_a.identity in identities
    assert network.station_b.identity not in identities
    response = page.goto(portal_url(network, portal_server, f"/stations/{network.station_b.pk}/"))
    assert response.status == 404
    response = page.goto(portal_url(network, portal_server, "/people/"))
    assert response.status == 403
    page.goto(portal_url(network, portal_server, "/sites/"))
    sites = page.locator("table.list tbody").inner_text()
    assert network.site_a.name in sites and network.site_b.name not in sites
