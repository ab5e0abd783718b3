"""A station that never connects: physics, smart charging and settings (no network, no DB)."""

from datetime import timedelta

import pytest

from apps.simulator.clock import ManualClock
from apps.simulator.device_model import SettingStore
from apps.simulator.physics import Vehicle
from apps.simulator.profiles import ChargingProfile, Period, Purpose
from apps.simulator.station import SimulatedStation, StationConfig, version_from_location


def offline_station(clock, **overrides) -> SimulatedStation:
    """Offline, an unknown card may charge (AllowOfflineTxForUnknownId), so no CSMS is needed."""
    config = StationConfig(
        identity="LOCAL-1",
        url="ws://127.0.0.1:9/ocpp/",
        settings={"AllowOfflineTxForUnknownId": "true"},
        **overrides,
    )
    return SimulatedStation(config, clock)


def profile(pid, purpose, periods, *, evse=0, stack=0, clock) -> ChargingProfile:
    return ChargingProfile(
        id=pid,
        evse_id=evse,
        stack_level=stack,
        purpose=purpose,
        kind="Absolute",
        unit="A",
        periods=tuple(Period(start, limit) for start, limit in periods),
        installed_at=clock.now(),
        start_schedule=clock.now(),
    )


async def test_an_hour_of_charging_takes_no_time(clock: ManualClock):
    station = offline_station(clock, max_current_a=16)
    await station.plug_in(1, Vehicle(battery_kwh=100, soc=10, efficiency=0.9))
    assert station.status(1) == "Preparing"
    assert await station.start_session(1, "ANY") is None  # 1.6 offline: no CSMS id yet
    assert station.status(1) == "Charging"
    assert station.current_draw(1) == 16
    assert station.power_w(1) == 16 * 230 * 3
    clock.advance(3600)
    assert station.energy_wh(1) == 11040
    assert station.evses[1].vehicle.soc == pytest.approx(10 + 11.04 * 0.9)
    assert await station.stop_session(1) == 11040
    assert station.status(1) == "Finishing"
    await station.unplug(1)
    assert station.status(1) == "Available"


async def test_charge_tapers_above_80_percent_and_the_register_only_grows(clock):
    station = offline_station(clock)
    vehicle = Vehicle(battery_kwh=20, soc=75, max_current_a=32)
    await station.plug_in(1, vehicle)
    await station.start_session(1, "ANY")
    readings = []
    for _ in range(12):
        clock.advance(600)
        readings.append((station.energy_wh(1), station.current_draw(1)))
    energies = [energy for energy, _ in readings]
    assert energies == sorted(energies)
    assert all(isinstance(energy, int) for energy in energies)
    assert readings[1][1] < 32  # past 80 % the vehicle takes less
    assert vehicle.soc > 99
    assert station.current_draw(1) == 0
    assert station.status(1) == "SuspendedEV"  # full: the car no longer draws
    # The charger stops at 99.4 % (below 1 A): 24.4 points of 20 kWh at 92 % efficiency.
    assert station.energy_wh(1) == pytest.approx(0.244 * 20_000 / 0.92, abs=10)


async def test_a_station_maximum_is_shared_among_evses(clock):
    station = offline_station(clock, evse_count=2)
    for evse_id in (1, 2):
        await station.plug_in(evse_id, Vehicle(battery_kwh=100, soc=10))
        await station.start_session(evse_id, "ANY")
    assert (
        station.set_charging_profile(profile(1, Purpose.STATION_MAX, [(0, 20)], clock=clock))
        is None
    )
    assert (station.current_draw(1), station.current_draw(2)) == (10, 10)
    assert station.limit(1) == 20  # each EVSE alone could take the whole station maximum
    station.set_charging_profile(profile(1, Purpose.STATION_MAX, [(0, 10)], clock=clock))
    assert (station.current_draw(1), station.current_draw(2)) == (10, 0)
    assert (station.status(1), station.status(2)) == ("Charging", "SuspendedEVSE")
    clock.advance(3600)
    assert (station.energy_wh(1), station.energy_wh(2)) == (6900, 0)
    assert station.clear_charging_profiles(purpose=Purpose.STATION_MAX)
    assert (station.current_draw(1), station.current_draw(2)) == (32, 32)


