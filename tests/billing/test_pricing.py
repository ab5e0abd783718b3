"""Setting prices: which tariff applies where, and the pricing wizard."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.billing import selectors, services
from apps.billing.choices import PricingGoal, Sector
from apps.billing.engine import Tariff, compute_cost
from apps.billing.wizard import SECTORS, WizardAnswers, propose
from tests.api.conftest import api_client

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


def test_multifamily_cost_recovery_never_prices_nights_below_the_cost():
    # The night rate was 20 % off the day rate, whatever the cost: 0.08 x 0.8 = 0.08/kWh
    # while each kWh delivered costs 0.08 / 0.92 = 0.087.
    proposal = propose(
        WizardAnswers(
            sector=Sector.MULTIFAMILY,
            goal=PricingGoal.RECOVER_COST,
            currency="CAD",
            energy_price_per_kwh=D("0.08"),
        )
    )
    assert proposal.estimates["cost_per_kwh"] == D("0.0870")
    night, day = proposal.definition["energy"]
    assert night["label"] == "night"
    assert D(night["price_per_kwh"]) == D(day["price_per_kwh"]) == D("0.09")
    assert any("would not cover the cost" in reason for reason in proposal.reasoning)


def test_a_margin_leaves_room_for_the_night_discount():
    proposal = propose(
        WizardAnswers(
            sector=Sector.MULTIFAMILY,
            goal=PricingGoal.MARGIN,
            currency="CAD",
            energy_price_per_kwh=D("0.08"),
            margin_percent=D("50"),
        )
    )
    night, day = (D(rate["price_per_kwh"]) for rate in proposal.definition["energy"])
    assert (day, night) == (D("0.14"), D("0.12"))  # 0.087 x 1.5 = 0.1305 -> 0.14; x 0.8


@settings(max_examples=300, deadline=None)
@given(
    sector=st.sampled_from(list(SECTORS)),
    goal=st.sampled_from(PricingGoal.values),
    energy=st.decimals(min_value=0, max_value=2, places=4),
    demand=st.decimals(min_value=0, max_value=40, places=2),
    fee=st.decimals(min_value=0, max_value=30, places=1),
    margin=st.decimals(min_value=0, max_value=100, places=1),
)
def test_no_proposed_price_is_below_the_cost_it_computed(sector, goal, energy, demand, fee, margin):
    proposal = propose(
        WizardAnswers(
            sector=sector,
            goal=goal,
            currency="CAD",
            energy_price_per_kwh=energy,
            demand_charge_per_kw_month=demand,
            platform_fee_percent=fee,
            margin_percent=margin,
        )
    )
    cost = proposal.estimates["cost_per_kwh"]  # rounded to 0.0001 in the estimates
    kept = 1 - fee / 100  # what reaches the owner after the platform's share
    profile = SECTORS[sector]
    for rate in proposal.definition.get("energy", []):
        price = D(rate["price_per_kwh"])
        assert price >= cost, (rate, cost)
        assert price * kept >= cost - D("0.00005"), (rate, cost, fee)
    for rate in proposal.definition.get("time", []):
        # An hour at the port's power delivers port_kw x efficiency kWh.
        delivered = profile.port_kw * profile.efficiency
        assert D(rate["price_per_hour"]) * kept >= (cost - D("0.00005")) * delivered, rate
    assert proposal.estimates["price_per_kwh"] >= cost


def test_the_wizard_takes_whole_numbers_and_refuses_floats():
    common = {"sector": "retail", "goal": "margin", "currency": "CAD"}
    answers = WizardAnswers(energy_price_per_kwh=D("0.30"), margin_percent=20, **common)
    assert answers.margin_percent == D(20) and isinstance(answers.margin_percent, Decimal)
    with pytest.raises(TypeError):
        WizardAnswers(energy_price_per_kwh=D("0.30"), margin_percent=20.0, **common)


def test_api_wizard_with_the_default_margin_answers(personas, alpha):
    # The serializer's default margin (20) was an int: Decimal *= float answered 500.
    client = api_client(alpha, user=personas.owner)
    response = client.post(
        "/api/v1/billing/pricing-wizard/",
        {"sector": "retail", "goal": "margin", "energy_price_per_kwh": "0.30"},
        format="json",
    )
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert any("20" in reason and "margin" in reason for reason in body["reasoning"])
    # 0.30 / 0.92 = 0.3261 x 1.2 = 0.3913 -> 0.40/kWh; 7.2 kW x 0.92 = 6.624 kWh/h -> 2.65/h
    assert body["estimates"]["price_per_kwh"] == "0.4000"
    assert body["definition"]["time"] == [{"price_per_hour": "2.65"}]
