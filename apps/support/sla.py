"""SLA clocks: when an answer (or a resolution) is due.  Pure: no database, no settings.

Rules:

* A **round-the-clock** clock (drivers: support at any hour) is due ``minutes`` after it
  starts.
* A **business-hours** clock (station managers) counts only the minutes inside the support
  team's opening windows: ``days`` of the week (0 = Monday), from ``opens`` to ``closes``
  wall-clock time in ``timezone`` (05:00-18:00 America/Los_Angeles by default).  A clock
  started outside a window starts at the next window's opening.  Windows are built from
  wall-clock times each day, so a daylight-saving change moves them with the clock on the
  wall (a window on the day of the change is one hour shorter or longer in real time);
  durations are measured in UTC, never between local times.
* A window that closes before it opens (a night shift) ends the next day.
* A clock can be **paused** (a case waiting on its requester): ``clock_minutes`` measures how
  much of a clock ran between two instants (all the minutes round the clock, only those inside
  windows in business hours), and the due date is then pushed by that much
  (``due_at(start, target + paused, hours)``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MONDAY_TO_FRIDAY = frozenset(range(5))


@dataclass(frozen=True)
class BusinessHours:
    opens: dt.time = dt.time(5, 0)
    closes: dt.time = dt.time(18, 0)
    timezone: str = "America/Los_Angeles"
    days: frozenset[int] = field(default_factory=lambda: MONDAY_TO_FRIDAY)

    def __post_init__(self) -> None:
        if self.opens == self.closes:
            raise ValueError("A business day needs opening and closing times that differ")
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("Business days are weekdays 0 (Monday) to 6 (Sunday)")
        ZoneInfo(self.timezone)  # raises on an unknown zone


def _windows(hours: BusinessHours, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The opening windows (UTC, in order) that end after ``start``, from the day before."""
    zone = ZoneInfo(hours.timezone)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    # 14 days without a window cannot happen (days is not empty); the bound guards the loop.
    for _ in range(3700):
        if day.weekday() in hours.days:
            opens = dt.datetime.combine(day, hours.opens, tzinfo=zone).astimezone(dt.UTC)
            closes_day = day if hours.closes > hours.opens else day + dt.timedelta(days=1)
            closes = dt.datetime.combine(closes_day, hours.closes, tzinfo=zone).astimezone(dt.UTC)
            if closes > start:
                yield opens, closes
        day += dt.timedelta(days=1)
    raise AssertionError("no business window found")  # pragma: no cover


def due_at(start: dt.datetime, minutes: float, hours: BusinessHours | None) -> dt.datetime:
    """When a clock started at ``start`` with ``minutes`` to go runs out (UTC).
    ``hours`` None: round the clock."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(dt.UTC)
    remaining = dt.timedelta(minutes=minutes)
    if hours is None:
        return start + remaining
    for opens, closes in _windows(hours, start):
        begin = max(opens, start)
        if begin + remaining <= closes:
            return begin + remaining
        remaining -= closes - begin
    raise AssertionError("unreachable")  # pragma: no cover


def clock_minutes(start: dt.datetime, end: dt.datetime, hours: BusinessHours | None) -> float:
    """How many minutes a clock counts between ``start`` and ``end`` (0 when end <= start)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        return 0.0
    if hours is None:
        return (end - start).total_seconds() / 60
    counted = dt.timedelta()
    for opens, closes in _windows(hours, start):
        if opens >= end:
            break
        counted += min(closes, end) - max(opens, start)
    return counted.total_seconds() / 60


def is_open(at: dt.datetime, hours: BusinessHours) -> bool:
    """Whether ``at`` falls inside an opening window."""
    at = at.astimezone(dt.UTC)
    opens, closes = next(_windows(hours, at))
    return opens <= at < closes
