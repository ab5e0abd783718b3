"""Charging-profile stacking and composition (no network, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.simulator.profiles import (
    ChargingProfile,
    Period,
    ProfileStore,
    Purpose,
    floor_tenth,
    profile_from_v16,
    profile_from_v201,
    validation_error,
)

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def profile(pid, purpose, limit, *, evse=0, stack=0, unit="A", **fields) -> ChargingProfile:
    periods = fields.pop("periods", (Period(0, limit),))
    return ChargingProfile(
        id=pid,
        evse_id=evse,
        stack_level=stack,
        purpose=purpose,
        kind=fields.pop("kind", "Absolute"),
        unit=unit,
        periods=periods,
        installed_at=fields.pop("installed_at", T0),
        **fields,
    )


def tx_limit(store, at, evse=1, tx_start=T0, transaction_id="42"):
    return store.transaction_limit_a(
        evse, at, transaction_id=transaction_id, tx_start=tx_start, voltage=230, phases=3
    )


def test_highest_stack_level_wins_while_it_has_a_period():
    store = ProfileStore()
    store.install(profile(1, Purpose.TX_DEFAULT, 20, stack=0))
    store.install(profile(2, Purpose.TX_DEFAULT, 8, stack=3, duration=600))
    assert tx_limit(store, T0) == 8
    assert tx_limit(store, T0 + timedelta(seconds=599)) == 8
    # The stack-3 schedule has ended: stack 0 applies again.
    assert tx_limit(store, T0 + timedelta(seconds=600)) == 20


def test_validity_window_decides_whether_a_profile_counts():
    store = ProfileStore()
    store.install(profile(1, Purpose.TX_DEFAULT, 20))
    store.install(
        profile(
            2,
            Purpose.TX_DEFAULT,
            10,
            stack=1,
            valid_from=T0 + timedelta(hours=1),
            valid_to=T0 + timedelta(hours=2),
        )
    )
    assert tx_limit(store, T0) == 20
    assert tx_limit(store, T0 + timedelta(minutes=90)) == 10
    assert tx_limit(store, T0 + timedelta(hours=2)) == 20


def test_tx_profile_beats_tx_default_and_evse_default_beats_station_default():
    store = ProfileStore()
    store.install(profile(1, Purpose.TX_DEFAULT, 24, evse=0, stack=5))
    assert tx_limit(store, T0) == 24
    store.install(profile(2, Purpose.TX_DEFAULT, 18, evse=1, stack=0))
    assert tx_limit(store, T0) == 18
    assert tx_limit(store, T0, evse=2) == 24  # other EVSEs keep the station-wide default
    store.install(profile(3, Purpose.TX, 12, evse=1, transaction_id="42"))
    assert tx_limit(store, T0) == 12
    assert tx_limit(store, T0, transaction_id="43") == 18  # not this transaction's profile
    store.remove_transaction_profiles(1)
    assert tx_limit(store, T0) == 18


def test_station_maximum_in_watts_becomes_amps_per_phase():
    store = ProfileStore()
    store.install(profile(1, Purpose.STATION_MAX, 11040, unit="W"))
    assert store.station_limit_a(T0, 230, 3) == pytest.approx(16)
    store.install(
        profile(
            2, Purpose.STATION_MAX, 3680, unit="W", stack=1, periods=(Period(0, 3680, phases=1),)
        )
    )
    assert store.station_limit_a(T0, 230, 3) == pytest.approx(16)  # 3680 W on one phase


def test_periods_recurring_daily_and_relative_schedules():
    store = ProfileStore()
    night = profile(
        1,
        Purpose.TX_DEFAULT,
        0,
        kind="Recurring",
        recurrency="Daily",
        start_schedule=datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
        periods=(Period(0, 32), Period(7 * 3600, 10), Period(22 * 3600, 32)),
    )
    store.install(night)
    assert tx_limit(store, T0) == 10  # 08:00: daytime
    assert tx_limit(store, T0 + timedelta(hours=15)) == 32  # 23:00
    assert tx_limit(store, T0 + timedelta(days=3, hours=-2)) == 32  # three days on, 06:00
    assert tx_limit(store, T0 + timedelta(days=3, hours=-1)) == 10  # and 07:00
    relative = profile(
        2, Purpose.TX, 0, evse=1, stack=1, kind="Relative", periods=(Period(0, 6), Period(900, 16))
    )
    store.install(relative)
    start = T0 + timedelta(minutes=5)
    assert tx_limit(store, start + timedelta(seconds=899), tx_start=start) == 6
    assert tx_limit(store, start + timedelta(seconds=900), tx_start=start) == 16
    moments = store.boundaries(T0, T0 + timedelta(hours=1), {1: start})
    assert start + timedelta(seconds=900) in moments


def test_validation_refuses_what_a_station_must_refuse():
    def error(p):
        return validation_error(
            p, evse_count=2, max_stack_level=8, allowed_units={"A", "W"}, max_periods=24
        )

    assert error(profile(1, Purpose.STATION_MAX, 16)) is None
    assert "EVSE 0" in error(profile(1, Purpose.STATION_MAX, 16, evse=1))
    assert error(profile(1, Purpose.TX, 16, evse=0))
    assert error(profile(1, Purpose.TX_DEFAULT, 16, stack=9))
    assert error(profile(1, Purpose.TX_DEFAULT, 16, evse=3))
    assert error(profile(1, Purpose.EXTERNAL, 16))
    assert error(profile(1, Purpose.TX_DEFAULT, 16, periods=(Period(60, 16),)))
    assert error(profile(1, Purpose.TX_DEFAULT, 16, kind="Recurring"))


def test_same_id_or_same_stack_and_purpose_replaces():
    store = ProfileStore()
    store.install(profile(1, Purpose.TX_DEFAULT, 20))
    store.install(profile(2, Purpose.TX_DEFAULT, 10))  # same evse, purpose, stack level
    assert [p.id for p in store] == [2]
    store.install(profile(2, Purpose.STATION_MAX, 30))  # same id
    assert [(p.id, p.purpose) for p in store] == [(2, Purpose.STATION_MAX)]
    assert store.clear(profile_id=99) == 0
    assert store.clear(purpose=Purpose.STATION_MAX) == 1


def test_profiles_parse_from_both_versions():
    v16 = profile_from_v16(
        1,
        {
            "charging_profile_id": 7,
            "stack_level": 2,
            "charging_profile_purpose": "ChargePointMaxProfile",
            "charging_profile_kind": "Absolute",
            "transaction_id": 12,
            "charging_schedule": {
                "charging_rate_unit": "W",
                "start_schedule": "2026-01-05T08:00:00Z",
                "charging_schedule_period": [{"start_period": 0, "limit": 7400.0}],
            },
        },
        T0,
    )
    assert (v16.id, v16.purpose, v16.unit, v16.transaction_id) == (
        7,
        Purpose.STATION_MAX,
        "W",
        "12",
    )
    assert v16.start_schedule == T0
    v201 = profile_from_v201(
        0,
        {
            "id": 8,
            "stack_level": 0,
            "charging_profile_purpose": "TxDefaultProfile",
            "charging_profile_kind": "Relative",
            "charging_schedule": [
                {
                    "id": 1,
                    "charging_rate_unit": "A",
                    "charging_schedule_period": [
                        {"start_period": 0, "limit": 16, "number_phases": 1}
                    ],
                }
            ],
        },
        T0,
    )
    assert (v201.id, v201.kind, v201.periods) == (8, "Relative", (Period(0, 16.0, 1),))


def test_floor_tenth_never_rounds_up():
    assert floor_tenth(15.99) == 15.9
    assert floor_tenth(16.0) == 16.0
    assert floor_tenth(7.3333) == 7.3
