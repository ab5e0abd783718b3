"""What the dashboard and the map say, and what the live feed publishes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.core import broadcast
from apps.dashboard.selectors import (
    dashboard_summary,
    energy_today_wh,
    map_stations,
    start_of_today,
    station_state,
)
from apps.roles.selectors import UserActor
from apps.stations.models import Evse
from apps.stations.services import evse_set_status, station_disconnected
from tests.portal.factories import add_register, make_session, make_station
from tests.queued import record_tasks


def test_station_colour_is_its_most_important_port():
    assert station_state(is_online=False, port_states=["charging"]) == "offline"
    assert station_state(is_online=True, port_states=["charging", "faulted"]) == "faulted"
    assert station_state(is_online=True, port_states=["charging", "available"]) == "available"
    assert station_state(is_online=True, port_states=["finished", "charging"]) == "charging"
    assert station_state(is_online=True, port_states=[]) == "unavailable"


def test_energy_today_counts_only_what_flowed_since_local_midnight(personas, alpha_sites):
    site = alpha_sites[0]
    station = make_station(site, "E-1", statuses=("Charging", "Available"))
    midnight = start_of_today()
    overnight = make_session(
        station,
        started_at=midnight - dt.timedelta(hours=2),
        energy_wh=5000,
        meter_start_wh=10_000,
    )
    add_register(overnight, at=midnight - dt.timedelta(minutes=30), wh=12_000)  # 2 kWh before
    add_register(overnight, at=midnight - dt.timedelta(hours=1), wh=11_000)
    make_session(
        station,
        evse_id=2,
        started_at=midnight + dt.timedelta(minutes=1),
        ended_at=midnight + dt.timedelta(minutes=50),
        energy_wh=1000,
    )
    make_session(
        station,
        evse_id=2,
        started_at=midnight - dt.timedelta(hours=5),
        ended_at=midnight - dt.timedelta(hours=4),
        energy_wh=9000,
    )
    owner = UserActor(personas.owner)
    assert energy_today_wh(actor=owner) == 3000 + 1000
    # Nothing for someone who may not see sessions there.
    from apps.roles.services import role_assign, role_by_slug
    from tests.factories import UserFactory

    valet = UserFactory(email="valet@alpha.test")
    role_assign(user=valet, role=role_by_slug("valet"), all_sites=True)
    assert energy_today_wh(actor=UserActor(valet)) == 0


def test_summary_counts_ports_by_live_state(network, personas):
    summary = dashboard_summary(actor=UserActor(personas.owner))
    assert summary.port_counts == {"available": 2, "charging": 1, "faulted": 1}
    assert summary.stations_total == 3 and summary.stations_online == 3
    assert summary.active_sessions == 2
    station_disconnected_quietly(network.a1_station)
    summary = dashboard_summary(actor=UserActor(personas.owner))
    assert summary.port_counts == {"available": 1, "offline": 2, "faulted": 1}


def station_disconnected_quietly(station):
    from apps.stations.models import Station

    Station.objects.filter(pk=station.pk).update(is_online=False)


def test_map_places_stations_at_their_site(network, personas, alpha_sites):
    stations = {s["identity"]: s for s in map_stations(actor=UserActor(personas.owner))}
    a1 = alpha_sites[0]
    assert stations["A1-CHARGER-2"]["state"] == "faulted"
    assert stations["A1-CHARGER-1"]["lat"] == float(a1.latitude)
    assert stations["A1-CHARGER-1"]["site"] == "A1 Garage"


def test_map_page_uses_the_configured_tiles(network, personas, client_for, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    page = client_for(personas.owner).get(reverse("dashboard:map")).content.decode()
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in page
    assert "unpkg.com" not in page and "cdn" not in page.lower()


@pytest.fixture
def published(monkeypatch):
    """What ``apps.core.live.publish_live`` sends to the tenant's live group, whoever calls it
    (the dashboard's handlers, monitoring's alerts)."""
    messages = []

    def group_send(group, message):
        assert group == f"live.{connection.schema_name}" and message["type"] == "live.event"
        messages.append(message["data"])

    monkeypatch.setattr(broadcast, "group_send", group_send)
    return messages


def test_status_change_publishes_the_station_snapshot(
    network, published, django_capture_on_commit_callbacks
):
    evse = Evse.objects.get(station=network.a1_station, evse_id=1)
    with django_capture_on_commit_callbacks(execute=True):
        evse_set_status(evse=evse, status="Charging", at=timezone.now())
    station_messages = [m for m in published if m["kind"] == "station"]
    assert station_messages[-1]["state"] == "charging"
    assert station_messages[-1]["site_id"] == network.a1_station.site_id
    assert [p["state"] for p in station_messages[-1]["evses"]] == ["charging", "charging"]


def test_disconnect_publishes_offline(network, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        station_disconnected(station_id=network.a2_station.pk)
    (message,) = [m for m in published if m["kind"] == "station"]
    assert message["state"] == "offline" and message["is_online"] is False


def test_session_and_meter_events_are_published(
    network, published, django_capture_on_commit_callbacks
):
    from apps.core import events

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(
            events.SESSION_STARTED,
            session_id=network.a1_session.pk,
            station_id=network.a1_station.pk,
            evse_id=2,
        )
        events.emit(
            events.METER_VALUES_RECEIVED,
            station_id=network.a1_station.pk,
            evse_id=2,
            session_id=network.a1_session.pk,
            power_w=7000,
            current_a=None,
            energy_wh=5300,
        )
    kinds = {m["kind"]: m for m in published}
    assert kinds["session"]["event"] == "started" and kinds["session"]["energy_wh"] == 5200
    assert (
        kinds["power"]["power_w"] == 7000
        and kinds["power"]["site_id"] == network.a1_station.site_id
    )


def test_alerts_are_published(network, published, django_capture_on_commit_callbacks, monkeypatch):
    from apps.monitoring.services import alert_raise

    record_tasks(monkeypatch, "monitoring.alert_notify", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        alert_raise(station_id=network.a2_station.pk, kind="offline", message="gone")
    (message,) = [m for m in published if m["kind"] == "alert"]
    assert message["event"] == "raised" and message["site_id"] == network.a2_station.site_id
    assert "A2-CHARGER-1" in message["title"]


def test_dashboard_page_renders_the_counts(network, personas, client_for):
    response = client_for(personas.owner).get(reverse("dashboard:home"))
    html = response.content.decode()
    assert 'data-count="faulted">1<' in html
    assert 'id="live-data"' in html and 'id="live-indicator"' in html
