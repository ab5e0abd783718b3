"""Greenhouse gas avoided by charging an EV instead of burning fuel (pure: no I/O).

Method (stated on the report and in docs/reports.md):

    distance_km   = energy_kWh / ev_kwh_per_km
    avoided_g     = distance_km × baseline_g_per_km        (the fuel vehicle not driven)
                  − energy_kWh × grid_g_per_kwh            (the electricity's emissions)

``grid_g_per_kwh`` is the site's factor when it has one, else the tenant's.  Results are whole
grams (rounded half up), never negative-clipped: a dirty grid can make the figure negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Defaults: Canadian averages.  A gasoline car: 8.9 L/100 km × 2,310 g CO2e/L ≈ 205.6 g/km;
# an EV: 0.20 kWh/km at the plug; the grid: Canada's national intensity, ~110 g CO2e/kWh.
DEFAULT_BASELINE_G_PER_KM = Decimal("205.6")
DEFAULT_EV_KWH_PER_KM = Decimal("0.20")
DEFAULT_GRID_G_PER_KWH = Decimal("110")


@dataclass(frozen=True)
class Factors:
    baseline_g_per_km: Decimal = DEFAULT_BASELINE_G_PER_KM
    ev_kwh_per_km: Decimal = DEFAULT_EV_KWH_PER_KM
    grid_g_per_kwh: Decimal = DEFAULT_GRID_G_PER_KWH


def avoided_g(energy_wh: int, factors: Factors) -> int:
    """Grams of CO2e avoided by ``energy_wh`` delivered."""
    kwh = Decimal(energy_wh) / 1000
    fuel = kwh / factors.ev_kwh_per_km * factors.baseline_g_per_km
    grid = kwh * factors.grid_g_per_kwh
    return int((fuel - grid).quantize(Decimal(1), rounding=ROUND_HALF_UP))
