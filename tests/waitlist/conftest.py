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
    return make_group(site)


def make_group(site):
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


RACE_SLUG = "wlrace"


@pytest.fixture
def wl_tenant(transactional_db):
    """A tenant of its own for tests that commit: pytest-django empties the tables of the
    schema the connection is on afterwards; leaving it on this tenant keeps alpha, beta and
    the public schema intact."""
    from django.core.management import call_command
    from django.db import connection

    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create
    from apps.waitlist.models import WaitlistEntry

    connection.set_schema_to_public()  # another race test may have left its own tenant on
    tenant = Tenant.objects.filter(slug=RACE_SLUG).first() or tenant_create(
        name="Waitlist race",
        slug=RACE_SLUG,
        admin_email="owner@wlrace.test",
        admin_password=None,
        timezone="America/Montreal",
    )
    connection.set_tenant(tenant)
    if WaitlistEntry.objects.exists():  # left by an interrupted run
        call_command("flush", interactive=False, verbosity=0)
    yield tenant
    connection.set_tenant(tenant)
