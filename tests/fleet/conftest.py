from __future__ import annotations

from decimal import Decimal

import pytest

from apps.fleet import services
from apps.stations.services import site_create, station_register

# Valid North American VINs (their 9th character is the check digit).
VIN_A = "1M8GDM9AXKP042788"
VIN_B = "5YJ3E1EA0KF000316"  # check digit fixed by tests/fleet/test_vin.py
VIN_EU = "WVWZZZ1KZAW000001"  # European: format only


@pytest.fixture
def depot(alpha):
    site = site_create(name="Depot Nord", timezone="America/Montreal")
    station = station_register(identity="FLT-DEPOT-1", password=None, site=site, evse_count=2)
    return site, station


@pytest.fixture
def fleet(depot, personas):
    site, _station = depot
    fleet = services.fleet_create(name="Vans", site=site, managers=[personas.fleet_manager])
    van = services.vehicle_create(
        fleet=fleet,
        make="Ford",
        model="E-Transit",
        battery_kwh=Decimal("68.0"),
        vin=VIN_A,
        plate="VAN-1",
        depot=site,
    )
    card = services.card_create(fleet=fleet, uid="VAN-1-CARD", vehicle=van)
    return fleet, van, card
