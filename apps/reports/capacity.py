"""The capacity planner: how many more ports of a given power a site's panel (or circuit) takes
under power management, simulated on the site's own 15-minute history.  Pure functions.

Each quarter hour of history gives the energy the site's ports delivered and the port-seconds a
session was open on them (``seconds_occupied``).  For ``n`` more ports:

* sessions ``s = seconds_occupied / 900`` (the average number open in the quarter), and the
  new ports are as busy as the existing ones at that moment: ``S = s × (P + n) / P``;
* a session draws what the existing ones drew on average, ``d = 4 × energy / s`` (W), a new
  port at most its own power: demand ``= 4 × energy + (S − s) × min(d, port power)``;
* power management shares the room left on the panel (limit − other loads): the delivered
  power is ``min(room, demand)``; a session needs at least the minimum (6 A) to charge, so
  ``max(0, S − room / minimum)`` sessions wait that quarter;
* the ports fit when no more than ``tolerance`` % of the busy quarters make anyone wait.

Energy per session is the delivered energy over the sessions started (both scaled by
``(P + n) / P``), the wait per session the waiting session-minutes over the same count.
Definitions and a worked example: docs/reports.md ("Capacity planner").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

QUARTER_SECONDS = 900
MAX_EXTRA = 60


@dataclass(frozen=True)
class Quarter:
    """One quarter hour of a site's history (SiteQuarterRollup)."""

    start: datetime
    energy_wh: int
    seconds_occupied: int
    sessions_started: int


@dataclass(frozen=True)
class Assumptions:
    limit_w: int  # the panel or circuit the ports share
    other_load_w: int  # the building's other loads on it, constant
    existing_ports: int
    port_w: int  # the new ports' power
    min_w: int  # the least power a charging session keeps (6 A)
    tolerance_percent: Decimal  # busy quarters allowed to make a session wait
    wanted_ports: int = 0  # the count asked about (0: only how many fit)

    @property
    def room_w(self) -> int:
        return max(0, self.limit_w - self.other_load_w)


@dataclass(frozen=True)
class Option:
    """What ``extra_ports`` more ports would have done over the history."""

    extra_ports: int
    peak_demand_w: int
    energy_per_session_wh: int | None
    wait_minutes_per_session: Decimal | None
    waiting_quarters: int
    busy_quarters: int
    curtailed_quarters: int  # demand above the room: sessions charged slower
    needed_limit_w: int  # the panel that would make this count fit (with the other loads)
    fits: bool


@dataclass(frozen=True)
class ProfilePoint:
    """A local quarter of the day over the history: the highest load as it was, and simulated
    with the ports asked about (or the most that fit)."""

    time: str
    actual_peak_w: int
    simulated_peak_w: int
    simulated_mean_w: int


@dataclass(frozen=True)
class CapacityPlan:
    assumptions: Assumptions
    quarters: int
    ports_that_fit: int
    options: tuple[Option, ...]
    wanted: Option | None
    profile: tuple[ProfilePoint, ...] = field(default=())

    @property
    def needs_upgrade(self) -> bool:
        """The ports asked about do not fit (or even the existing ones do not)."""
        if self.wanted is not None:
            return not self.wanted.fits
        return not self.options[0].fits

    @property
    def has_history(self) -> bool:
        """Whether any quarter of the history had a session open (else nothing to go on)."""
        return bool(self.options[0].busy_quarters)

    @property
    def current(self) -> Option:
        return self.options[0]


def _scaled(quarter: Quarter, existing: int, extra: int, port_w: int) -> tuple[float, float]:
    """(sessions, demand W) in ``quarter`` with ``extra`` more ports."""
    sessions = quarter.seconds_occupied / QUARTER_SECONDS
    drawn = quarter.energy_wh * 4
    if sessions <= 0 or existing <= 0:
        return sessions, float(drawn)
    added = sessions * extra / existing
    return sessions + added, drawn + added * min(drawn / sessions, port_w)