async def test_a_limit_change_mid_way_is_metered_exactly(clock):
    station = offline_station(clock)
    await station.plug_in(1, Vehicle(battery_kwh=200, soc=10))
    await station.start_session(1, "ANY")
    tx_default = profile(1, Purpose.TX_DEFAULT, [(0, 10), (1800, 20)], clock=clock)
    station.set_charging_profile(tx_default)
    clock.advance(3600)  # one jump over the period boundary
    assert station.energy_wh(1) == 10 * 230 * 3 // 2 + 20 * 230 * 3 // 2
    assert station.current_draw(1) == 20


async def test_composite_schedule_combines_hardware_maximum_and_transaction_limits(clock):
    station = offline_station(clock, max_current_a=32)
    station.set_charging_profile(profile(1, Purpose.STATION_MAX, [(0, 16)], clock=clock))
    station.set_charging_profile(
        profile(2, Purpose.TX_DEFAULT, [(0, 10), (1800, 20)], evse=1, stack=1, clock=clock)
    )
    amps = station.composite_schedule(1, 3600, "A")
    assert amps.periods == [(0, 10), (1800, 16)]
    watts = station.composite_schedule(1, 3600, "W")
    assert watts.periods == [(0, 6900), (1800, 11040)]
    assert station.composite_schedule(0, 3600, None).periods == [(0, 16)]
    clock.advance(1800)
    assert station.composite_schedule(1, 600, "A").periods == [(0, 16)]
    assert station.composite_schedule(3, 600, "A") is None


async def test_transaction_profile_needs_its_transaction(clock):
    station = offline_station(clock)
    tx_profile = profile(5, Purpose.TX, [(0, 8)], evse=1, clock=clock)
    assert "transaction" in station.set_charging_profile(tx_profile)
    await station.plug_in(1, Vehicle())
    await station.start_session(1, "ANY")
    assert station.set_charging_profile(tx_profile) is None
    assert station.current_draw(1) == 8
    await station.stop_session(1)
    assert list(station.profiles) == []  # a TxProfile ends with its transaction


async def test_reservation_holds_the_evse_for_its_driver_until_expiry(clock):
    station = offline_station(clock)
    expiry = clock.now() + timedelta(minutes=15)
    assert station.reserve(3, 1, "DRIVER", expiry) == "Accepted"
    assert station.status(1) == "Reserved"
    await station.plug_in(1, Vehicle())
    with pytest.raises(Exception, match="Reserved"):
        await station.start_session(1, "SOMEONE-ELSE")
    await station.start_session(1, "DRIVER")
    assert station.transaction(1).reservation_id == 3
    assert station.evses[1].reservation is None


def test_settings_accept_only_valid_writable_values():
    store = SettingStore("1.6")
    assert store.change("HeartbeatInterval", "60") == "Accepted"
    assert store.get_int("HeartbeatInterval") == 60
    assert store.change("HeartbeatInterval", "soon") == "Rejected"
    assert store.change("NumberOfConnectors", "4") == "Rejected"
    assert store.change("NoSuchKey", "1") == "NotSupported"
    assert store.change("TxStartPoint", "EVConnected") == "NotSupported"  # a 2.0.1 variable
    assert store.change("WebSocketPingInterval", "30") == "RebootRequired"
    assert store.change("MeterValuesSampledData", "Energy.Active.Import.Register,SoC") == "Accepted"
    assert store.change("MeterValuesSampledData", "Temperature") == "Rejected"
    v201 = SettingStore("2.0.1")
    assert v201.find("OCPPCommCtrlr", "HeartbeatInterval", None).key == "HeartbeatInterval"
    assert v201.find("NoCtrlr", "HeartbeatInterval", None) == "UnknownComponent"
    assert v201.find("OCPPCommCtrlr", "Nothing", None) == "UnknownVariable"


def test_firmware_version_comes_from_the_file_name():
    assert version_from_location("https://fw.example.com/sim/fw-2.1.0.bin") == "2.1.0"
    assert version_from_location("ftp://host/builds/R5.bin") == "R5"
