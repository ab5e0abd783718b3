"""States people read: a port plugged in but not charging is not "charging"; a station whose
port charges is not "available" in its page's header (issue 13, "States")."""

from __future__ import annotations

from django.urls import reverse

from apps.dashboard.selectors import dashboard_summary, station_snapshot
from apps.roles.selectors import UserActor
from apps.stations.choices import LiveState
from tests.portal.factories import make_station


def test_a_preparing_port_is_not_counted_as_charging(personas, client_for, alpha_sites):
    a1, _ = alpha_sites
    make_station(a1, "PREP-1", statuses=("Preparing", "Available"))
    summary = dashboard_summary(actor=UserActor(personas.owner))
    assert summary.port_counts.get(LiveState.PREPARING) == 1
    assert summary.port_counts.get(LiveState.CHARGING, 0) == 0
    assert summary.active_sessions == 0
    page = client_for(personas.owner).get(reverse("dashboard:home")).content.decode()
    assert 'class="tile preparing"' in page and "Plugged in, not charging yet" in page
    # the list filter by state finds it under its own name
    listing = client_for(personas.owner).get(
        reverse("stations:station_list"), {"status": "preparing"}
    )
    assert "PREP-1" in listing.content.decode()


def test_the_header_says_charging_while_a_port_charges(personas, client_for, alpha_sites):
    a1, _ = alpha_sites
    station = make_station(a1, "BUSY-1", statuses=("Charging", "Available"))
    page = client_for(personas.owner).get(reverse("stations:station_detail", args=[station.pk]))
    html = page.content.decode()
    assert 'id="station-state" class="status charging" data-state="charging"' in html
    live = station_snapshot(station_id=station.pk)
    assert live["header_state"] == LiveState.CHARGING  # what station.js puts in the header
    assert live["state"] == LiveState.AVAILABLE  # the map's marker: a driver can plug in
