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


# --- The ISO 15118-2 sales tariff (optional in K15: the CSMS MAY send one) ---------------------
TARIFF_RESOLUTION_S = 60  # energy rates are read minute by minute (their windows' precision)
TARIFF_HORIZON_S = 24 * 3600  # an SAScheduleTuple covers at most 24 h
TARIFF_ID = 1


@dataclass(frozen=True)
class TariffEntry:
    start_s: int  # seconds after the schedule's start
    level: int  # ePriceLevel: 1 is the cheapest


def price_levels(prices: list[Decimal | None]) -> list[int]:
    """Each price's ePriceLevel: its rank among the distinct prices, cheapest first, from 1.
    No price (no energy rate open) counts as the dearest: the car is never told that an
    unknown price is cheap."""
    known = sorted({price for price in prices if price is not None})
    rank = {price: index + 1 for index, price in enumerate(known)}
    dearest = max(len(known), 1)
    return [rank[price] if price is not None else dearest for price in prices]


def _joined(entries: list[TariffEntry]) -> list[TariffEntry]:
    joined: list[TariffEntry] = []
    for entry in entries:
        if not joined or joined[-1].level != entry.level:
            joined.append(entry)
    return joined


def tariff_entries(entries: list[TariffEntry], *, max_entries: int | None) -> list[TariffEntry]:
    """Neighbours at one level make one entry; then, to fit ``max_entries`` (the car's
    maxScheduleTuples), neighbouring entries merge at the higher of their levels, the closest
    pair first (on a tie the later one): merged, a time is never shown cheaper than it is."""
    fitted = _joined(entries)
    while max_entries is not None and len(fitted) > max(max_entries, 1):
        pair = min(
            range(len(fitted) - 1),
            key=lambda i: (abs(fitted[i].level - fitted[i + 1].level), -i),
        )
        first, second = fitted[pair], fitted[pair + 1]
        fitted[pair : pair + 2] = [TariffEntry(first.start_s, max(first.level, second.level))]
        fitted = _joined(fitted)
    return fitted


def sales_tariff(
    prices: list[tuple[int, Decimal | None]], *, end_s: int, max_entries: int | None
) -> dict | None:
    """The 2.0.1 ``salesTariff`` of a charging schedule.  ``prices``: (seconds after the
    schedule's start, price from then on), the first at 0, ascending; ``end_s``: where the
    tariff ends.  None when there is no price at all (nothing to tell the car)."""
    if not any(price is not None for _start, price in prices):
        return None
    levels = price_levels([price for _start, price in prices])
    entries = tariff_entries(
        [TariffEntry(start, level) for (start, _price), level in zip(prices, levels, strict=True)],
        max_entries=max_entries,
    )
    return {
        "id": TARIFF_ID,
        "numEPriceLevels": max(levels),
        "salesTariffEntry": [
            {
                "relativeTimeInterval": {
                    "start": entry.start_s,
                    "duration": (entries[i + 1].start_s if i + 1 < len(entries) else end_s)
                    - entry.start_s,
                },
                "ePriceLevel": entry.level,
            }
            for i, entry in enumerate(entries)
        ],
    }
