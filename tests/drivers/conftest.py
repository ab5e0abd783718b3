"""A small public network: three listed sites around Montréal (one with fast chargers, one
members-only), one unlisted depot, tokens, and drivers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.charging.models import IdToken
from apps.drivers import selectors, services
from apps.drivers.models import Driver
from apps.stations.models import Evse, Station
from apps.stations.services import site_create, station_register

HERE = (45.5089, -73.5617)  # Old Montréal


@dataclass
class Net:
    near: Station  # 0.3 km, 2 x 7.4 kW Type 2
    fast: Station  # 3 km, 2 x 150 kW CCS1
    members: Station  # 1 km, members only
    depot: Station  # not listed


def make_station(site, name: str, *, evses: int = 2, power_w: int = 7400, connector="cType2"):
    station = station_register(
        identity=f"DR-{uuid.uuid4().hex[:10]}",
        password=None,
        site=site,
        name=name,
        evse_count=evses,
        max_power_w=power_w,
        connector_type=connector,
    )
    Station.objects.filter(pk=station.pk).update(is_online=True)
    Evse.objects.filter(station=station).update(status="Available")
    station.refresh_from_db()
    return station


def set_status(station: Station, status: str, evse_id: int | None = None) -> None:
    evses = Evse.objects.filter(station=station)
    if evse_id is not None:
        evses = evses.filter(evse_id=evse_id)
    evses.update(status=status)


@pytest.fixture(autouse=True)
def _clear_limits(settings):
    cache.clear()  # abuse limits, prices and the finder's journal are kept in Redis
    settings.DRIVERS_FINDER_CACHE_SECONDS = 0  # every read sees the test's changes
    # what a process keeps of the network (another test's rows, rolled back since)
    selectors._snapshots.clear()
    selectors._rankings.clear()
    selectors._map_documents.clear()


@pytest.fixture
def net(alpha) -> Net:
    tag = uuid.uuid4().hex[:6]
    place = dict(timezone="America/Montreal", city="Montréal")
    old_port = site_create(
        name=f"Old Port {tag}", latitude="45.507000", longitude="-73.554000", **place
    )
    plateau = site_create(
        name=f"Plateau Hub {tag}", latitude="45.525000", longitude="-73.585000", **place
    )
    club = site_create(
        name=f"Members Club {tag}", latitude="45.515000", longitude="-73.565000", **place
    )
    depot = site_create(name=f"Depot {tag}", latitude="45.509000", longitude="-73.562000", **place)
    services.listing_save(site=old_port)
    services.listing_save(site=plateau, access_note="Level P2")
    services.listing_save(site=club, access="members")
    return Net(
        near=make_station(old_port, "Quay"),
        fast=make_station(plateau, "Hub", power_w=150000, connector="cCCS1"),
        members=make_station(club, "Club"),
        depot=make_station(depot, "Depot"),
    )


@pytest.fixture
def driver(alpha) -> Driver:
    driver = services.driver_sign_up(
        email=f"d-{uuid.uuid4().hex[:6]}@drivers.test",
        password="a long driver password",
        verify_url="http://x/drivers/verify/TOKEN/",
    )
    driver.email_verified_at = timezone.now()
    driver.save()
    return driver


@pytest.fixture
def other_driver(alpha) -> Driver:
    driver = services.driver_sign_up(
        email=f"o-{uuid.uuid4().hex[:6]}@drivers.test",
        password="another long password",
        verify_url="http://x/drivers/verify/TOKEN/",
    )
    driver.email_verified_at = timezone.now()
    driver.save()
    return driver


@pytest.fixture
def card(alpha) -> IdToken:
    return IdToken.objects.create(uid=f"CARD{uuid.uuid4().hex[:8].upper()}", label="driver card")
