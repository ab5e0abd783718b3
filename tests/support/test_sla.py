"""The SLA engine against hand-computed cases (apps/support/sla.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.support.sla import BusinessHours, clock_minutes, due_at, is_open

LA = BusinessHours()  # 05:00-18:00 America/Los_Angeles, Monday to Friday


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_round_the_clock_is_plain_minutes():
    assert due_at(utc(2025, 3, 8, 23, 0), 240, None) == utc(2025, 3, 9, 3, 0)


def test_inside_business_hours_the_clock_runs_as_the_wall_clock():
    # Tuesday 2025-01-14 09:00 PST = 17:00 UTC; four hours later, 13:00 PST = 21:00 UTC.
    assert due_at(utc(2025, 1, 14, 17, 0), 240, LA) == utc(2025, 1, 14, 21, 0)


def test_the_clock_stops_at_closing_and_resumes_at_opening():
    # Tuesday 16:00 PST (00:00 UTC Wed): 2 h left that day, 2 h from Wednesday 05:00 PST.
    assert due_at(utc(2025, 1, 15, 0, 0), 240, LA) == utc(2025, 1, 15, 15, 0)  # 07:00 PST


def test_a_case_opened_on_friday_evening_waits_for_monday():
    # Friday 2025-01-17 20:00 PST (Sat 04:00 UTC); Monday 05:00 PST = 13:00 UTC, + 1 h.
    assert due_at(utc(2025, 1, 18, 4, 0), 60, LA) == utc(2025, 1, 20, 14, 0)


def test_a_long_target_spans_several_business_days():
    # 30 business hours from Monday 05:00 PST: Monday 13 h, Tuesday 13 h, Wednesday 4 h.
    start = utc(2025, 1, 13, 13, 0)
    assert due_at(start, 30 * 60, LA) == utc(2025, 1, 15, 17, 0)  # Wednesday 09:00 PST


def test_windows_follow_the_wall_clock_across_daylight_saving():
    # Friday 2025-03-07 17:00 PST (01:00 UTC Sat) with 2 h to go: 1 h on Friday, then Monday
    # 2025-03-10 05:00 PDT (12:00 UTC, no longer 13:00) + 1 h.
    assert due_at(utc(2025, 3, 8, 1, 0), 120, LA) == utc(2025, 3, 10, 13, 0)


def test_a_night_shift_window_crosses_midnight():
    night = BusinessHours(opens=dt.time(22, 0), closes=dt.time(6, 0), timezone="UTC")
    assert due_at(utc(2025, 1, 14, 23, 0), 120, night) == utc(2025, 1, 15, 1, 0)
    assert due_at(utc(2025, 1, 14, 12, 0), 60, night) == utc(2025, 1, 14, 23, 0)


def test_is_open():
    assert is_open(utc(2025, 1, 14, 17, 0), LA)  # Tuesday 09:00 PST
    assert not is_open(utc(2025, 1, 14, 12, 0), LA)  # Tuesday 04:00 PST
    assert not is_open(utc(2025, 1, 18, 20, 0), LA)  # Saturday noon


def test_bad_hours_are_refused():
    with pytest.raises(ValueError):
        BusinessHours(opens=dt.time(9), closes=dt.time(9))
    with pytest.raises(ValueError):
        BusinessHours(days=frozenset())
    with pytest.raises(ValueError):
        due_at(dt.datetime(2025, 1, 1, 9, 0), 60, LA)  # naive  # noqa: DTZ001


def test_clock_minutes_round_the_clock_are_plain_minutes():
    assert clock_minutes(utc(2025, 1, 14, 10, 0), utc(2025, 1, 15, 11, 30), None) == 25.5 * 60
    assert clock_minutes(utc(2025, 1, 15, 0, 0), utc(2025, 1, 14, 0, 0), None) == 0


def test_clock_minutes_in_business_hours_count_only_the_windows():
    # Tuesday 2025-01-14 16:00 PST (00:00 UTC Wed) to Wednesday 07:00 PST (15:00 UTC):
    # 2 h on Tuesday, 2 h on Wednesday, the night does not count.
    assert clock_minutes(utc(2025, 1, 15, 0, 0), utc(2025, 1, 15, 15, 0), LA) == 240
    # Friday 17:00 PST to Monday 06:00 PST: 1 h + 1 h, the weekend does not count.
    assert clock_minutes(utc(2025, 1, 18, 1, 0), utc(2025, 1, 20, 14, 0), LA) == 120
    # Saturday to Sunday: nothing.
    assert clock_minutes(utc(2025, 1, 18, 20, 0), utc(2025, 1, 19, 20, 0), LA) == 0


def test_clock_minutes_and_due_at_agree():
    # Pushing a due date by the minutes a pause counted is the same as starting later.
    # Monday 2025-01-13 05:00 PST; paused from Monday 12:00 PST to Tuesday 18:00 PST.
    start, paused_from, paused_to = utc(2025, 1, 13, 13), utc(2025, 1, 13, 20), utc(2025, 1, 15, 2)
    paused = clock_minutes(paused_from, paused_to, LA)
    assert paused == (6 + 13) * 60  # Monday 12-18, Tuesday 05-18
    ran_before = clock_minutes(start, paused_from, LA)
    due = due_at(start, 30 * 60 + paused, LA)
    assert due == due_at(paused_to, 30 * 60 - ran_before, LA)
