"""The structured tariff editor: every documented pricing model goes definition → form →
definition unchanged, the portal pages save what the JSON would have saved, bad input is
shown next to its field and saves nothing, and nobody else may change prices."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.billing import services
from apps.billing.choices import PricingGoal, Sector
from apps.billing.engine import Tariff as TariffDefinition
from apps.billing.forms import TariffEditor
from apps.billing.models import Tariff, TariffVersion
from apps.billing.wizard import WizardAnswers, propose
from tests.conftest import host_of

pytestmark = pytest.mark.urls("tests.billing.urls")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
EVERY_DAY = [*WEEKDAYS, "sat", "sun"]

# docs/billing.md, "The pricing models", in their stored (normalised) form.
DOC_TARIFF = {
    "currency": "CAD",
    "session_fee": "1.00",
    "energy": [
        {
            "price_per_kwh": "0.30",
            "label": "peak",
            "windows": [{"days": WEEKDAYS, "start": "16:00", "end": "21:00"}],
        },
        {"price_per_kwh": "0.20"},
    ],
    "time": [
        {"price_per_hour": "1.00", "to_minutes": 120},
        {"price_per_hour": "5.00", "from_minutes": 120},
    ],
    "time_basis": "connected",
    "time_step_seconds": 900,
    "idle": {
        "price_per_hour": "12.00",
        "grace_minutes": 15,
        "step_seconds": 60,
        "max_amount": "30.00",
    },
    "min_price": "2.00",
    "max_price": "40.00",
}
DOCUMENTED = {
    "all at once": DOC_TARIFF,
    "1 per kWh": {"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
    "2 per hour with a step": {
        "currency": "CAD",
        "time": [{"price_per_hour": "2.00"}],
        "time_basis": "connected",
        "time_step_seconds": 900,
    },
    "2 per hour while charging": {
        "currency": "CAD",
        "time": [{"price_per_hour": "2.00"}],
        "time_basis": "charging",
        "time_step_seconds": 60,
    },
    "2 per hour, time of use": {
        "currency": "CAD",
        "time": [
            {
                "price_per_hour": "1.00",
                "windows": [{"days": EVERY_DAY, "start": "00:00", "end": "24:00"}],
            },
        ],
        "time_basis": "connected",
        "time_step_seconds": 60,
    },
    "3 time of use": {
        "currency": "CAD",
        "energy": [
            {
                "price_per_kwh": "0.30",
                "windows": [{"days": WEEKDAYS, "start": "16:00", "end": "21:00"}],
            },
            {"price_per_kwh": "0.20"},
        ],
    },
    "3 past midnight, several windows": {
        "currency": "CAD",
        "energy": [
            {
                "price_per_kwh": "0.12",
                "label": "night",
                "windows": [
                    {"days": ["mon"], "start": "22:00", "end": "06:00"},
                    {"days": ["sat", "sun"], "start": "01:30", "end": "02:30"},
                ],
            },
            {"price_per_kwh": "0.20"},
        ],
    },
    "4 session fee": {"currency": "CAD", "session_fee": "1.50"},
    "5 idle fee": {
        "currency": "CAD",
        "idle": {"price_per_hour": "12.00", "grace_minutes": 15, "step_seconds": 60},
    },
    "5 idle fee with a cap and hours": {
        "currency": "CAD",
        "idle": {
            "price_per_hour": "12.00",
            "grace_minutes": 15,
            "step_seconds": 60,
            "windows": [{"days": EVERY_DAY, "start": "08:00", "end": "20:00"}],
            "max_amount": "30.00",
            "label": "parking",
        },
    },
    "6 tiered duration": {
        "currency": "CAD",
        "time": [
            {"price_per_hour": "1.00", "to_minutes": 120},
            {"price_per_hour": "5.00", "from_minutes": 120},
        ],
        "time_basis": "connected",
        "time_step_seconds": 900,
    },
    "6 tiered energy": {
        "currency": "CAD",
        "energy": [
            {"price_per_kwh": "0", "to_minutes": 30, "label": "first 30 minutes"},
            {"price_per_kwh": "0.25"},
        ],
    },
    "7 minimum": {"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}], "min_price": "2.00"},
    "7 maximum": {
        "currency": "CAD",
        "time": [{"price_per_hour": "5.00"}],
        "time_basis": "connected",
        "time_step_seconds": 60,
        "max_price": "20.00",
    },
    "8 free": {"currency": "CAD"},
}


def proposals() -> list[dict]:
    return [
        propose(
            WizardAnswers(
                sector=sector,
                goal=goal,
                currency="CAD",
                energy_price_per_kwh=Decimal("0.11"),
                demand_charge_per_kw_month=Decimal("12"),
            )
        ).definition
        for sector in Sector.values
        for goal in PricingGoal.values
    ]


def through_the_form(definition: dict, currency: str = "CAD") -> TariffEditor:
    shown = TariffEditor(currency=currency, definition=definition)
    posted = TariffEditor(currency=currency, data=shown.as_data())
    assert posted.is_valid(), (posted.problems, posted.prices.errors)
    return posted


@pytest.mark.parametrize("name", list(DOCUMENTED))
def test_documented_definitions_go_through_the_form_unchanged(name):
    definition = DOCUMENTED[name]
    assert TariffDefinition.from_dict(definition).to_dict() == definition  # stored form
    assert through_the_form(definition).definition == definition
    assert TariffEditor.representable(definition, "CAD") == ""


def test_wizard_proposals_go_through_the_form_unchanged():
    seen = set()
    for proposal in proposals():
        stored = TariffDefinition.from_dict(proposal).to_dict()
        built = through_the_form(proposal).definition
        assert built == stored
        assert TariffDefinition.from_dict(built) == TariffDefinition.from_dict(proposal)
        seen.add(json.dumps(sorted(proposal)))
    assert len(seen) >= 4  # the sectors really differ in shape


def test_another_currency_is_not_for_the_form():
    assert "EUR" in TariffEditor.representable({"currency": "EUR"}, "CAD")


def test_rows_added_without_script_and_problems_land_on_their_row():
    from apps.billing.forms import add_row

    data = TariffEditor(currency="CAD", definition=DOCUMENTED["3 time of use"]).as_data()
    data = add_row(data, "energy")  # a third rate, empty: ignored
    data = add_row(data, "energy-1-windows")  # an empty window under the default: ignored
    assert data["energy-TOTAL_FORMS"] == "3" and data["energy-1-windows-TOTAL_FORMS"] == "1"
    editor = TariffEditor(currency="CAD", data=data)
    assert editor.is_valid() and editor.definition == DOCUMENTED["3 time of use"]

    # The default rate first: the engine refuses, and says so on that row.
    data["energy-0-windows-0-DELETE"] = "on"
    editor = TariffEditor(currency="CAD", data=data)
    assert not editor.is_valid()
    assert "put the default rate last" in str(editor.energy.forms[0].non_field_errors())

    bad = TariffEditor(currency="CAD", definition=DOC_TARIFF).as_data()
    bad |= {"energy-0-windows-0-end": "16:00", "time-0-to_minutes": "0", "min_price": "50.00"}
    bad |= {"session_fee": "1.001", "energy-1-price": "-1"}
    editor = TariffEditor(currency="CAD", data=bad)
    assert not editor.is_valid()
    assert editor.energy.forms[1].errors["price"]
    assert editor.time.forms[0].errors["to_minutes"]
    bad |= {"energy-1-price": "0.20", "time-0-to_minutes": "120"}
    editor = TariffEditor(currency="CAD", data=bad)
    assert not editor.is_valid()
    assert "start and end are equal" in str(editor.energy_windows[0].forms[0].errors["end"])
    assert "min_price is above max_price" in str(editor.prices.errors["min_price"])
    assert "session_fee" in str(editor.prices.errors["session_fee"])
    assert not editor.problems


# -- the portal pages --


def form_post(definition: dict, **header) -> dict:
    data = TariffEditor(currency="CAD", definition=definition).as_data()
    return {**data, "editor": "form", "action": "save", **header}


def test_owner_creates_from_the_form_the_tariff_the_json_would_make(personas, client_for):
    client = client_for(personas.owner)
    page = client.get("/billing/tariffs/new/").content.decode()
    assert "Energy (per kWh)" in page and "CAD" in page and 'value="to_json"' in page
    for name, definition in DOCUMENTED.items():
        response = client.post("/billing/tariffs/new/", form_post(definition, name=f"F {name}"))
        assert response.status_code == 302, response.content.decode()[:2000]
        by_json = services.tariff_create(name=f"J {name}", definition=copy.deepcopy(definition))
        made = Tariff.objects.get(name=f"F {name}").versions.get()
        assert made.definition == by_json.versions.get().definition == definition


def test_owner_edits_prices_prefilled_from_the_latest_version(personas, client_for):
    tariff = services.tariff_create(name="Edit me", definition=DOC_TARIFF)
    client = client_for(personas.owner)
    page = client.get(f"/billing/tariffs/{tariff.pk}/edit/").content.decode()
    assert 'value="12.00"' in page and 'value="16:00"' in page and 'value="peak"' in page
    changed = copy.deepcopy(DOC_TARIFF)
    changed["energy"][1]["price_per_kwh"] = "0.22"
    response = client.post(
        f"/billing/tariffs/{tariff.pk}/edit/", form_post(changed, note="cheaper nights")
    )
    assert response.status_code == 302
    latest = tariff.versions.order_by("-number").first()
    assert (latest.number, latest.definition, latest.note) == (2, changed, "cheaper nights")


def test_a_definition_the_form_cannot_show_stays_in_json(personas, client_for):
    # Stored tariffs are always in the tenant's currency, which the form can show in full;
    # pasted JSON in another currency cannot be shown in the form.
    page = (
        client_for(personas.owner)
        .post(
            "/billing/tariffs/new/",
            {
                "name": "Euro",
                "editor": "json",
                "action": "to_form",
                "definition": '{"currency": "EUR"}',
            },
        )
        .content.decode()
    )
    assert "shown as JSON because" in page and "EUR" in page and 'value="to_form"' in page


def test_add_row_and_switching_editors(personas, client_for):
    client = client_for(personas.owner)
    data = form_post(DOCUMENTED["1 per kWh"], name="Rows", action="add:energy")
    page = client.post("/billing/tariffs/new/", data).content.decode()
    assert 'name="energy-1-price"' in page and "errorlist" not in page
    page = client.post("/billing/tariffs/new/", {**data, "action": "to_json"}).content.decode()
    assert "&quot;price_per_kwh&quot;: &quot;0.25&quot;" in page and 'value="to_form"' in page
    back = client.post(
        "/billing/tariffs/new/",
        {
            "name": "Rows",
            "editor": "json",
            "action": "to_form",
            "definition": json.dumps(DOC_TARIFF),
        },
    ).content.decode()
    assert 'name="energy-0-windows-0-start"' in back and 'value="40.00"' in back
    assert not Tariff.objects.filter(name="Rows").exists()


def test_wizard_edit_and_save_lands_in_the_form(personas, client_for):
    client = client_for(personas.owner)
    page = client.post(
        "/billing/tariffs/wizard/",
        {"sector": "multifamily", "goal": "margin", "energy_price_per_kwh": "0.11"},
    ).content.decode()
    assert 'value="to_form"' in page
    proposal = proposals()[3 * 3 + 2]  # multifamily, margin
    editor = client.post(
        "/billing/tariffs/new/",
        {
            "name": "Night",
            "editor": "json",
            "action": "to_form",
            "definition": json.dumps(proposal),
        },
    ).content.decode()
    assert 'value="night"' in editor and 'value="22:00"' in editor


def test_bad_input_shows_field_errors_and_saves_nothing(personas, client_for):
    client = client_for(personas.owner)
    before = TariffVersion.objects.count()
    data = form_post(DOC_TARIFF, name="")
    data |= {"energy-0-windows-0-start": "25:00", "idle_grace_minutes": "-1", "min_price": "99"}
    page = client.post("/billing/tariffs/new/", data).content.decode()
    assert "A time of day such as 07:30." in page
    assert "This field is required." in page  # the name
    assert "greater than or equal to 0" in page
    data = form_post(DOC_TARIFF, name="Caps") | {"min_price": "99"}
    page = client.post("/billing/tariffs/new/", data).content.decode()
    assert "min_price is above max_price" in page
    assert TariffVersion.objects.count() == before


@pytest.mark.parametrize(
    "persona,expected",
    [("delegate", 403), ("fleet_manager", 403), ("outsider", 403), ("other_tenant_user", 302)],
)
def test_others_cannot_create_or_edit(personas, client_for, alpha, beta, persona, expected):
    tariff = services.tariff_create(name="Mine", definition=DOCUMENTED["1 per kWh"])
    other = persona == "other_tenant_user"
    client = client_for(getattr(personas, persona), tenant=beta if other else None)
    if other:  # signed in on beta, trying alpha's pages
        client.defaults["HTTP_HOST"] = host_of(alpha)
    before = TariffVersion.objects.count()
    for url in ("/billing/tariffs/new/", f"/billing/tariffs/{tariff.pk}/edit/"):
        assert client.get(url).status_code in (expected, 404)
        response = client.post(url, form_post(DOC_TARIFF, name="Theirs", note="x"))
        assert response.status_code in (expected, 404)
    assert TariffVersion.objects.count() == before
    assert not Tariff.objects.filter(name="Theirs").exists()


def test_the_detail_page_links_to_the_editor_for_managers_only(personas, client_for):
    tariff = services.tariff_create(name="Linked", definition=DOCUMENTED["1 per kWh"])
    edit = f"/billing/tariffs/{tariff.pk}/edit/"
    assert edit in client_for(personas.owner).get(f"/billing/tariffs/{tariff.pk}/").content.decode()


# --- A tariff's first prices never reach back in time (docs/billing.md) -----------------------
def test_the_portal_refuses_a_first_version_in_the_past_next_to_its_field(personas, client_for):
    client = client_for(personas.owner)
    before = Tariff.objects.count()
    data = form_post(DOC_TARIFF, name="Backdated", effective_from="2021-01-01 00:00")
    response = client.post("/billing/tariffs/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "A new price cannot take effect in the past." in page
    assert 'value="2021-01-01 00:00"' in page  # what was typed stays in the form
    assert Tariff.objects.count() == before
    # Within the clock tolerance (one minute) is now: accepted.
    recent = (timezone.localtime() - dt.timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M:%S")
    data = form_post(DOC_TARIFF, name="Just now", effective_from=recent)
    assert client.post("/billing/tariffs/new/", data).status_code == 302
    assert Tariff.objects.filter(name="Just now").exists()


def test_the_api_refuses_a_first_version_in_the_past_with_a_field_error(personas, alpha):
    client = APIClient(HTTP_HOST=host_of(alpha))
    client.force_login(personas.owner)
    url = "/api/v1/billing/tariffs/"
    past = timezone.now() - dt.timedelta(days=3 * 365)
    response = client.post(
        url,
        {"name": "Backdated", "definition": DOC_TARIFF, "effective_from": past.isoformat()},
        format="json",
    )
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == {"effective_from": ["A new price cannot take effect in the past."]}
    assert not Tariff.objects.filter(name="Backdated").exists()
    # Two minutes ago is past the one-minute tolerance; thirty seconds ago is not.
    for ago, status in ((dt.timedelta(minutes=2), 400), (dt.timedelta(seconds=30), 201)):
        start = timezone.now() - ago
        response = client.post(
            url,
            {"name": f"ago {ago}", "definition": DOC_TARIFF, "effective_from": start.isoformat()},
            format="json",
        )
        assert response.status_code == status, (ago, response.content[:300])
    # No start means now.
    response = client.post(url, {"name": "Now", "definition": DOC_TARIFF}, format="json")
    assert response.status_code == 201
    version = Tariff.objects.get(name="Now").versions.get()
    assert abs(version.effective_from - timezone.now()) < dt.timedelta(minutes=1)
