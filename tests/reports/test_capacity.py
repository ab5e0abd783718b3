"""The capacity planner: hand-computed cases of the simulation (docs/reports.md, "Capacity
planner"), then the plan of a real site from its rollups through the API and the portal page
(EN and FR), a delegate refused another site's plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.reports.capacity import Assumptions, Quarter, plan, simulate
from tests.api.conftest import api_client

T0 = dt.datetime(2026, 11, 10, 17, tzinfo=dt.UTC)


def q(index: int, energy_wh: int, occupied: int, started: int = 0) -> Quarter:
    return Quarter(T0 + dt.timedelta(minutes=15 * index), energy_wh, occupied, started)


def assumptions(**overrides) -> Assumptions:
    values = dict(
        limit_w=22000,
        other_load_w=0,
        existing_ports=2,
        port_w=11000,
        min_w=5000,
        tolerance_percent=Decimal("5"),
    )
    return Assumptions(**{**values, **overrides})


# Two ports; a quarter with both busy (11 kW together, two sessions started) and one with one
# busy (6 kW, one started).  Room 22 kW, a session needs 5 kW: 4.4 sessions at most.
TWO_QUARTERS = [q(0, 2750, 1800, 2), q(1, 1500, 900, 1)]


def test_as_it_was():
    option = simulate(TWO_QUARTERS, assumptions(), 0)
    assert option.fits and option.waiting_quarters == 0 and option.busy_quarters == 2
    assert option.peak_demand_w == 11000
    assert option.energy_per_session_wh == 1417  # (2750 + 1500) Wh / 3 sessions
    assert option.wait_minutes_per_session == Decimal("0.0")


def test_two_more_ports_just_fit():
    # ×2: quarter 1 has 4 sessions drawing 5.5 kW each (22 kW: exactly the room), quarter 2
    # has 2 at 6 kW (12 kW).  Nobody waits, nothing is slowed.
    option = simulate(TWO_QUARTERS, assumptions(), 2)
    assert option.fits and option.peak_demand_w == 22000 and option.curtailed_quarters == 0
    assert option.energy_per_session_wh == 1417  # (5500 + 3000) Wh / 6 sessions


def test_three_more_ports_make_someone_wait():
    # ×2.5: quarter 1 has 5 sessions wanting 27.5 kW; 22 kW feeds 4.4 at 5 kW: 0.6 wait.
    option = simulate(TWO_QUARTERS, assumptions(), 3)
    assert not option.fits
    assert option.peak_demand_w == 27500
    assert option.curtailed_quarters == 1 and option.waiting_quarters == 1
    assert option.energy_per_session_wh == 1233  # (22000 + 15000) / 4 Wh / 7.5 sessions
    assert option.wait_minutes_per_session == Decimal("1.2")  # 0.6 × 15 min / 7.5
    assert option.needed_limit_w == 25000  # 5 sessions × 5 kW


def test_the_plan_stops_at_the_first_count_that_does_not_fit():
    result = plan(TWO_QUARTERS, assumptions(wanted_ports=3))
    assert result.ports_that_fit == 2
    assert [o.extra_ports for o in result.options] == [0, 1, 2, 3]
    assert result.needs_upgrade and result.wanted.needed_limit_w == 25000
    assert not plan(TWO_QUARTERS, assumptions(wanted_ports=2)).needs_upgrade


def test_other_loads_take_room_and_the_upgrade_covers_them():
    # 7 kW of other loads leave 15 kW: 3 sessions at 5 kW.  One more port makes quarter 1's
    # two sessions three (fits, just); two more make them four.
    result = plan(TWO_QUARTERS, assumptions(other_load_w=7000, wanted_ports=2))
    assert result.ports_that_fit == 1
    assert result.needs_upgrade
    assert result.wanted.needed_limit_w == 7000 + 4 * 5000


def test_a_panel_too_small_already_needs_an_upgrade():
    result = plan([q(0, 1000, 900, 1)], assumptions(limit_w=4000, existing_ports=1))
    assert result.ports_that_fit == 0 and result.needs_upgrade
    assert result.current.wait_minutes_per_session == Decimal("3.0")  # 0.2 × 15 min / 1


def test_the_tolerance_lets_a_rare_peak_wait():
    # Four ports, 20 busy quarters: 19 with one session at 4 kW, one with four at 4 kW.
    # Room 10 kW, 2 kW minimum: 5 sessions at most.
    history = [q(i, 1000, 900, 1) for i in range(19)] + [q(19, 4000, 3600, 4)]
    strict = plan(
        history,
        assumptions(limit_w=10000, existing_ports=4, min_w=2000, tolerance_percent=Decimal("0")),
    )
    assert strict.ports_that_fit == 1  # the peak quarter: 4 × 5/4 = 5 sessions
    lenient = plan(history, assumptions(limit_w=10000, existing_ports=4, min_w=2000))
    # 5 % of 20 = 1 quarter may wait: the others reach 5 sessions at 1 + n/4 = 5, n = 16.
    assert lenient.ports_that_fit == 16
    assert lenient.options[-1].extra_ports == 17 and not lenient.options[-1].fits
    assert lenient.options[-1].waiting_quarters == 20


def test_new_ports_draw_at_most_their_power():
    # One existing session at 22 kW; a 7 kW port's session adds 7 kW, not 22.
    option = simulate([q(0, 5500, 900, 1)], assumptions(existing_ports=1, limit_w=50000), 1)
    assert option.peak_demand_w == 22000 + 11000
    seven = simulate(
        [q(0, 5500, 900, 1)], assumptions(existing_ports=1, limit_w=50000, port_w=7000), 1
    )
    assert seven.peak_demand_w == 29000


def test_no_history_is_said_not_guessed():
    result = plan([], assumptions())
    assert not result.has_history and result.ports_that_fit == 0 and len(result.options) == 1


# --- A real site, from its rollups -----------------------------------------------------------
# A1 on November 10: one port (7.4 kW), one session 17:00-19:00 local at 4 kW (8 kWh): eight
# busy quarters with one session each (the 19:00 quarter holds only the stop reading).

DAY = {"start": "2026-11-10", "end": "2026-11-11"}
QUESTION = {**DAY, "limit_kw": "8", "min_kw": "2", "port_kw": "7.4"}


@pytest.mark.django_db
def test_the_api_plans_a_site_from_its_quarters(alpha, personas, month):
    a1, _ = month
    client = api_client(alpha, user=personas.owner)
    url = f"/api/v1/reports/sites/{a1.site.pk}/capacity/"
    response = client.get(url, {**QUESTION, "wanted_ports": 4})
    assert response.status_code == 200, response.content
    body = response.json()
    # 8 kW feeds 4 sessions at 2 kW: 3 more ports fit, a 4th makes every busy quarter wait.
    assert body["ports_that_fit"] == 3
    assert body["needs_upgrade"] is True
    assert body["wanted"]["extra_ports"] == 4
    assert body["wanted"]["busy_quarters"] == 8 and body["wanted"]["waiting_quarters"] == 8
    assert body["wanted"]["needed_limit_w"] == 10000  # 5 sessions × 2 kW
    current = body["options"][0]
    assert current["energy_per_session_wh"] == 8000 and current["peak_demand_w"] <= 7400
    assert body["assumptions"]["existing_ports"] == 1 and body["assumptions"]["limit_w"] == 8000
    assert len(body["profile"]) == 96
    busy = [p for p in body["profile"] if p["actual_peak_w"]]
    assert busy[0]["time"] == "17:00"  # the site's local time
    # Default limit: the ports' combined power (7.4 kW).
    default = client.get(url, DAY).json()
    assert default["assumptions"]["limit_w"] == 7400


@pytest.mark.django_db
def test_bad_questions_are_400_with_field_errors(alpha, personas, month):
    a1, _ = month
    client = api_client(alpha, user=personas.owner)
    url = f"/api/v1/reports/sites/{a1.site.pk}/capacity/"
    response = client.get(url, {**DAY, "limit_kw": "-1", "wanted_ports": "x", "min_kw": "0"})
    assert response.status_code == 400
    assert {"limit_kw", "wanted_ports"} <= set(response.json()["error"]["details"])
    zero = client.get(url, {**DAY, "min_kw": "0"})
    assert zero.status_code == 400 and "min_kw" in zero.json()["error"]["details"]


@pytest.mark.django_db
def test_the_portal_page_in_english_and_french(client_for, personas, month):
    a1, a2 = month
    client = client_for(personas.owner)
    page = client.get("/reports/capacity/", {**QUESTION, "site": a1.site.pk, "wanted_ports": 4})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="needs-upgrade"' in html and "10.00 kW" in html
    assert 'data-measure="fit"><h2>More ports that fit</h2><p class="big">3</p>' in html
    assert 'id="capacity-chart"' in html and 'id="assumptions"' in html
    assert html.count('<tr data-extra="') == 5  # 0..3 fit, 4 does not
    fits = client.get("/reports/capacity/", {**QUESTION, "site": a1.site.pk, "wanted_ports": 3})
    assert 'id="fits"' in fits.content.decode()
    client.cookies["django_language"] = "fr"
    french = client.get("/reports/capacity/", {**QUESTION, "site": a1.site.pk, "wanted_ports": 4})
    text = french.content.decode()
    assert "Planificateur de capacité" in text and "Mise à niveau nécessaire" in text


@pytest.mark.django_db
def test_a_delegate_cannot_plan_another_site(client_for, personas, month):
    a1, a2 = month
    client = client_for(personas.delegate)
    page = client.get("/reports/capacity/", {**DAY, "site": a2.site.pk})
    assert "plan" not in page.context or page.context.get("plan") is None
    assert a2.site.name not in page.content.decode()
    mine = client.get("/reports/capacity/", {**DAY, "site": a1.site.pk})
    assert mine.context["plan"].assumptions.existing_ports == 1
