"""Setting prices: which tariff applies where, and the pricing wizard."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.billing import selectors, services
from apps.billing.choices import PricingGoal, Sector
from apps.billing.engine import Tariff, compute_cost
from apps.billing.wizard import SECTORS, WizardAnswers, propose

from .helpers import at, session

D = Decimal
FLAT = {"currency": "CAD", "session_fee": "1.00"}


def test_station_beats_site_and_assignments_have_validity(site, station, make_token):
    site_wide = services.tariff_create(
        name="Site", definition=FLAT, effective_from=at("2026-01-01 00:00")
    )
    special = services.tariff_create(
        name="Station", definition=FLAT, effective_from=at("2026-01-01 00:00")
    )
    services.tariff_assign(tariff=site_wide, site=site)
    services.tariff_assign(
        tariff=special,
        station=station,
        valid_from=at("2026-03-01 00:00"),
        valid_until=at("2026-04-01 00:00"),
    )
    token = make_token()

    def chosen(when: str) -> str:
        return selectors.tariff_for(station=station, token=token, at=at(when)).version.tariff.name

    assert chosen("2026-02-15 12:00") == "Site"
    assert chosen("2026-03-15 12:00") == "Station"
    assert chosen("2026-04-01 00:00") == "Site"


def test_an_inactive_tariff_or_one_not_yet_in_force_is_skipped(site, station):
    later = services.tariff_create(
        name="Later", definition=FLAT, effective_from=at("2027-01-01 00:00")
    )
    services.tariff_assign(tariff=later, site=site)
    assert (
        selectors.tariff_for(station=station, token=None, at=at("2026-06-01 00:00")).version is None
    )


def test_a_station_assignment_takes_the_stations_site(site, station):
    tariff = services.tariff_create(name="S", definition=FLAT)
    assignment = services.tariff_assign(tariff=tariff, station=station)
    assert assignment.site == site


def test_definitions_are_stored_normalised(alpha):
    tariff = services.tariff_create(
        name="N",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.250", "from_minutes": 0}]},
    )
    assert tariff.versions.get().definition == {
        "currency": "CAD",
        "energy": [{"price_per_kwh": "0.250"}],
    }


# --- Wizard --------------------------------------------------------------------------------


@pytest.mark.parametrize("sector", list(SECTORS))
@pytest.mark.parametrize("goal", PricingGoal.values)
def test_every_sector_and_goal_gets_a_valid_tariff_with_reasons(sector, goal):
    proposal = propose(
        WizardAnswers(
            sector=sector,
            goal=goal,
            currency="CAD",
            energy_price_per_kwh=D("0.11"),
            demand_charge_per_kw_month=D("14.00"),
            platform_fee_percent=D("5"),
        )
    )
    tariff = Tariff.from_dict(proposal.definition)
    assert not tariff.is_free and len(proposal.reasoning) >= 3
    assert proposal.estimates["price_per_kwh"] >= proposal.estimates["cost_per_kwh"]


def test_cost_recovery_covers_the_cost_after_the_platform_fee():
    answers = WizardAnswers(
        sector=Sector.FLEET_DEPOT,
        goal=PricingGoal.RECOVER_COST,
        currency="CAD",
        energy_price_per_kwh=D("0.10"),
        demand_charge_per_kw_month=D("12.00"),
        platform_fee_percent=D("5"),
    )
    proposal = propose(answers)
    price = D(proposal.definition["energy"][0]["price_per_kwh"])
    # 0.10 / 0.93 = 0.1075; demand 12 x 19.2 x 0.9 / 1824 kWh = 0.1137; / 0.95 = 0.2329 -> 0.24
    assert proposal.estimates["cost_per_kwh"] == D("0.2212")
    assert price == D("0.24")
    assert price * (1 - D("0.05")) >= proposal.estimates["cost_per_kwh"]
    assert any("Demand charge" in reason for reason in proposal.reasoning)


def test_turnover_adds_an_idle_fee_that_bites():
    proposal = propose(
        WizardAnswers(
            sector=Sector.WORKPLACE,
            goal=PricingGoal.TURNOVER,
            currency="CAD",
            energy_price_per_kwh=D("0.12"),
        )
    )
    tariff = proposal.tariff
    assert tariff.idle is not None and tariff.time  # idle fee and a dearer rate after 8 h
    quick = compute_cost(tariff, session("2026-03-02 09:00", "2026-03-02 11:00", energy_wh=10_000))
    squatter = compute_cost(
        tariff,
        session(
            "2026-03-02 09:00",
            "2026-03-02 19:00",
            energy_wh=10_000,
            charging_until="2026-03-02 11:00",
        ),
    )
    assert squatter.total > quick.total * 3


def test_wizard_refuses_nonsense():
    with pytest.raises(ValueError):
        propose(
            WizardAnswers(
                sector="moon", goal="margin", currency="CAD", energy_price_per_kwh=D("0.1")
            )
        )
    with pytest.raises(ValueError):
        propose(
            WizardAnswers(
                sector="retail", goal="margin", currency="CAD", energy_price_per_kwh=D("-0.1")
            )
        )