def _percentile(values: list[float], percent: Decimal) -> float:
    """The smallest value at or above ``percent`` % of ``values`` (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(float(percent) / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def simulate(quarters: list[Quarter], a: Assumptions, extra: int) -> Option:
    room = a.room_w
    scale = (a.existing_ports + extra) / a.existing_ports if a.existing_ports else 1.0
    delivered_wh = 0.0
    waiting_sessions = 0.0
    started = 0.0
    peak = 0.0
    busy = waiting = curtailed = 0
    at_minimum = []
    for quarter in quarters:
        sessions, demand = _scaled(quarter, a.existing_ports, extra, a.port_w)
        started += quarter.sessions_started * scale
        peak = max(peak, demand)
        delivered_wh += min(room, demand) / 4
        if demand > room:
            curtailed += 1
        if sessions <= 0:
            continue
        busy += 1
        at_minimum.append(sessions * a.min_w)
        short = sessions - room / a.min_w if a.min_w else 0.0
        if short > 1e-9:
            waiting += 1
            waiting_sessions += short
    allowed = int(Decimal(busy) * a.tolerance_percent / 100)
    needed = _percentile(at_minimum, Decimal(100) - a.tolerance_percent)
    return Option(
        extra_ports=extra,
        peak_demand_w=round(peak),
        energy_per_session_wh=round(delivered_wh / started) if started else None,
        wait_minutes_per_session=(
            Decimal(waiting_sessions * 15 / started).quantize(Decimal("0.1"), ROUND_HALF_UP)
            if started
            else None
        ),
        waiting_quarters=waiting,
        busy_quarters=busy,
        curtailed_quarters=curtailed,
        needed_limit_w=math.ceil(needed) + a.other_load_w,
        fits=waiting <= allowed,
    )


def plan(
    quarters: Iterable[Quarter], a: Assumptions, *, zone: ZoneInfo | None = None, days: int = 0
) -> CapacityPlan:
    """Every count of extra ports from 0 until the first that does not fit (and the count
    asked about), and the simulated daily profile over ``days`` local days (quarters without
    a row are idle ones)."""
    quarters = list(quarters)
    options = []
    fit = 0
    for extra in range(0, MAX_EXTRA + 1):
        option = simulate(quarters, a, extra)
        options.append(option)
        if not option.fits or not option.busy_quarters:
            break  # past the last that fits; or no charging to simulate on
        fit = extra
    if not options[0].fits or not options[0].busy_quarters:
        fit = 0
    wanted = None
    if a.wanted_ports:
        known = [o for o in options if o.extra_ports == a.wanted_ports]
        wanted = known[0] if known else simulate(quarters, a, a.wanted_ports)
    shown = a.wanted_ports or fit
    profile = _profile(quarters, a, shown, zone, days) if zone is not None else ()
    return CapacityPlan(a, len(quarters), fit, tuple(options), wanted, profile)


def _profile(quarters: list[Quarter], a: Assumptions, extra: int, zone: ZoneInfo, days: int):
    room = a.room_w
    by_time: dict[str, list[tuple[float, float]]] = {}
    for quarter in quarters:
        _, demand = _scaled(quarter, a.existing_ports, extra, a.port_w)
        key = quarter.start.astimezone(zone).strftime("%H:%M")
        by_time.setdefault(key, []).append((quarter.energy_wh * 4, min(room, demand)))
    points = []
    for hour in range(24):
        for minute in (0, 15, 30, 45):
            key = f"{hour:02d}:{minute:02d}"
            values = by_time.get(key, [])
            points.append(
                ProfilePoint(
                    time=key,
                    actual_peak_w=round(max((v[0] for v in values), default=0)),
                    simulated_peak_w=round(max((v[1] for v in values), default=0)),
                    simulated_mean_w=round(sum(v[1] for v in values) / max(days, len(values), 1)),
                )
            )
    return tuple(points)
