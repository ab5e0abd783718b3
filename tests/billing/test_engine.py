"""The cost engine, model by model and in combination (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.billing.engine import (
    AssignmentCandidate,
    MeterInterval,
    SessionTimeline,
    Tariff,
    TariffError,
    TaxPolicy,
    TaxRate,
    TimelineError,
    compute_cost,
    inputs_digest,
    select_assignment,
)

from .helpers import at, session

D = Decimal
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
GST = TaxRate("GST", "GST", D("0.05"))
QST = TaxRate("QST", "QST", D("0.09975"))


def tariff(**parts) -> Tariff:
    return Tariff.from_dict({"currency": "CAD", **parts})


def lines(result) -> list[tuple[str, int, str]]:
    return [(line.kind, line.quantity, str(line.amount)) for line in result.lines]


# Each case: a tariff, a session, and the receipt lines (kind, quantity in Wh or s, amount).
CASES = {
    "per kWh": (
        tariff(energy=[{"price_per_kwh": "0.25"}]),
        session("2026-03-02 10:00", "2026-03-02 12:00", energy_wh=12_345),
        [("energy", 12_345, "3.09")],  # 3.08625
    ),
    "per kWh, a half cent rounds up": (
        tariff(energy=[{"price_per_kwh": "0.25"}]),
        session("2026-03-02 10:00", "2026-03-02 10:05", energy_wh=20),
        [("energy", 20, "0.01")],  # 0.005
    ),
    "per kWh, below a half cent rounds down": (
        tariff(energy=[{"price_per_kwh": "0.25"}]),
        session("2026-03-02 10:00", "2026-03-02 12:00", energy_wh=10_010),
        [("energy", 10_010, "2.50")],  # 2.5025
    ),
    "per hour, per started 15 minutes": (
        tariff(time=[{"price_per_hour": "2.00"}], time_step_seconds=900),
        session("2026-03-02 10:00", "2026-03-02 11:01"),
        [("time", 4500, "2.50")],
    ),
    "per hour, exactly on a step": (
        tariff(time=[{"price_per_hour": "2.00"}], time_step_seconds=900),
        session("2026-03-02 10:00", "2026-03-02 11:00"),
        [("time", 3600, "2.00")],
    ),
    "per hour, per minute": (
        tariff(time=[{"price_per_hour": "3.00"}], time_step_seconds=60),
        session("2026-03-02 10:00:00", "2026-03-02 10:20:01"),
        [("time", 1260, "1.05")],  # 21 started minutes
    ),
    "per hour of charging only": (
        tariff(time=[{"price_per_hour": "2.00"}], time_basis="charging", time_step_seconds=60),
        session("2026-03-02 10:00", "2026-03-02 13:00", charging_until="2026-03-02 11:30"),
        [("time", 5400, "3.00")],
    ),
    "time of use: energy crosses into the peak mid-session": (
        tariff(
            energy=[
                {
                    "price_per_kwh": "0.30",
                    "label": "peak",
                    "windows": [{"days": WEEKDAYS, "start": "16:00", "end": "21:00"}],
                },
                {"price_per_kwh": "0.20"},
            ]
        ),
        # Monday; one meter interval 15:30-16:30 straddles the 16:00 edge and is split 50/50.
        session(
            "2026-03-02 15:00",
            "2026-03-02 17:00",
            intervals=(
                MeterInterval(at("2026-03-02 15:00"), at("2026-03-02 15:30"), 2_500),
                MeterInterval(at("2026-03-02 15:30"), at("2026-03-02 16:30"), 5_001),
                MeterInterval(at("2026-03-02 16:30"), at("2026-03-02 17:00"), 2_500),
            ),
        ),
        [("energy", 5_000, "1.50"), ("energy", 5_001, "1.00")],
    ),
    "time of use: no peak on Saturday": (
        tariff(
            energy=[
                {
                    "price_per_kwh": "0.30",
                    "windows": [{"days": WEEKDAYS, "start": "16:00", "end": "21:00"}],
                },
                {"price_per_kwh": "0.20"},
            ]
        ),
        session("2026-03-07 15:00", "2026-03-07 17:00", energy_wh=10_000),
        [("energy", 10_000, "2.00")],
    ),
    "time of use: a night window opens Monday and closes Tuesday": (
        tariff(
            time=[
                {
                    "price_per_hour": "0",
                    "windows": [{"days": ["mon"], "start": "22:00", "end": "06:00"}],
                },
                {"price_per_hour": "1.00"},
            ],
            time_step_seconds=1,
        ),
        session("2026-03-02 21:00", "2026-03-03 07:00"),
        [("time", 8 * 3600, "0.00"), ("time", 2 * 3600, "2.00")],
    ),
    "time of use: the window is read on the site's clock, not UTC": (
        tariff(
            time=[
                {"price_per_hour": "6.00", "windows": [{"start": "09:00", "end": "10:00"}]},
            ],
            time_step_seconds=1,
        ),
        session("2026-06-01 08:30", "2026-06-01 10:30", zone="Europe/Paris"),
        [("time", 3600, "6.00")],
    ),
    "DST spring forward: a window partly in the skipped hour": (
        # 2026-03-08, Montreal: 02:00 EST jumps to 03:00 EDT.  01:30-02:30 lasts 30 minutes.
        tariff(
            time=[{"price_per_hour": "2.00", "windows": [{"start": "01:30", "end": "02:30"}]}],
            time_step_seconds=1,
        ),
        session("2026-03-08 01:00", "2026-03-08 04:00"),
        [("time", 1800, "1.00")],
    ),
    "DST spring forward: the local day has 23 hours": (
        tariff(time=[{"price_per_hour": "1.00"}], time_step_seconds=1),
        session("2026-03-08 00:00", "2026-03-09 00:00"),
        [("time", 23 * 3600, "23.00")],
    ),
    "DST fall back: the local day has 25 hours": (
        tariff(time=[{"price_per_hour": "1.00"}], time_step_seconds=1),
        session("2026-11-01 00:00", "2026-11-02 00:00"),
        [("time", 25 * 3600, "25.00")],
    ),
    "DST fall back: a window in the repeated hour counts twice": (
        # 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:00-02:00 happens twice.
        tariff(
            time=[{"price_per_hour": "1.00", "windows": [{"start": "01:00", "end": "02:00"}]}],
            time_step_seconds=1,
        ),
        session("2026-11-01 00:30", "2026-11-01 03:00"),
        [("time", 2 * 3600, "2.00")],
    ),
    "flat session fee": (
        tariff(session_fee="1.50"),
        session("2026-03-02 10:00", "2026-03-02 10:03"),
        [("session_fee", 1, "1.50")],
    ),
    "idle fee after the grace period": (
        tariff(idle={"price_per_hour": "12.00", "grace_minutes": 15, "step_seconds": 60}),
        session(
            "2026-03-02 16:00",
            "2026-03-02 18:20",
            energy_wh=9_000,
            charging_until="2026-03-02 18:00",
        ),
        [("idle", 300, "1.00")],
    ),
    "idle fee: leaving within the grace period costs nothing": (
        tariff(idle={"price_per_hour": "12.00", "grace_minutes": 15}),
        session(
            "2026-03-02 16:00",
            "2026-03-02 18:15",
            energy_wh=9_000,
            charging_until="2026-03-02 18:00",
        ),
        [],
    ),
    "idle fee per started 15 minutes": (
        tariff(idle={"price_per_hour": "12.00", "grace_minutes": 0, "step_seconds": 900}),
        session(
            "2026-03-02 16:00",
            "2026-03-02 18:16",
            energy_wh=9_000,
            charging_until="2026-03-02 18:00",
        ),
        [("idle", 1800, "6.00")],
    ),
    "idle fee capped": (
        tariff(idle={"price_per_hour": "12.00", "grace_minutes": 10, "max_amount": "30.00"}),
        session(
            "2026-03-02 16:00",
            "2026-03-03 08:00",
            energy_wh=9_000,
            charging_until="2026-03-02 18:00",
        ),
        [("idle", 13 * 3600 + 50 * 60, "30.00")],
    ),
    "idle fee only in the daytime": (
        tariff(
            idle={
                "price_per_hour": "6.00",
                "grace_minutes": 0,
                "windows": [{"start": "08:00", "end": "20:00"}],
            }
        ),
        session(
            "2026-03-02 17:00",
            "2026-03-02 22:00",
            energy_wh=9_000,
            charging_until="2026-03-02 19:00",
        ),
        [("idle", 3600, "6.00")],
    ),
    "idle time without a recorded end of charging: from the last energy": (
        tariff(idle={"price_per_hour": "6.00", "grace_minutes": 0}),
        SessionTimeline(
            started_at=at("2026-03-02 17:00"),
            ended_at=at("2026-03-02 19:00"),
            timezone="America/Montreal",
            intervals=(
                MeterInterval(at("2026-03-02 17:00"), at("2026-03-02 18:00"), 7_000),
                MeterInterval(at("2026-03-02 18:00"), at("2026-03-02 18:30"), 0),
            ),
        ),
        [("idle", 3600, "6.00")],
    ),
    "tiered duration: the first two hours cheap, then dear": (
        tariff(
            time=[
                {"price_per_hour": "1.00", "to_minutes": 120},
                {"price_per_hour": "5.00", "from_minutes": 120},
            ],
            time_step_seconds=900,
        ),
        session("2026-03-02 09:00", "2026-03-02 12:05"),
        [("time", 7200, "2.00"), ("time", 4500, "6.25")],  # 65 min billed as 75
    ),
    "tiered energy: the first 30 minutes free (OCPI example)": (
        tariff(
            energy=[
                {"price_per_kwh": "0", "to_minutes": 30},
                {"price_per_kwh": "0.25", "from_minutes": 30, "to_minutes": 60},
                {"price_per_kwh": "0.40", "from_minutes": 60},
            ]
        ),
        session(
            "2026-03-02 09:00",
            "2026-03-02 09:40",
            intervals=(
                MeterInterval(at("2026-03-02 09:00"), at("2026-03-02 09:30"), 5_000),
                MeterInterval(at("2026-03-02 09:30"), at("2026-03-02 09:40"), 1_200),
            ),
        ),
        [("energy", 5_000, "0.00"), ("energy", 1_200, "0.30")],
    ),
    "minimum price tops up a short session": (
        tariff(energy=[{"price_per_kwh": "0.25"}], min_price="2.00"),
        session("2026-03-02 10:00", "2026-03-02 10:30", energy_wh=2_000),
        [("energy", 2_000, "0.50"), ("minimum", 1, "1.50")],
    ),
    "minimum price: no energy, no top-up": (
        tariff(energy=[{"price_per_kwh": "0.25"}], min_price="2.00"),
        session("2026-03-02 10:00", "2026-03-02 10:02"),
        [],
    ),
    "maximum price caps a long session": (
        tariff(time=[{"price_per_hour": "5.00"}], max_price="20.00"),
        session("2026-03-02 08:00", "2026-03-02 18:00"),
        [("time", 36_000, "50.00"), ("maximum", 1, "-30.00")],
    ),
    "free charging": (
        tariff(),
        session("2026-03-02 10:00", "2026-03-02 12:00", energy_wh=15_000),
        [("free", 15_000, "0.00")],
    ),
    "free energy with an idle fee is not 'free charging'": (
        tariff(energy=[{"price_per_kwh": "0"}], idle={"price_per_hour": "10.00"}),
        session("2026-03-02 10:00", "2026-03-02 12:00", energy_wh=15_000),
        [("energy", 15_000, "0.00")],
    ),
    "everything at once": (
        tariff(
            session_fee="1.00",
            energy=[
                {
                    "price_per_kwh": "0.30",
                    "label": "peak",
                    "windows": [{"days": WEEKDAYS, "start": "16:00", "end": "21:00"}],
                },
                {"price_per_kwh": "0.20"},
            ],
            time=[
                {"price_per_hour": "1.00", "to_minutes": 120},
                {"price_per_hour": "5.00", "from_minutes": 120},
            ],
            time_step_seconds=900,
            idle={"price_per_hour": "12.00", "grace_minutes": 15, "max_amount": "30.00"},
            min_price="2.00",
            max_price="40.00",
        ),
        session(
            "2026-03-02 15:00",
            "2026-03-02 18:40",
            energy_wh=21_600,
            charging_until="2026-03-02 18:00",
        ),
        [
            ("session_fee", 1, "1.00"),
            ("energy", 14_400, "4.32"),
            ("energy", 7_200, "1.44"),
            ("time", 7200, "2.00"),
            ("time", 6300, "8.75"),
            ("idle", 1500, "5.00"),
        ],
    ),
    "zero-decimal currency": (
        Tariff.from_dict({"currency": "JPY", "energy": [{"price_per_kwh": "33"}]}),
        session("2026-03-02 10:00", "2026-03-02 11:00", energy_wh=1_500, zone="Asia/Tokyo"),
        [("energy", 1_500, "50")],  # 49.5
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pricing_models(name):
    definition, timeline, expected = CASES[name]
    result = compute_cost(definition, timeline)
    assert lines(result) == expected
    assert result.subtotal == sum((D(amount) for _, _, amount in expected), D("0.00"))
    assert result.total == result.subtotal  # no taxes here
    assert result.total >= 0


@pytest.mark.parametrize(
    "taxes,subtotal,expected_taxes,total,excl",
    [
        # Federal + provincial, both on the price before tax.
        (TaxPolicy((GST, QST)), "22.51", ["1.13", "2.25"], "25.89", "22.51"),
        # A compound provincial tax is computed on the price plus the federal tax.
        (
            TaxPolicy((GST, TaxRate("QST", "QST (compound)", D("0.095"), compound=True))),
            "100.00",
            ["5.00", "9.98"],
            "114.98",
            "100.00",
        ),
        # Prices that include VAT: the tax is taken out of the price, the total does not move.
        (TaxPolicy((TaxRate("VAT", "VAT", D("0.15")),), True), "11.50", ["1.50"], "11.50", "10.00"),
        (
            TaxPolicy((TaxRate("VAT", "TVA", D("0.20")),), prices_include_tax=True),
            "0.35",
            ["0.06"],  # 0.3500 / 1.2 * 0.2 = 0.0583
            "0.35",
            "0.29",
        ),
    ],
)
def test_taxes(taxes, subtotal, expected_taxes, total, excl):
    definition = tariff(session_fee=subtotal)
    result = compute_cost(definition, session("2026-03-02 10:00", "2026-03-02 10:10"), taxes)
    assert [str(t.amount) for t in result.taxes] == expected_taxes
    assert (str(result.total), str(result.total_excl_tax)) == (total, excl)
    assert result.tax_total == sum(D(t) for t in expected_taxes)


def test_caps_apply_before_taxes():
    definition = tariff(time=[{"price_per_hour": "5.00"}], max_price="20.00")
    result = compute_cost(
        definition, session("2026-03-02 08:00", "2026-03-02 18:00"), TaxPolicy((GST, QST))
    )
    assert result.subtotal == D("20.00")
    assert [t.amount for t in result.taxes] == [D("1.00"), D("2.00")]  # 1.995 rounds up
    assert result.total == D("23.00")


def test_same_input_same_receipt_and_fingerprint():
    definition, timeline, _ = CASES["everything at once"]
    taxes = TaxPolicy((GST, QST))
    assert compute_cost(definition, timeline, taxes) == compute_cost(definition, timeline, taxes)
    assert inputs_digest(definition, timeline, taxes) == inputs_digest(
        Tariff.from_dict(definition.to_dict()), timeline, taxes
    )
    other = SessionTimeline(
        timeline.started_at,
        timeline.ended_at + timedelta(seconds=1),
        timeline.timezone,
        timeline.intervals,
        timeline.charging_ended_at,
    )
    assert inputs_digest(definition, other, taxes) != inputs_digest(definition, timeline, taxes)


def test_sub_second_timestamps_are_dropped_before_pricing():
    definition = tariff(time=[{"price_per_hour": "3600"}], time_step_seconds=1)
    start = datetime(2026, 3, 2, 15, 0, 0, 900_000, tzinfo=UTC)
    timeline = SessionTimeline(start, start + timedelta(seconds=10), "UTC")
    assert lines(compute_cost(definition, timeline)) == [("time", 10, "10.00")]


def test_definition_round_trips():
    definition, _, _ = CASES["everything at once"]
    assert Tariff.from_dict(definition.to_dict()) == definition


@pytest.mark.parametrize(
    "parts,problem",
    [
        ({"energy": [{"price_per_kwh": 0.25}]}, "not 0.25"),
        ({"energy": [{"price_per_kwh": "-0.25"}]}, "cannot be negative"),
        ({"energy": [{"price_per_kwh": "0.1234567"}]}, "at most 6 decimals"),
        ({"session_fee": "1.005"}, "more decimals than CAD allows"),
        ({"colour": "red"}, "unknown field 'colour'"),
        (
            {"energy": [{"price_per_kwh": "0.20"}, {"price_per_kwh": "0.30"}]},
            "put the default rate last",
        ),
        ({"min_price": "5.00", "max_price": "4.00"}, "min_price is above max_price"),
        (
            {"time": [{"price_per_hour": "1", "windows": [{"start": "7:00", "end": "09:00"}]}]},
            "a time of day",
        ),
        (
            {"time": [{"price_per_hour": "1", "windows": [{"days": ["mo"], "start": "07:00"}]}]},
            "days",
        ),
        ({"time": [{"price_per_hour": "1", "from_minutes": 60, "to_minutes": 30}]}, "after"),
        ({"time_step_seconds": 0}, "time_step_seconds"),
        ({"idle": {"price_per_hour": "1", "grace_minutes": -1}}, "grace_minutes"),
    ],
)
def test_invalid_definitions_are_refused_with_reasons(parts, problem):
    with pytest.raises(TariffError) as error:
        tariff(**parts)
    assert any(problem in p for p in error.value.problems), error.value.problems


@pytest.mark.parametrize(
    "timeline,problem",
    [
        (
            # Naive on purpose: the engine must refuse times without a zone.
            SessionTimeline(datetime(2026, 3, 2, 10), datetime(2026, 3, 2, 11), "UTC"),  # noqa: DTZ001
            "timezone-aware",
        ),
        (session("2026-03-02 10:00", "2026-03-02 09:00"), "ends before it starts"),
        (
            session(
                "2026-03-02 10:00",
                "2026-03-02 11:00",
                intervals=(MeterInterval(at("2026-03-02 10:00"), at("2026-03-02 10:30"), -5),),
            ),
            "negative energy",
        ),
        (
            session(
                "2026-03-02 10:00",
                "2026-03-02 11:00",
                intervals=(
                    MeterInterval(at("2026-03-02 10:00"), at("2026-03-02 10:40"), 5),
                    MeterInterval(at("2026-03-02 10:30"), at("2026-03-02 10:50"), 5),
                ),
            ),
            "not overlap",
        ),
        (
            SessionTimeline(at("2026-03-02 10:00"), at("2026-03-02 11:00"), "Mars/Olympus"),
            "unknown time zone",
        ),
    ],
)
def test_bad_timelines_are_refused(timeline, problem):
    with pytest.raises(TimelineError, match=problem):
        compute_cost(tariff(session_fee="1.00"), timeline)


def test_energy_of_an_interval_is_never_created_or_lost_when_split():
    # 1001 Wh over an interval cut in three unequal parts by TOU edges.
    definition = tariff(
        energy=[
            {"price_per_kwh": "1", "windows": [{"start": "10:10", "end": "10:20"}]},
            {"price_per_kwh": "2", "windows": [{"start": "10:20", "end": "10:27"}]},
            {"price_per_kwh": "3"},
        ]
    )
    timeline = session(
        "2026-03-02 10:00",
        "2026-03-02 10:30",
        intervals=(MeterInterval(at("2026-03-02 10:00"), at("2026-03-02 10:30"), 1_001),),
    )
    result = compute_cost(definition, timeline)
    assert sum(line.quantity for line in result.lines) == 1_001
    assert sum(p.energy_wh for p in result.periods) == 1_001


# --- Which tariff applies: who you are beats where you are -----------------------------------

STATION, SITE, OTHER_SITE = 7, 3, 4
EMPLOYEES, RESIDENTS = 10, 11

PRECEDENCE = {
    "nothing assigned": ([], set(), None),
    "tenant default": ([AssignmentCandidate(1, 100)], set(), 1),
    "site beats tenant default": (
        [AssignmentCandidate(1, 100), AssignmentCandidate(2, 200, site_id=SITE)],
        set(),
        2,
    ),
    "station beats site": (
        [
            AssignmentCandidate(2, 200, site_id=SITE),
            AssignmentCandidate(3, 300, station_id=STATION, site_id=SITE),
        ],
        set(),
        3,
    ),
    "another site's tariff does not apply": (
        [AssignmentCandidate(1, 100), AssignmentCandidate(2, 200, site_id=OTHER_SITE)],
        set(),
        1,
    ),
    "a group tariff does not apply to a driver outside the group": (
        [AssignmentCandidate(1, 100), AssignmentCandidate(2, 200, group_id=EMPLOYEES)],
        set(),
        1,
    ),
    "a tenant-wide group tariff beats a station's public tariff": (
        [
            AssignmentCandidate(3, 300, station_id=STATION, site_id=SITE),
            AssignmentCandidate(4, 400, group_id=EMPLOYEES),
        ],
        {EMPLOYEES},
        4,
    ),
    "between two groups, the group priority decides": (
        [
            AssignmentCandidate(5, 500, site_id=SITE, group_id=RESIDENTS, group_priority=20),
            AssignmentCandidate(6, 600, group_id=EMPLOYEES, group_priority=10),
        ],
        {EMPLOYEES, RESIDENTS},
        6,
    ),
    "same group: the more specific place wins": (
        [
            AssignmentCandidate(6, 600, group_id=EMPLOYEES),
            AssignmentCandidate(7, 700, site_id=SITE, group_id=EMPLOYEES),
        ],
        {EMPLOYEES},
        7,
    ),
    "same place: the assignment priority, then the oldest": (
        [
            AssignmentCandidate(9, 900, site_id=SITE, priority=5),
            AssignmentCandidate(8, 800, site_id=SITE, priority=5),
            AssignmentCandidate(10, 1000, site_id=SITE, priority=9),
        ],
        set(),
        8,
    ),
}


@pytest.mark.parametrize("name", list(PRECEDENCE))
def test_group_and_place_precedence(name):
    candidates, groups, expected = PRECEDENCE[name]
    chosen = select_assignment(candidates, station_id=STATION, site_id=SITE, group_ids=groups)
    assert (chosen.assignment_id if chosen else None) == expected
