"""Stations from the portal: register (a generated password shown once, 16-40 characters),
edit and move between sites, a new password; through the services the API calls; scoped."""

from __future__ import annotations

import re

from django.urls import reverse

from apps.stations.models import Station
from apps.tenants.models import StationIdentity
from tests.portal.factories import make_station


def shown_password(response) -> str:
    return re.search(r'id="station-password">([^<]+)<', response.content.decode()).group(1)


def test_owner_registers_a_station_and_sees_its_password_once(personas, client_for, alpha_sites):
    a1, _ = alpha_sites
    client = client_for(personas.owner)
    assert client.get(reverse("stations:station_register")).status_code == 200
    response = client.post(
        reverse("stations:station_register"),
        {
            "identity": "NEW-CHARGER-1",
            "name": "Lobby",
            "site": a1.pk,
            "evse_count": 2,
            "max_current_a": "32",
            "phases": 3,
            "connector_type": "cType2",
        },
    )
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    password = shown_password(response)
    assert 16 <= len(password) <= 40
    station = Station.objects.get(identity="NEW-CHARGER-1")
    assert (station.site, station.name, station.evses.count()) == (a1, "Lobby", 2)
    registry = StationIdentity.objects.get(identity="NEW-CHARGER-1")
    assert registry.check_password(password) and password not in registry.password_hash
    # Shown once: the station page does not show it again.
    page = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    assert password not in page

    again = client.post(
        reverse("stations:station_register"),
        {
            "identity": "NEW-CHARGER-1",
            "site": a1.pk,
            "evse_count": 1,
            "max_current_a": "32",
            "phases": 3,
            "connector_type": "cType2",
            "password": "short",
        },
    )
    assert again.status_code == 400
    assert set(again.context["form"].errors) == {"identity", "password"}


def test_a_typed_password_is_kept(personas, client_for, alpha_sites):
    a1, _ = alpha_sites
    response = client_for(personas.owner).post(
        reverse("stations:station_register"),
        {
            "identity": "TYPED-PW",
            "site": a1.pk,
            "evse_count": 1,
            "max_current_a": "16",
            "phases": 1,
            "connector_type": "cType2",
            "password": "x" * 40,
        },
    )
    assert response.status_code == 201 and shown_password(response) == "x" * 40
    assert StationIdentity.objects.get(identity="TYPED-PW").check_password("x" * 40)


def test_edit_moves_a_station_and_a_new_password_replaces_the_old(
    personas, client_for, alpha_sites
):
    a1, a2 = alpha_sites
    station = make_station(a1, "MOVE-ME", statuses=("Available",))
    client = client_for(personas.owner)
    assert client.get(reverse("stations:station_edit", args=[station.pk])).status_code == 200
    response = client.post(
        reverse("stations:station_edit", args=[station.pk]),
        {
            "name": "Moved",
            "site": a2.pk,
            "registration_status": "Accepted",
            "heartbeat_interval": 120,
            "security_profile": 1,
        },
    )
    assert response.status_code == 302
    station.refresh_from_db()
    assert (station.site, station.name, station.heartbeat_interval) == (a2, "Moved", 120)

    new = client.post(reverse("stations:station_password", args=[station.pk]))
    password = shown_password(new)
    assert StationIdentity.objects.get(identity="MOVE-ME").check_password(password)


def test_a_delegate_configures_only_their_sites_stations(personas, client_for, network):
    a1_station, a2_station = network.a1_station, network.a2_station
    a2 = a2_station.site
    delegate = client_for(personas.delegate)  # configures stations on A1 only
    assert delegate.get(reverse("stations:station_edit", args=[a1_station.pk])).status_code == 200
    # cannot move a station to a site outside their scope, nor leave it without a site
    for site in (a2.pk, ""):
        moved = delegate.post(
            reverse("stations:station_edit", args=[a1_station.pk]),
            {
                "name": "x",
                "site": site,
                "registration_status": "Accepted",
                "heartbeat_interval": 300,
                "security_profile": 1,
            },
        )
        assert moved.status_code == 400 and "site" in moved.context["form"].errors
    assert delegate.get(reverse("stations:station_edit", args=[a2_station.pk])).status_code == 404
    assert (
        delegate.post(reverse("stations:station_password", args=[a2_station.pk])).status_code == 404
    )
    registered = delegate.post(
        reverse("stations:station_register"),
        {
            "identity": "DELEGATE-A2",
            "site": a2.pk,
            "evse_count": 1,
            "max_current_a": "32",
            "phases": 3,
            "connector_type": "cType2",
        },
    )
    assert (
        registered.status_code == 400
        and not Station.objects.filter(identity="DELEGATE-A2").exists()
    )
    fleet = client_for(personas.fleet_manager)  # sees stations, configures none
    assert fleet.get(reverse("stations:station_register")).status_code == 403
    assert fleet.post(reverse("stations:station_password", args=[a1_station.pk])).status_code == 403
    a1_station.refresh_from_db()
    assert a1_station.site_id != a2.pk
