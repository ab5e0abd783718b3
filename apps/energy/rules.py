"""The VEN's default rules for new events (pure): take part or not by default, and opt out
automatically of events that are too long or start on chosen days (the site's local day)."""

from __future__ import annotations

from datetime import datetime, timedelta

from .choices import Opt, OptSource

MONDAY = 1  # bit of Monday; Tuesday = 2, Wednesday = 4 ... Sunday = 64 (as power's windows)
EVERY_DAY = 127


def day_bit(local: datetime) -> int:
    return 1 << local.weekday()


def days_of(mask: int) -> list[int]:
    """The weekday numbers (Monday = 0) set in ``mask``."""
    return [day for day in range(7) if mask & (1 << day)]


def mask_of(days) -> int:
    return sum(1 << int(day) for day in set(days))


def default_opt(
    *,
    default: str,
    over_minutes: int | None,
    days: int,
    starts_local: datetime,
    duration: timedelta | None,
) -> tuple[str, str]:
    """(opt, source) for an event nobody has chosen for yet: the VEN's default, unless a rule
    opts it out (longer than ``over_minutes``; open-ended events count as too long when a
    length is set; starting on one of ``days``)."""
    if default != Opt.IN:
        return default, OptSource.DEFAULT
    if over_minutes is not None and (
        duration is None or duration > timedelta(minutes=over_minutes)
    ):
        return Opt.OUT, OptSource.RULE
    if days & day_bit(starts_local):
        return Opt.OUT, OptSource.RULE
    return Opt.IN, OptSource.DEFAULT
