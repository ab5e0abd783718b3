"""What an ISO 15118 vehicle says it needs (OCPP 2.0.1 K15-K17), as allocation inputs.

Pure functions.  The vehicle's charging needs (energy to deliver, departure time, its AC or
DC limits) become a session's preferences, which the allocation already weighs
(``apps.power.allocation``, not changed for this): its minimum and maximum current, and its
priority.  Priority is urgency, from how much of the EVSE's power the car needs on average
to get its energy before it leaves:

    needed share = energy_wh / hours left / max power of its EVSE
    share >= 0.8 (or departure passed): 3    >= 0.5: 2    >= 0.25: 1    else 0

so a car that must leave soon is served before one with time to spare, and a car without a
departure time keeps the priority its charging rule gave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

URGENCY = ((Decimal("0.8"), 3), (Decimal("0.5"), 2), (Decimal("0.25"), 1))


@dataclass(frozen=True)
class Needs:
    energy_wh: int | None
    departure_at: datetime | None
    min_current_a: Decimal | None
    max_current_a: Decimal | None


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parse_needs(needs: dict, *, volts: int, phases: int, departure_at: datetime | None) -> Needs:
    """A NotifyEVChargingNeeds ``chargingNeeds`` (snake_case keys, as the adapter gets them).
    DC limits are the vehicle's power: turned into amps per phase at the EVSE's voltage."""
    ac = needs.get("ac_charging_parameters") or {}
    dc = needs.get("dc_charging_parameters") or {}
    energy = ac.get("energy_amount", dc.get("energy_amount"))
    low = _decimal(ac.get("ev_min_current"))
    high = _decimal(ac.get("ev_max_current"))
    if not ac and dc.get("ev_max_power") is not None:
        high = (Decimal(str(dc["ev_max_power"])) / (volts * phases)).quantize(
            Decimal("0.1"), ROUND_DOWN
        )
    return Needs(
        energy_wh=int(energy) if energy is not None else None,
        departure_at=departure_at,
        min_current_a=low,
        max_current_a=high,
    )


def schedule_periods_allowed(max_schedule_tuples: int | None) -> int | None:
    """How many periods the vehicle's schedules may have (NotifyEVChargingNeeds'
    ``maxScheduleTuples``: the elements its ISO 15118 stack takes per SAScheduleTuple, for the
    power limits and for a sales tariff alike).  Absent: no limit stated.  The schema allows 0;
    a schedule cannot have fewer than one period, so 0 is read as 1."""
    if max_schedule_tuples is None:
        return None
    return max(int(max_schedule_tuples), 1)


def urgency(
    *, energy_wh: int | None, departure_at: datetime | None, now: datetime, max_w: int
) -> int:
    if not energy_wh or departure_at is None or max_w <= 0:
        return 0
    seconds = (departure_at - now).total_seconds()
    if seconds <= 0:
        return URGENCY[0][1]
    share = Decimal(energy_wh) * 3600 / Decimal(seconds) / max_w
    for threshold, priority in URGENCY:
        if share >= threshold:
            return priority
    return 0


def schedule_peak_a(schedule: dict, *, volts: int, phases: int) -> Decimal | None:
    """The highest limit of an EV's chosen schedule (NotifyEVChargingSchedule), in amps per
    phase."""
    unit = schedule.get("charging_rate_unit", "A")
    limits = [Decimal(str(p["limit"])) for p in schedule.get("charging_schedule_period") or []]
    if not limits:
        return None
    peak = max(limits)
    return peak if unit == "A" else peak / (volts * phases)
