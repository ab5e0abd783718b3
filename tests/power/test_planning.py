"""Time windows, scheduled charging, power selection, wiring and the capacity planner.  Pure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.power.electrical import legs, node_limits_da, power_selection_a, to_da
from apps.power.planning import (
    Interval,
    Rate,
    cheapest_plan,
    next_occurrence,
    plan_capacity,
    quarter_of,
    start_at_plan,
    window_active,
)

MONTREAL = ZoneInfo("America/Montreal")
MONDAY = 0b0000001
SUNDAY = 0b1000000


def local(*args):
    return dt.datetime(*args, tzinfo=MONTREAL)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 3, 2, 21, 59), False),  # Monday, before
        (local(2026, 3, 2, 22, 0), True),  # Monday night
        (local(2026, 3, 3, 5, 59), True),  # ... past midnight, on Tuesday
        (local(2026, 3, 3, 6, 0), False),
        (local(2026, 3, 3, 22, 30), False),  # Tuesday night is not in the mask
        (local(2026, 3, 2, 3, 0), False),  # Monday morning belongs to Sunday night
    ],
)
def test_overnight_windows_belong_to_the_day_they_start(moment, expected):
    assert window_active(MONDAY, dt.time(22), dt.time(6), moment) is expected


def test_a_daytime_window():
    assert window_active(SUNDAY, dt.time(9), dt.time(17), local(2026, 3, 8, 12))
    assert not window_active(SUNDAY, dt.time(9), dt.time(17), local(2026, 3, 8, 17))


def test_next_occurrence_across_a_daylight_saving_change():
    # 2026-03-08: clocks go from 02:00 to 03:00 in Montréal (UTC-5 -> UTC-4).
    now = local(2026, 3, 7, 23, 0).astimezone(dt.UTC)
    seven = next_occurrence(now, dt.time(7), MONTREAL)
    assert seven == local(2026, 3, 8, 7, 0)
    assert seven - now == dt.timedelta(hours=7)  # one hour shorter night


def test_start_at_inside_the_window_starts_now():
    now = local(2026, 3, 2, 23, 30).astimezone(dt.UTC)
    plan = start_at_plan(now=now, zone=MONTREAL, start=dt.time(22), departure=dt.time(6))
    assert plan.starts_at is None
    assert plan.departure_at == local(2026, 3, 3, 6, 0)


def test_start_at_before_the_window_waits():
    now = local(2026, 3, 2, 18, 0).astimezone(dt.UTC)
    plan = start_at_plan(now=now, zone=MONTREAL, start=dt.time(22), departure=dt.time(6))
    assert plan.starts_at == local(2026, 3, 2, 22, 0)
    assert plan.departure_at == local(2026, 3, 3, 6, 0)


RATES = [
    Rate(0b1111111, dt.time(7), dt.time(23), Decimal("0.21")),
    Rate(0b1111111, dt.time(23), dt.time(7), Decimal("0.09")),
    Rate(0b1111111, dt.time(1), dt.time(5), Decimal("0.06")),
]


def test_cheapest_hours_before_departure():
    now = local(2026, 3, 2, 18, 0).astimezone(dt.UTC)
    plan = cheapest_plan(
        now=now, zone=MONTREAL, departure=dt.time(7), energy_wh=20_000, power_w=5_550, rates=RATES
    )
    # 20 kWh at 5.55 kW: 3.6 h = 15 quarters, all inside 01:00-05:00 when starting at 01:00.
    assert plan.starts_at == local(2026, 3, 3, 1, 0)


def test_cheapest_hours_when_time_is_short_start_now():
    now = local(2026, 3, 3, 4, 0).astimezone(dt.UTC)
    plan = cheapest_plan(
        now=now, zone=MONTREAL, departure=dt.time(7), energy_wh=20_000, power_w=5_550, rates=RATES
    )
    assert plan.starts_at is None


def test_cheapest_hours_without_rates_start_now():
    now = local(2026, 3, 2, 18, 0).astimezone(dt.UTC)
    plan = cheapest_plan(
        now=now, zone=MONTREAL, departure=dt.time(7), energy_wh=5_000, power_w=7_000, rates=[]
    )
    assert plan.starts_at is None


def test_uncovered_hours_count_as_expensive():
    now = local(2026, 3, 2, 18, 0).astimezone(dt.UTC)
    only_night = [Rate(0b1111111, dt.time(2), dt.time(4), Decimal("0.10"))]
    plan = cheapest_plan(
        now=now,
        zone=MONTREAL,
        departure=dt.time(7),
        energy_wh=7_000,
        power_w=7_000,
        rates=only_night,
    )
    assert plan.starts_at == local(2026, 3, 3, 2, 0)


def test_quarters():
    assert quarter_of(dt.datetime(2026, 1, 1, 10, 44, 59, tzinfo=dt.UTC)) == dt.datetime(
        2026, 1, 1, 10, 30, tzinfo=dt.UTC
    )


# --- Electrical -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wiring", "rotation", "expected"),
    [
        ("three_phase", "RST", ((0,), (1,), (2,))),
        ("three_phase", "STR", ((1,), (2,), (0,))),
        ("three_phase", "TSR", ((2,), (1,), (0,))),
        ("single_phase", "SRT", ((1,),)),
        ("line_to_line", "TRS", ((2, 0),)),
    ],
)
def test_phase_rotation_maps_an_evses_phases_to_grid_lines(wiring, rotation, expected):
    assert legs(wiring, rotation) == expected


@pytest.mark.parametrize(
    ("breaker", "hardware", "circuit", "expected"),
    [
        ("40", "32", None, "32.0"),  # a 40 A breaker allows 32 A: the full station
        ("30", "32", None, "24.0"),  # a smaller circuit: 80 % of 30 A
        ("20", "48", None, "16.0"),
        ("63", "80", "40", "40.0"),  # never above the circuit
        ("100", "16", None, "16.0"),  # never above the hardware
        ("15", "32", None, "12.0"),
        ("33.3", "80", None, "26.6"),  # 26.64 rounded down to 0.1 A
        (None, "32", "20", "20.0"),
    ],
)
def test_power_selection(breaker, hardware, circuit, expected):
    assert power_selection_a(
        breaker_rating_a=None if breaker is None else Decimal(breaker),
        continuous_factor=Decimal("0.80"),
        hardware_max_a=Decimal(hardware),
        circuit_limit_a=None if circuit is None else Decimal(circuit),
    ) == Decimal(expected)


def test_node_limits_per_line():
    assert node_limits_da("L1L2L3", Decimal("50")) == (500, 500, 500)
    assert node_limits_da("L2", Decimal("32")) == (0, 320, 0)
    assert node_limits_da("L3L1", None) == (None, 0, None)
    assert to_da(Decimal("16.39")) == 163


# --- Capacity planner -------------------------------------------------------------------------


def evenings(days: int, sessions: int, ev_w: int, base_w: int) -> list[Interval]:
    start = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    intervals = []
    for day in range(days):
        for quarter in range(96):
            moment = start + dt.timedelta(days=day, minutes=15 * quarter)
            busy = 17 * 4 <= quarter < 22 * 4
            intervals.append(Interval(moment, ev_w if busy else 0, base_w, sessions if busy else 0))
    return intervals


def test_capacity_planner_finds_how_many_ports_fit():
    # 100 A three-phase panel (69 kW), 20 kW of building load, 4 ports busy every evening.
    plan = plan_capacity(
        evenings(7, sessions=4, ev_w=28_000, base_w=20_000),
        limit_w=69_000,
        existing_ports=4,
        port_w=7_400,
        min_w=4_140,
        stay_hours=Decimal("3"),
        energy_need_wh=18_000,
    )
    # 49 kW shared: at least 4.14 kW each for 11 sessions (49 / 4.14 = 11.8): 7 more ports.
    assert plan.ports_that_fit == 7
    assert plan.rows[0].share_median_w == 7_400  # today everyone gets a full port
    assert plan.rows[7].share_p5_w == 49_000 // 11
    assert not plan.rows[8].fits
    assert plan.rows[7].energy_wh == 13_363  # 49 kW / 11 for 3 hours


def test_capacity_planner_without_history_assumes_full_occupancy():
    plan = plan_capacity(
        [],
        limit_w=22_000,
        existing_ports=0,
        port_w=7_400,
        min_w=1_380,
        stay_hours=Decimal("2"),
        energy_need_wh=10_000,
    )
    assert plan.ports_that_fit == 40 and plan.intervals == 0
