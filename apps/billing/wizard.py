"""The pricing wizard: from a business sector, the utility's prices and a goal to a proposed
tariff, with the reasoning written out so the site admin can judge and edit it.

Pure: the numbers of each sector are typical values (documented here and shown to the admin
in the reasoning); the admin can override the usage estimates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from .choices import PricingGoal, Sector
from .engine import Tariff
from .money import quantum

D = Decimal


@dataclass(frozen=True)
class SectorProfile:
    """Typical use of one port."""

    port_kw: Decimal
    sessions_per_day: Decimal
    kwh_per_session: Decimal
    dwell_hours: Decimal  # how long a car usually stays
    peak_coincidence: Decimal  # share of ports drawing power at the site's monthly peak
    efficiency: Decimal  # energy reaching the car / energy bought from the utility
    structure: str  # the pricing structure that fits the sector


SECTORS: dict[str, SectorProfile] = {
    Sector.WORKPLACE: SectorProfile(
        D("7.2"), D("1.3"), D("14"), D("8"), D("0.8"), D("0.92"), "kwh_then_time"
    ),
    Sector.RETAIL: SectorProfile(D("7.2"), D("4"), D("6"), D("1.5"), D("0.5"), D("0.92"), "time"),
    Sector.HOSPITALITY: SectorProfile(
        D("7.2"), D("1"), D("25"), D("12"), D("0.6"), D("0.92"), "fee_and_kwh"
    ),
    Sector.MULTIFAMILY: SectorProfile(
        D("7.2"), D("1"), D("12"), D("12"), D("0.5"), D("0.92"), "kwh_tou"
    ),
    Sector.MUNICIPAL: SectorProfile(D("7.2"), D("3"), D("8"), D("2"), D("0.5"), D("0.92"), "time"),
    Sector.FLEET_DEPOT: SectorProfile(
        D("19.2"), D("1.5"), D("40"), D("10"), D("0.9"), D("0.93"), "kwh"
    ),
    Sector.HIGHWAY: SectorProfile(
        D("150"), D("8"), D("35"), D("0.5"), D("0.5"), D("0.94"), "kwh_idle"
    ),
}
DAYS_PER_MONTH = D("30.4")


@dataclass(frozen=True)
class WizardAnswers:
    sector: str
    goal: str
    currency: str
    energy_price_per_kwh: Decimal  # what the utility charges per kWh
    demand_charge_per_kw_month: Decimal = D(0)
    margin_percent: Decimal = D(20)  # used when the goal is a margin
    platform_fee_percent: Decimal = D(0)
    sessions_per_day: Decimal | None = None  # overrides the sector's typical values
    kwh_per_session: Decimal | None = None

    def __post_init__(self) -> None:
        # Whole numbers (form and serializer defaults) become exact Decimals; a float would
        # make every price inexact (and ``Decimal * float`` raises), so it is refused.
        for name in NUMBERS:
            value = getattr(self, name)
            if isinstance(value, float):
                raise TypeError(f"{name} must be a Decimal, not a float")
            if isinstance(value, int):
                object.__setattr__(self, name, D(value))


NUMBERS = (
    "energy_price_per_kwh",
    "demand_charge_per_kw_month",
    "margin_percent",
    "platform_fee_percent",
    "sessions_per_day",
    "kwh_per_session",
)


@dataclass(frozen=True)
class Proposal:
    definition: dict[str, Any]
    reasoning: list[str]
    estimates: dict[str, Decimal] = field(default_factory=dict)

    @property
    def tariff(self) -> Tariff:
        return Tariff.from_dict(self.definition)


def _up(value: Decimal, step: Decimal) -> Decimal:
    """Prices are rounded up: recovering the cost must never fall a fraction short."""
    return value.quantize(step, rounding=ROUND_CEILING)


def propose(answers: WizardAnswers) -> Proposal:
    if answers.sector not in SECTORS:
        raise ValueError(f"Unknown sector {answers.sector!r}")
    if answers.goal not in PricingGoal.values:
        raise ValueError(f"Unknown goal {answers.goal!r}")
    if answers.energy_price_per_kwh < 0 or answers.demand_charge_per_kw_month < 0:
        raise ValueError("Utility prices cannot be negative")
    profile = SECTORS[answers.sector]
    cent = quantum(answers.currency)
    c = answers.currency
    sessions = answers.sessions_per_day or profile.sessions_per_day
    kwh = answers.kwh_per_session or profile.kwh_per_session
    reasoning: list[str] = []

    energy_cost = answers.energy_price_per_kwh / profile.efficiency
    reasoning.append(
        f"Energy: {answers.energy_price_per_kwh} {c}/kWh from the utility; about "
        f"{(1 - profile.efficiency) * 100:.0f} % is lost in wiring and the charger, so each kWh "
        f"delivered costs {energy_cost:.4f} {c}."
    )
    monthly_kwh = sessions * kwh * DAYS_PER_MONTH
    demand_cost = D(0)
    if answers.demand_charge_per_kw_month and monthly_kwh:
        peak_kw = profile.port_kw * profile.peak_coincidence
        demand_cost = answers.demand_charge_per_kw_month * peak_kw / monthly_kwh
        reasoning.append(
            f"Demand charge: a {profile.port_kw} kW port adds about {peak_kw:.1f} kW to the "
            f"monthly peak ({profile.peak_coincidence * 100:.0f} % of ports charge at the peak "
            f"in this sector); spread over about {monthly_kwh:.0f} kWh a month "
            f"({sessions} sessions a day of {kwh} kWh) that is {demand_cost:.4f} {c}/kWh. "
            "Power management lowers the peak, and this cost with it."
        )
    cost = energy_cost + demand_cost
    fee = answers.platform_fee_percent / 100
    price = cost / (1 - fee) if fee < 1 else cost
    # No price of the proposal may fall below this: what reaches the owner covers the cost.
    floor = _up(price, D("0.01"))
    if fee:
        reasoning.append(
            f"The platform keeps {answers.platform_fee_percent} % of each price before tax, so "
            f"the price must be {price:.4f} {c}/kWh for {cost:.4f} {c} to reach you."
        )
    if answers.goal == PricingGoal.MARGIN:
        price *= 1 + answers.margin_percent / 100
        reasoning.append(f"Goal, a margin: {answers.margin_percent} % on top of the cost.")
    elif answers.goal == PricingGoal.TURNOVER:
        price *= D("1.10")
        reasoning.append(
            "Goal, turnover: the energy price is 10 % above cost and the fees below make "
            "staying after charging expensive, so spaces free up."
        )
    else:
        reasoning.append("Goal, cost recovery: the price covers what the energy costs you.")
    per_kwh = _up(price, D("0.01"))
    per_hour = _up(per_kwh * profile.port_kw * profile.efficiency, cent)
    estimates = {
        "energy_cost_per_kwh": energy_cost.quantize(D("0.0001")),
        "demand_cost_per_kwh": demand_cost.quantize(D("0.0001")),
        "cost_per_kwh": cost.quantize(D("0.0001")),
        "price_per_kwh": per_kwh,
        "monthly_kwh_per_port": monthly_kwh.quantize(D("1")),
    }

    definition: dict[str, Any] = {"currency": c}
    turnover = answers.goal == PricingGoal.TURNOVER
    structure = profile.structure
    if structure == "time":
        definition["time"] = [{"price_per_hour": str(per_hour)}]
        definition["time_step_seconds"] = 900
        reasoning.append(
            f"Price per hour ({per_hour} {c}/h, per started 15 minutes): in this sector people "
            f"stay about {profile.dwell_hours} h and a time price is simple to read; at "
            f"{profile.port_kw} kW an hour delivers about {profile.port_kw * profile.efficiency:.1f} kWh, "
            "so it matches the energy price."
        )
    else:
        definition["energy"] = [{"price_per_kwh": str(per_kwh)}]
        reasoning.append(f"Price per kWh ({per_kwh} {c}/kWh): drivers pay for what they take.")
    if structure == "kwh_tou":
        discounted = _up(per_kwh * D("0.8"), D("0.01"))
        off_peak = max(discounted, floor)
        definition["energy"] = [
            {
                "price_per_kwh": str(off_peak),
                "label": "night",
                "windows": [{"start": "22:00", "end": "07:00"}],
            },
            {"price_per_kwh": str(per_kwh)},
        ]
        reasoning.append(
            f"Nights (22:00-07:00) at {off_peak} {c}/kWh: residents charge overnight when the "
            "grid is cheaper and lightly loaded; check your utility's time-of-use hours."
        )
        if discounted < floor:
            reasoning.append(
                f"20 % off at night ({discounted} {c}/kWh) would not cover the cost of "
                f"{cost:.4f} {c}/kWh, so the night price stops at {off_peak} {c}/kWh."
            )
    if structure == "fee_and_kwh":
        definition["session_fee"] = str(_up(D(2), cent))
        reasoning.append(
            f"A {definition['session_fee']} {c} session fee covers the guest's overnight use "
            "of the space."
        )
    if structure == "kwh_then_time" or (turnover and structure not in ("time", "kwh_idle")):
        limit = int(max(profile.dwell_hours, D(1)) * 60) if structure == "kwh_then_time" else 240
        late = _up(per_hour * 2, cent)
        definition["time"] = [{"price_per_hour": str(late), "from_minutes": limit}]
        definition["time_step_seconds"] = 900
        reasoning.append(
            f"After {limit // 60} h plugged in, {late} {c}/h (per started 15 minutes): the "
            "incentive to move the car so a colleague can charge."
        )
    if structure in ("kwh_idle", "time") or turnover:
        grace = 5 if structure == "kwh_idle" else 15
        idle_price = _up(per_hour * (D("0.2") if structure == "kwh_idle" else D(1)), cent)
        definition["idle"] = {
            "price_per_hour": str(idle_price),
            "grace_minutes": grace,
            "step_seconds": 60,
        }
        reasoning.append(
            f"Idle fee {idle_price} {c}/h once charging is over, after {grace} minutes of grace: "
            "the car should leave when it is full."
        )
    if structure in ("time", "kwh_idle"):
        definition["min_price"] = str(_up(D(1), cent))
        reasoning.append(
            f"Minimum {definition['min_price']} {c} per session: a short top-up still covers "
            "the payment costs."
        )
    Tariff.from_dict(definition)  # the proposal is always a valid tariff
    return Proposal(definition=definition, reasoning=reasoning, estimates=estimates)
