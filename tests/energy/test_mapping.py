"""The event → limits mapping against hand-computed cases (pure: no database)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from apps.energy.mapping import Step, Target, signal_kind, steps_for, target_for

T0 = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
PERCENTS = (Decimal("75"), Decimal("40"), Decimal("10"))


def test_signal_kinds():
    assert signal_kind("simple", "level") == "level"
    assert signal_kind("SIMPLE", "level") == "level"
    assert signal_kind("LOAD_DISPATCH", "setpoint") == "kw_target"
    assert signal_kind("LOAD_CONTROL", "x-loadControlCapacity") == "kw_target"
    assert signal_kind("ELECTRICITY_PRICE", "price") == "other"


def test_levels_are_shares_of_the_node_limits_rounded_down():
    target = target_for(
        kind="level",
        value=Decimal("2"),
        percents=PERCENTS,
        node_limit_a=Decimal("63"),
        node_limit_kw=Decimal("43.5"),
    )
    assert target == Target(Decimal("25.2"), Decimal("17.400"))
    assert target_for(
        kind="level",
        value=Decimal("0"),
        percents=PERCENTS,
        node_limit_a=Decimal("63"),
        node_limit_kw=None,
    ).empty
    assert target_for(
        kind="level",
        value=Decimal("3"),
        percents=PERCENTS,
        node_limit_a=Decimal("63"),
        node_limit_kw=None,
    ) == Target(Decimal("6.3"), None)


def test_a_kw_target_is_a_kw_limit():
    target = target_for(
        kind="kw_target",
        value=Decimal("22.5"),
        percents=PERCENTS,
        node_limit_a=Decimal("100"),
        node_limit_kw=None,
    )
    assert target == Target(None, Decimal("22.500"))


def test_ramp_down_before_the_start_and_recovery_after_the_end():
    steps = steps_for(
        target=Target(Decimal("40"), None),
        before=Target(Decimal("100"), None),
        starts_at=T0,
        ends_at=T0 + timedelta(hours=1),
        ramp_up=timedelta(minutes=3),
        recovery=timedelta(minutes=6),
    )
    minute = timedelta(minutes=1)
    assert steps == [
        Step(T0 - 3 * minute, T0 - 2 * minute, Decimal("85.0"), None),
        Step(T0 - 2 * minute, T0 - 1 * minute, Decimal("70.0"), None),
        Step(T0 - 1 * minute, T0, Decimal("55.0"), None),
        Step(T0, T0 + 60 * minute, Decimal("40"), None),
        Step(T0 + 60 * minute, T0 + 62 * minute, Decimal("55.0"), None),
        Step(T0 + 62 * minute, T0 + 64 * minute, Decimal("70.0"), None),
        Step(T0 + 64 * minute, T0 + 66 * minute, Decimal("85.0"), None),
    ]
    assert all(step.ends_at > step.starts_at for step in steps)


def test_no_ramp_without_a_limit_before_and_nothing_for_an_empty_target():
    only = steps_for(
        target=Target(None, Decimal("20")),
        before=Target(Decimal("100"), None),
        starts_at=T0,
        ends_at=T0 + timedelta(minutes=30),
        ramp_up=timedelta(minutes=3),
        recovery=timedelta(0),
    )
    assert only == [Step(T0, T0 + timedelta(minutes=30), None, Decimal("20"))]
    assert (
        steps_for(
            target=Target(None, None),
            before=Target(Decimal("100"), None),
            starts_at=T0,
            ends_at=T0 + timedelta(minutes=30),
            ramp_up=timedelta(0),
            recovery=timedelta(0),
        )
        == []
    )


def test_intervals_without_their_own_start_follow_each_other():
    """The 2.0b rule: intervals follow each other from the active period's start (openleadr
    sends each one's dtstart; other VTNs may send only durations)."""
    from apps.energy.openadr import parse_event

    start = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    raw = {
        "event_descriptor": {"event_id": "e", "modification_number": 0, "event_status": "far"},
        "active_period": {"dtstart": start, "duration": timedelta(minutes=45)},
        "event_signals": [
            {
                "signal_name": "simple",
                "signal_type": "level",
                "intervals": [
                    {"duration": timedelta(minutes=15), "uid": 0, "signal_payload": 1.0},
                    {"duration": timedelta(minutes=30), "uid": 1, "signal_payload": 3.0},
                ],
            }
        ],
    }
    event = parse_event(raw)
    assert event.intervals == (
        (timedelta(0), timedelta(minutes=15), Decimal("1.0")),
        (timedelta(minutes=15), timedelta(minutes=30), Decimal("3.0")),
    )
    assert event.value == Decimal("3.0")


def test_each_part_has_its_own_step_ramp_into_the_first_recover_from_the_last():
    from apps.energy.mapping import Part, steps_for_parts

    t0 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    steps = steps_for_parts(
        parts=[
            Part(t0, t0 + 10 * minute, Target(Decimal("60"), None)),
            Part(t0 + 10 * minute, t0 + 20 * minute, Target(None, None)),  # level 0
            Part(t0 + 20 * minute, t0 + 30 * minute, Target(Decimal("20"), None)),
        ],
        before=Target(Decimal("100"), None),
        ramp_up=3 * minute,
        recovery=3 * minute,
    )
    assert [(s.starts_at - t0, s.limit_a) for s in steps] == [
        (-3 * minute, Decimal("90.0")),  # 1/4 of the way to the first part's 60 A
        (-2 * minute, Decimal("80.0")),
        (-1 * minute, Decimal("70.0")),
        (timedelta(0), Decimal("60")),
        (20 * minute, Decimal("20")),
        (30 * minute, Decimal("40.0")),  # recovering from the last part's 20 A
        (31 * minute, Decimal("60.0")),
        (32 * minute, Decimal("80.0")),
    ]


def test_default_rules_opt_out_of_long_events_and_chosen_days():
    from apps.energy.rules import default_opt, mask_of

    monday = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # a Monday
    weekend = mask_of([5, 6])
    assert weekend == 96

    def opt(default="optIn", over=None, days=0, start=monday, duration=timedelta(hours=2)):
        return default_opt(
            default=default, over_minutes=over, days=days, starts_local=start, duration=duration
        )

    assert opt() == ("optIn", "default")
    assert opt(over=120) == ("optIn", "default")  # exactly the limit: taken
    assert opt(over=119) == ("optOut", "rule")
    assert opt(over=600, duration=None) == ("optOut", "rule")  # open-ended counts as longer
    assert opt(days=weekend) == ("optIn", "default")
    assert opt(days=weekend, start=monday + timedelta(days=5)) == ("optOut", "rule")  # Saturday
    assert opt(days=mask_of([0])) == ("optOut", "rule")
    assert opt(default="optOut") == ("optOut", "default")
