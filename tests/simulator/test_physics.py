"""The vehicle and the sharing of a station's supply (no network, no database)."""

import pytest

from apps.simulator.physics import Vehicle, share


def test_vehicle_takes_its_maximum_below_the_taper_and_less_above():
    vehicle = Vehicle(max_current_a=32, soc=50)
    assert vehicle.acceptance_a() == 32
    vehicle.soc = 90
    assert vehicle.acceptance_a() == pytest.approx(16)  # halfway from 80 % to 100 %
    vehicle.soc = 99.99
    assert vehicle.acceptance_a() == 0  # below 1 A the charger ends the charge
    assert vehicle.is_full


def test_vehicle_stores_grid_energy_less_losses():
    vehicle = Vehicle(battery_kwh=50, soc=20, efficiency=0.9)
    vehicle.store(10_000)
    assert vehicle.soc == pytest.approx(38)  # 9 kWh into 50 kWh = 18 points
    vehicle.store(100_000)
    assert vehicle.soc == 100


def test_share_without_a_cap_gives_everyone_what_they_want():
    assert share(None, {1: 32, 2: 10}) == {1: 32, 2: 10}


def test_share_splits_equally_and_passes_on_what_one_does_not_need():
    assert share(40, {1: 32, 2: 32}) == {1: 20, 2: 20}
    assert share(40, {1: 32, 2: 10}) == {1: 30, 2: 10}
    assert share(40, {1: 32, 2: 0}) == {1: 32, 2: 0}


def test_share_pauses_the_last_evse_rather_than_offer_below_6_a():
    assert share(10, {1: 32, 2: 32}) == {1: 10, 2: 0}
    assert share(5, {1: 32}) == {1: 0}
    # A vehicle that tapers to 3 A is not starved by getting 3 A.
    assert share(10, {1: 32, 2: 3}) == {1: 7, 2: 3}
