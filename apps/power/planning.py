"""Time windows, scheduled charging and the capacity planner.  Pure functions.

Windows are a weekday mask (Monday = bit 0) and a local time span; an ``end`` at or before
``start`` runs past midnight (and belongs to the day it starts on).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

QUARTER = timedelta(minutes=15)


def window_active(weekdays: int, start: time, end: time, local: datetime) -> bool:
    """Whether a window is open at the local moment ``local``."""
    moment = local.time().replace(tzinfo=None)
    today = local.weekday()
    if start < end:
        return bool(weekdays >> today & 1) and start <= moment < end
    yesterday = (today - 1) % 7
    if moment >= start:
        return bool(weekdays >> today & 1)
    if moment < end:
        return bool(weekdays >> yesterday & 1)
    return False


def local_at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """``moment`` on ``day`` in ``zone``, as UTC (the first one, when clocks go back)."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def next_occurrence(now: datetime, moment: time, zone: ZoneInfo) -> datetime:
    """The first time at or after ``now`` when the local clock shows ``moment``."""
    local_day = now.astimezone(zone).date()
    for offset in range(3):
        candidate = local_at(local_day + timedelta(days=offset), moment, zone)
        if candidate >= now:
            return candidate
    raise AssertionError("unreachable: a local time recurs within two days")


@dataclass(frozen=True)
class Rate:
    weekdays: int
    start: time
    end: time
    price_per_kwh: Decimal


def price_at(rates: Sequence[Rate], local: datetime) -> Decimal | None:
    """The lowest price of the rate windows open at ``local`` (None when none is)."""
    prices = [r.price_per_kwh for r in rates if window_active(r.weekdays, r.start, r.end, local)]
    return min(prices) if prices else None


@dataclass(frozen=True)
class Plan:
    starts_at: datetime | None  # None: charge at once
    departure_at: datetime | None


def start_at_plan(*, now: datetime, zone: ZoneInfo, start: time, departure: time | None) -> Plan:
    """Charge from ``start`` (local) until ``departure``: at once if inside that window now."""
    if departure is not None and window_active(0b1111111, start, departure, now.astimezone(zone)):
        return Plan(None, next_occurrence(now, departure, zone))
    starts_at = next_occurrence(now, start, zone)
    departure_at = next_occurrence(starts_at, departure, zone) if departure else None
    return Plan(starts_at, departure_at)


def cheapest_plan(
    *,
    now: datetime,
    zone: ZoneInfo,
    departure: time,
    energy_wh: int,
    power_w: int,
    rates: Sequence[Rate],
) -> Plan:
    """The cheapest contiguous stretch before ``departure`` long enough for ``energy_wh`` at
    ``power_w``; the earliest of equally cheap ones.  Hours no rate covers are avoided first
    (unknown is not cheap), then the price decides.  No rates, or no time to spare: at once."""
    departure_at = next_occurrence(now, departure, zone)
    if not rates or power_w <= 0:
        return Plan(None, departure_at)
    quarters_needed = max(1, math.ceil(energy_wh * 4 / power_w))
    start = _ceil_quarter(now)
    available = int((departure_at - start) / QUARTER)
    if available <= quarters_needed:
        return Plan(None, departure_at)
    unknown, prices = [], []
    for index in range(available):
        price = price_at(rates, (start + index * QUARTER).astimezone(zone))
        unknown.append(1 if price is None else 0)
        prices.append(Decimal(0) if price is None else price)
    gaps, cost = sum(unknown[:quarters_needed]), sum(prices[:quarters_needed])
    best, best_index = (gaps, cost), 0
    for index in range(1, available - quarters_needed + 1):
        leaving, entering = index - 1, index + quarters_needed - 1
        gaps += unknown[entering] - unknown[leaving]
        cost += prices[entering] - prices[leaving]
        if (gaps, cost) < best:
            best, best_index = (gaps, cost), index
    if best_index == 0:
        return Plan(None, departure_at)
    return Plan(start + best_index * QUARTER, departure_at)


def _ceil_quarter(moment: datetime) -> datetime:
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + QUARTER


def quarter_of(moment: datetime) -> datetime:
    """The start of the 15-minute interval ``moment`` falls in."""
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


# --- Capacity planner -----------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """15 minutes of a node's history: averages over the interval."""

    start: datetime
    ev_w: int  # drawn by the EVSEs under the node
    base_w: int  # the building's other loads on it
    sessions: int  # sessions charging under the node


@dataclass(frozen=True)
class PlanRow:
    extra_ports: int
    share_p5_w: int  # what each session gets in the busiest 5 % of intervals
    share_median_w: int  # ... in a typical busy interval
    energy_wh: int  # energy a session would get in a typical stay
    short_intervals: float  # share of intervals where not every session gets its minimum
    fits: bool


@dataclass(frozen=True)
class CapacityPlan:
    ports_that_fit: int
    rows: tuple[PlanRow, ...]
    intervals: int


def plan_capacity(
    intervals: Iterable[Interval],
    *,
    limit_w: int,
    existing_ports: int,
    port_w: int,
    min_w: int,
    stay_hours: Decimal,
    energy_need_wh: int,
    max_extra: int = 40,
    tolerance: float = 0.05,
) -> CapacityPlan:
    """How many more ports of ``port_w`` fit under a node of ``limit_w`` with power
    management, from the node's own 15-minute history.

    New ports are assumed as busy as the existing ones at the same moment (each existing
    port's occupancy, times the new ports).  In each interval the power left after the building
    load is shared equally among all sessions, capped at a port's power.  ``n`` more ports fit
    when, in all but ``tolerance`` of the busy intervals, every session still gets at least
    ``min_w`` (the 6 A minimum).  A session's energy is its typical share over ``stay_hours``,
    at most ``energy_need_wh``."""
    intervals = list(intervals)
    busy = [i for i in intervals if i.sessions > 0]
    rows = []
    best = 0
    for extra in range(0, max_extra + 1):
        shares = []
        short = 0
        for interval in busy:
            occupancy = interval.sessions / existing_ports if existing_ports else 1.0
            sessions = interval.sessions + extra * min(1.0, occupancy)
            room = max(0, limit_w - interval.base_w)
            share = min(port_w, room / sessions) if sessions else port_w
            shares.append(share)
            if share < min_w:
                short += 1
        if shares:
            shares.sort()
            p5 = shares[int(len(shares) * 0.05)]
            median = shares[len(shares) // 2]
            short_fraction = short / len(shares)
        else:
            p5 = median = port_w
            short_fraction = 0.0
        energy = min(energy_need_wh, int(Decimal(str(median)) * stay_hours))
        fits = short_fraction <= tolerance
        rows.append(PlanRow(extra, int(p5), int(median), energy, short_fraction, fits))
        if fits:
            best = extra
        elif extra > best + 3:
            break  # well past the point where ports stop fitting
    return CapacityPlan(best, tuple(rows), len(intervals))
