"""A queue over two busy stations (one port each) at a Montreal site, and drivers' tokens."""

from __future__ import annotations

import uuid

import pytest

from apps.charging.models import IdToken
from apps.stations.models import Evse, Station
from apps.stations.services import site_create, station_register
from apps.waitlist.models import WaitlistGroup


def busy(evse: Evse, status: str = "Charging") -> None:
    Evse.objects.filter(pk=evse.pk).update(status=status)
    evse.refresh_from_db()


@pytest.fixture
def site(alpha):
    return site_create(name=f"Garage {uuid.uuid4().hex[:6]}", timezone="America/Montreal")


@pytest.fixture
def group(site):
    stations = []
    for version in ("1.6", "2.0.1"):
        station = station_register(
            identity=f"WL-{uuid.uuid4().hex[:10]}", password=None, site=site, name=f"P{version}"
        )
        Station.objects.filter(pk=station.pk).update(ocpp_version=version, is_online=True)
        stations.append(station)
    group = WaitlistGroup.objects.create(site=site, name="Level 2", hold_minutes=10, max_no_shows=2)
    group.stations.set(stations)
    for station in stations:
        busy(station.evses.get())
    return group


@pytest.fixture
def tokens(alpha):
    return [IdToken.objects.create(uid=f"D{i}{uuid.uuid4().hex[:8].upper()}") for i in range(3)]


def ports(group) -> list[Evse]:
    return list(Evse.objects.filter(station__in=group.stations.all()).order_by("station_id"))
