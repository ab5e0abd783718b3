"""What the vehicle draws: battery, charge taper and sharing a station's supply.

Currents are amps per phase.  A station offers a current with the control pilot; IEC 61851
cannot signal less than 6 A, so an EVSE offers at least 6 A or nothing.  The vehicle then draws
what its on-board charger and battery accept, never more than offered.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_PILOT_CURRENT_A = 6.0
# Below this the on-board charger ends the charge: the battery counts as full.
CHARGE_END_CURRENT_A = 1.0


@dataclass
class Vehicle:
    battery_kwh: float = 60.0
    soc: float = 30.0  # percent
    max_current_a: float = 32.0  # on-board charger, per phase
    phases: int = 3
    taper_from_soc: float = 80.0  # constant current below, linear taper to 0 at 100 %
    efficiency: float = 0.92  # grid energy that reaches the battery

    def acceptance_a(self) -> float:
        """The current the vehicle would take now, per phase."""
        if self.soc >= 100.0:
            return 0.0
        current = self.max_current_a
        if self.soc > self.taper_from_soc:
            current *= (100.0 - self.soc) / (100.0 - self.taper_from_soc)
        return current if current >= CHARGE_END_CURRENT_A else 0.0

    @property
    def is_full(self) -> bool:
        return self.acceptance_a() == 0.0

    def store(self, energy_wh: float) -> None:
        """Take ``energy_wh`` from the grid into the battery."""
        gained = energy_wh * self.efficiency / (self.battery_kwh * 1000.0) * 100.0
        self.soc = min(100.0, self.soc + gained)


def share(capacity_a: float | None, demands: dict[int, float]) -> dict[int, float]:
    """Split a station's supply among its EVSEs (key: EVSE id, value: amps wanted).

    Equal shares, with what one EVSE does not need going to the others.  When a share would fall
    below the 6 A pilot minimum, the EVSE with the highest id is paused so that the others keep
    charging: a share too small to signal helps nobody.
    """
    result = {evse: 0.0 for evse in demands}
    active = {evse: amps for evse, amps in demands.items() if amps > 0}
    if capacity_a is None:
        result.update(active)
        return result
    while active:
        allocation = _water_fill(capacity_a, active)
        starved = [
            evse
            for evse, amps in allocation.items()
            if amps + 1e-9 < min(MIN_PILOT_CURRENT_A, active[evse])
        ]
        if not starved:
            result.update(allocation)
            return result
        del active[max(starved)]
    return result


def _water_fill(capacity_a: float, demands: dict[int, float]) -> dict[int, float]:
    allocation: dict[int, float] = {}
    remaining = max(0.0, capacity_a)
    ordered = sorted(demands.items(), key=lambda item: item[1])
    for index, (evse, wanted) in enumerate(ordered):
        fair = remaining / (len(ordered) - index)
        allocation[evse] = min(wanted, fair)
        remaining -= allocation[evse]
    return allocation
