"""The access engine against hand-computed cases: levels, kinds, windows past midnight, date
ranges, holidays, and the two DST changes of 2026 in Toronto (8 March, 1 November)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from apps.access.choices import HolidayMode, Level, Refusal, RuleKind
from apps.access.engine import Rule, Schedule, Window, admits_nobody, decide, overlaps

TORONTO = ZoneInfo("America/Toronto")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
STAFF, VISITORS = 1, 2


def t(hhmm: str) -> dt.time:
    return dt.time.fromisoformat(hhmm)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TORONTO)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def weekdays(start: str, end: str) -> tuple[Window, ...]:
    return tuple(Window(day, t(start), t(end)) for day in (MON, TUE, WED, THU, FRI))


STAFF_ALWAYS = Rule(1, "staff 24/7", Level.SITE, RuleKind.MEMBERS, frozenset({STAFF}))
PUBLIC_EVENINGS = Rule(
    2,
    "public weekdays 18–07",
    Level.SITE,
    RuleKind.PUBLIC,
    schedule=Schedule(weekdays("18:00", "07:00")),
)


def allowed(rules, moment, groups=frozenset(), **kw) -> bool:
    return decide(rules=rules, token_groups=groups, moment=moment, tz=TORONTO, **kw).allowed


def test_no_rule_abstains():
    decision = decide(
        rules=(), token_groups=frozenset(), moment=utc("2026-05-05 12:00"), tz=TORONTO
    )
    assert not decision.decided and decision.allowed


def test_staff_always_public_weekday_evenings():
    rules = (STAFF_ALWAYS, PUBLIC_EVENINGS)
    # Tuesday noon: staff yes, the public no (a rule would admit them at another time).
    assert allowed(rules, local("2026-05-05 12:00"), frozenset({STAFF}))
    noon = decide(
        rules=rules, token_groups=frozenset(), moment=local("2026-05-05 12:00"), tz=TORONTO
    )
    assert not noon.allowed and noon.reason == Refusal.NOT_AT_THIS_TIME
    # Tuesday 18:00 sharp: the window opens (start inclusive), 17:59 is still closed.
    assert allowed(rules, local("2026-05-05 18:00"))
    assert not allowed(rules, local("2026-05-05 17:59"))
    # Past midnight the window of the day it started on still runs: Wednesday 06:59 yes, 07:00 no.
    assert allowed(rules, local("2026-05-06 06:59"))
    assert not allowed(rules, local("2026-05-06 07:00"))
    # Friday 18:00 runs into Saturday 07:00; Saturday evening has no window; nor has Monday
    # 03:00 (Sunday opened none), while Tuesday 03:00 belongs to Monday's.
    assert allowed(rules, local("2026-05-09 06:59"))
    assert not allowed(rules, local("2026-05-09 18:00"))
    assert not allowed(rules, local("2026-05-11 03:00"))
    assert allowed(rules, local("2026-05-12 03:00"))


def test_members_rule_never_admits_an_outsider_here():
    decision = decide(
        rules=(STAFF_ALWAYS,),
        token_groups=frozenset({VISITORS}),
        moment=local("2026-05-05 12:00"),
        tz=TORONTO,
    )
    assert not decision.allowed and decision.reason == Refusal.NOT_AT_THIS_LOCATION
    assert any("does not admit" in step for step in decision.steps)


def test_most_specific_level_decides_alone():
    station_private = Rule(3, "private station", Level.STATION, RuleKind.PRIVATE)
    port_public = Rule(4, "port 2 public", Level.PORT, RuleKind.PUBLIC)
    site_public = Rule(5, "site public", Level.SITE, RuleKind.PUBLIC)
    noon = local("2026-05-05 12:00")
    assert not allowed((site_public, station_private), noon)  # station beats site
    assert allowed((site_public, station_private, port_public), noon)  # port beats station
    # The port is not known (1.6 Authorize): port rules are not consulted.
    assert not allowed((site_public, station_private, port_public), noon, port_known=False)
    decision = decide(
        rules=(site_public, station_private), token_groups=frozenset(), moment=noon, tz=TORONTO
    )
    assert decision.level == Level.STATION and decision.reason == Refusal.NOT_AT_THIS_LOCATION


def test_all_day_window_and_24_hour_window():
    whole_monday = Rule(
        6,
        "monday",
        Level.SITE,
        RuleKind.PUBLIC,
        schedule=Schedule((Window(MON, t("00:00"), t("00:00")),)),
    )
    assert allowed((whole_monday,), local("2026-05-04 00:00"))
    assert allowed((whole_monday,), local("2026-05-04 23:59"))
    assert not allowed((whole_monday,), local("2026-05-05 00:00"))
    noon_to_noon = Rule(
        7,
        "mon 12–12",
        Level.SITE,
        RuleKind.PUBLIC,
        schedule=Schedule((Window(MON, t("12:00"), t("12:00")),)),
    )
    assert not allowed((noon_to_noon,), local("2026-05-04 11:59"))
    assert allowed((noon_to_noon,), local("2026-05-05 11:59"))
    assert not allowed((noon_to_noon,), local("2026-05-05 12:00"))


def test_date_range_and_holidays_belong_to_the_start_day():
    friday_night = Schedule((Window(FRI, t("22:00"), t("06:00")),), date_to=dt.date(2026, 5, 8))
    rule = Rule(8, "last friday night", Level.SITE, RuleKind.PUBLIC, schedule=friday_night)
    # Friday 8 May 22:00 → Saturday 9 May 06:00 is the last window, though Saturday is past date_to.
    assert allowed((rule,), local("2026-05-09 03:00"))
    assert not allowed((rule,), local("2026-05-16 03:00"))
    from_date = Rule(
        9,
        "from the 9th",
        Level.SITE,
        RuleKind.PUBLIC,
        schedule=Schedule(date_from=dt.date(2026, 5, 9)),
    )
    assert not allowed((from_date,), local("2026-05-08 23:59"))
    assert allowed((from_date,), local("2026-05-09 00:00"))

    holiday = frozenset({dt.date(2026, 5, 18)})  # Victoria Day, a Monday
    evenings_skip = Rule(
        10,
        "evenings",
        Level.SITE,
        RuleKind.PUBLIC,
        schedule=Schedule(weekdays("18:00", "07:00"), holidays=HolidayMode.SKIP),
    )
    assert not allowed((evenings_skip,), local("2026-05-18 19:00"), holidays=holiday)
    assert not allowed(
        (evenings_skip,), local("2026-05-19 03:00"), holidays=holiday
    )  # Monday's window
    assert allowed((evenings_skip,), local("2026-05-19 19:00"), holidays=holiday)
    holidays_only = Rule(
        11, "holidays", Level.SITE, RuleKind.PUBLIC, schedule=Schedule(holidays=HolidayMode.ONLY)
    )
    assert allowed((holidays_only,), local("2026-05-18 12:00"), holidays=holiday)
    assert not allowed((holidays_only,), local("2026-05-19 12:00"), holidays=holiday)


SAT_NIGHT = Rule(
    12,
    "saturday night 22–06",
    Level.SITE,
    RuleKind.PUBLIC,
    schedule=Schedule((Window(SAT, t("22:00"), t("06:00")),)),
)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Spring forward, Sunday 8 March 2026: 02:00 EST becomes 03:00 EDT.
        ("2026-03-08 06:59", True),  # 01:59 EST
        ("2026-03-08 07:00", True),  # 03:00 EDT (02:xx never happens)
        ("2026-03-08 09:59", True),  # 05:59 EDT
        ("2026-03-08 10:00", False),  # 06:00 EDT (a fixed EST offset would say 05:00, inside)
        ("2026-03-08 03:00", True),  # Saturday 22:00 EST, the window opens
        ("2026-03-08 02:59", False),  # Saturday 21:59 EST
        # Fall back, Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST.
        ("2026-11-01 02:00", True),  # Saturday 22:00 EDT
        ("2026-11-01 05:30", True),  # 01:30 EDT, the first time
        ("2026-11-01 06:30", True),  # 01:30 EST, the second time
        ("2026-11-01 10:30", True),  # 05:30 EST (a fixed EDT offset would say 06:30, outside)
        ("2026-11-01 11:00", False),  # 06:00 EST
    ],
)
def test_dst_changes_follow_the_wall_clock(moment, expected):
    assert allowed((SAT_NIGHT,), utc(moment)) is expected


def test_naive_moment_is_refused():
    with pytest.raises(ValueError):
        decide(rules=(), token_groups=frozenset(), moment=dt.datetime(2026, 5, 5), tz=TORONTO)  # noqa: DTZ001


def test_lockout_needs_a_rule_that_could_ever_admit_someone():
    today = dt.date(2026, 5, 5)
    private = Rule(20, "private", Level.SITE, RuleKind.PRIVATE)
    empty_group = Rule(21, "staff", Level.SITE, RuleKind.MEMBERS, frozenset({STAFF}))
    ended = Rule(
        22,
        "old public",
        Level.SITE,
        RuleKind.PUBLIC,
        schedule=Schedule(date_to=dt.date(2026, 5, 4)),
    )
    assert not admits_nobody((), populated_groups=frozenset(), today=today)  # open, not locked
    assert admits_nobody((private, empty_group, ended), populated_groups=frozenset(), today=today)
    assert not admits_nobody(
        (private, empty_group), populated_groups=frozenset({STAFF}), today=today
    )
    assert not admits_nobody((ended,), populated_groups=frozenset(), today=dt.date(2026, 5, 4))
    # A rule in force only at night still admits someone some time: not a lock-out.
    assert not admits_nobody((PUBLIC_EVENINGS,), populated_groups=frozenset(), today=today)


def test_overlapping_windows_are_explained():
    def rule(n, *windows):
        return Rule(n, f"r{n}", Level.SITE, RuleKind.PUBLIC, schedule=Schedule(tuple(windows)))

    friday_night = rule(30, Window(FRI, t("18:00"), t("07:00")))
    saturday_morning = rule(31, Window(SAT, t("06:00"), t("08:00")))
    sunday_night = rule(32, Window(SUN, t("22:00"), t("02:00")))  # runs into Monday
    monday_early = rule(
        33, Window(MON, t("01:00"), t("03:00")), Window(MON, t("09:00"), t("10:00"))
    )
    monday_late = rule(34, Window(MON, t("10:00"), t("11:00")))  # touches, does not overlap
    found = overlaps([friday_night, saturday_morning, sunday_night, monday_early, monday_late])
    assert [str(o) for o in found] == [
        "“r32” and “r33” both apply Monday 01:00–02:00",
        "“r30” and “r31” both apply Saturday 06:00–07:00",
    ]
    always = Rule(35, "always", Level.SITE, RuleKind.PUBLIC)
    assert [(o.weekday, o.start, o.minutes) for o in overlaps([always, monday_late])] == [
        (MON, t("10:00"), 60)
    ]
