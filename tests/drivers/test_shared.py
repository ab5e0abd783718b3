"""The platform's shared finder on the public host: stations of every network that shares
them, and nothing of a network that does not."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from apps.drivers import services, shared
from apps.stations.services import site_create
from tests.drivers.conftest import make_station


@pytest.fixture
def beta_sites(beta, alpha):
    connection.set_tenant(beta)
    place = dict(timezone="America/Montreal", city="Montréal")
    shown = site_create(name="Beta Shared Hub", latitude="45.51", longitude="-73.56", **place)
    kept = site_create(name="Beta Own Only", latitude="45.511", longitude="-73.561", **place)
    services.listing_save(site=shown, shared=True)
    services.listing_save(site=kept)
    stations = make_station(shown, "Beta shared charger"), make_station(kept, "Beta own charger")
    connection.set_tenant(alpha)
    return stations


def test_the_shared_finder_shows_only_what_networks_share(net, beta_sites, alpha, beta):
    services.listing_save(site=net.near.site, shared=True)
    shared._merged = None
    client = Client(HTTP_HOST="localhost")  # the platform's public host
    page = client.get("/finder/", {"near": "45.5089, -73.5617"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-station="alpha:{net.near.pk}"' in html and "Quay" in html
    assert f'data-station="beta:{beta_sites[0].pk}"' in html and "Beta shared charger" in html
    # listed but not shared, unlisted: never leave their schema
    for name in ("Hub", "Club", "Depot", "Beta own charger"):
        assert f">{name}<" not in html, name
    assert f"beta:{beta_sites[1].pk}" not in html
    # each links to the station's page on its own network's host
    assert f"//{alpha.get_primary_domain().domain}" in html
    assert f"/drivers/stations/{net.near.pk}/" in html
    assert 'id="best"' in html

    rows, _ = shared.shared_stations()
    assert {row["network_slug"] for row in rows} == {"alpha", "beta"}
    assert all(row["shared"] for row in rows)
    # a network's own finder is not the shared one: there, it is on the tenant's host only
    assert Client(HTTP_HOST=alpha.get_primary_domain().domain).get("/finder/").status_code == 404


def test_a_network_that_stops_sharing_leaves_the_shared_finder(net, alpha):
    listing = services.listing_save(site=net.near.site, shared=True)
    shared._merged = None
    assert any(row["station_id"] == net.near.pk for row in shared.shared_stations()[0])
    services.listing_save(site=listing.site, shared=False)
    shared._merged = None
    assert not any(row["station_id"] == net.near.pk for row in shared.shared_stations()[0])
