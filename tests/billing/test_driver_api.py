"""What drivers see through the API: the price before charging (the same tariff choice that
bills the session afterwards) and the itemised receipt after."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.billing import services
from tests.api.conftest import api_client

from .conftest import record_session
from .helpers import at

D = Decimal
TOU = {
    "currency": "CAD",
    "session_fee": "1.00",
    "energy": [
        {
            "price_per_kwh": "0.30",
            "label": "peak",
            "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "16:00", "end": "21:00"}
            ],
        },
        {"price_per_kwh": "0.20"},
    ],
    "time": [{"price_per_hour": "1.00", "to_minutes": 120}],
    "idle": {"price_per_hour": "12.00", "grace_minutes": 15, "max_amount": "30.00"},
    "min_price": "2.00",
    "max_price": "40.00",
}


@pytest.fixture
def priced(site, station):
    public = services.tariff_create(
        name="Public", definition=TOU, effective_from=at("2026-01-01 00:00")
    )
    services.tariff_assign(tariff=public, site=site)
    services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"), position=1)
    services.tax_rate_set(site=site, code="QST", name="QST", rate=D("0.09975"), position=2)
    return public


@pytest.fixture
def owner_api(alpha, personas):
    return api_client(alpha, user=personas.owner)


def quote_url(station) -> str:
    return f"/api/v1/billing/stations/{station.pk}/price-quote/"


def test_the_quote_describes_every_component_with_the_sites_taxes(priced, station, owner_api):
    response = owner_api.get(quote_url(station))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["station"] == station.pk and body["site"] == station.site_id
    assert body["currency"] == "CAD" and body["free"] is False
    assert body["tariff"]["name"] == "Public" and body["tariff"]["version"] == 1
    assert body["driver_group"] is None and body["token_recognised"] is False
    assert body["summary"] == (
        "1.00 CAD per session; 0.30 CAD/kWh (16:00-21:00 Mon-Fri); 0.20 CAD/kWh; "
        "1.00 CAD/h (first 120 min); idle 12.00 CAD/h after 15 min; min 2.00 CAD; "
        "max 40.00 CAD + GST, QST"
    )
    kinds = [c["kind"] for c in body["components"]]
    assert kinds == ["session_fee", "energy", "energy", "time", "idle", "min_price", "max_price"]
    peak = body["components"][1]
    assert peak["text"] == "0.30 CAD/kWh (16:00-21:00 Mon-Fri)"
    assert peak["details"]["price_per_kwh"] == "0.30"
    assert peak["details"]["label"] == "peak"
    assert peak["details"]["windows"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "16:00", "end": "21:00"}
    ]
    idle = body["components"][4]["details"]
    assert idle["grace_minutes"] == 15 and idle["max_amount"] == "30.00"
    assert body["components"][0]["details"] == {"amount": "1.00"}
    assert body["taxes"] == [
        {"code": "GST", "name": "GST", "rate": "0.050000", "compound": False},
        {"code": "QST", "name": "QST", "rate": "0.099750", "compound": False},
    ]
    assert body["prices_include_tax"] is False


def test_a_drivers_group_tariff_and_a_stations_own_tariff_take_precedence(
    priced, site, station, make_token, owner_api
):
    staff_token, other_token = make_token("STAFF-1"), make_token("VISITOR-1")
    staff = services.driver_group_create(name="Staff", tokens=[staff_token])
    staff_tariff = services.tariff_create(
        name="Staff rate",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.10"}]},
        effective_from=timezone.now() - timedelta(days=1),
    )
    services.tariff_assign(tariff=staff_tariff, site=site, driver_group=staff)
    fast = services.tariff_create(
        name="This charger",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.45"}]},
        effective_from=timezone.now() - timedelta(days=1),
    )
    services.tariff_assign(tariff=fast, station=station)

    body = owner_api.get(quote_url(station), {"id_token": "STAFF-1"}).json()
    assert body["tariff"]["name"] == "Staff rate" and body["driver_group"] == "Staff"
    assert body["token_recognised"] is True and body["id_token"] == "STAFF-1"
    assert body["summary"] == "0.10 CAD/kWh + GST, QST"

    body = owner_api.get(quote_url(station), {"id_token": "VISITOR-1"}).json()
    assert body["tariff"]["name"] == "This charger" and body["driver_group"] is None
    assert other_token.uid == "VISITOR-1" and body["token_recognised"] is True

    body = owner_api.get(quote_url(station), {"id_token": "NOBODY"}).json()
    assert body["tariff"]["name"] == "This charger" and body["token_recognised"] is False


def test_the_quote_is_the_price_the_session_is_billed_with(
    priced, site, station, make_token, owner_api
):
    token = make_token("DRIVER-9")
    cheaper = services.tariff_create(
        name="Residents",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.15"}]},
        effective_from=at("2026-01-01 00:00"),
    )
    residents = services.driver_group_create(name="Residents", tokens=[token])
    services.tariff_assign(tariff=cheaper, driver_group=residents)
    quoted = owner_api.get(quote_url(station), {"id_token": token.uid}).json()
    session = record_session(
        station,
        start=timezone.now() - timedelta(hours=1),
        end=timezone.now(),
        energy_wh=10_000,
        token=token,
    )
    cost = services.session_bill(session_id=session.pk)
    assert cost.tariff_name == quoted["tariff"]["name"] == "Residents"
    assert cost.tariff_version_id is not None


def test_no_tariff_means_free(site, station, owner_api):
    body = owner_api.get(quote_url(station)).json()
    assert body["free"] is True and body["tariff"] is None
    assert body["summary"] == "Free charging" and body["components"] == []


def test_a_future_version_is_not_quoted_yet(priced, station, owner_api):
    services.tariff_version_add(
        tariff=priced,
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.99"}]},
        effective_from=timezone.now() + timedelta(days=3),
    )
    body = owner_api.get(quote_url(station)).json()
    assert body["tariff"]["version"] == 1 and "0.99" not in body["summary"]


def test_the_summary_follows_the_callers_language(priced, station, owner_api, settings):
    owner_api.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    body = owner_api.get(quote_url(station)).json()
    assert body["summary"].startswith("1,00 CAD par session; ")
    assert "stationnement 12,00 CAD/h après 15 min" in body["summary"]
    assert body["components"][0]["details"] == {"amount": "1.00"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"id_token": "X" * 65}, "id_token"),
        ({"evse_id": "first"}, "evse_id"),
        ({"evse_id": "0"}, "evse_id"),
        ({"evse_id": "9"}, "evse_id"),  # the station has no EVSE 9
    ],
)
def test_bad_input_is_a_400_with_field_errors(priced, station, owner_api, query, field):
    response = owner_api.get(quote_url(station), query)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["details"]) == [field]


def test_an_existing_evse_is_accepted(priced, station, owner_api):
    evse = station.evses.first()
    assert owner_api.get(quote_url(station), {"evse_id": evse.evse_id}).status_code == 200


# --- Receipts ------------------------------------------------------------------------------


def test_a_sessions_receipt_is_itemised_with_taxes_times_and_energy(
    priced, site, station, owner_api
):
    session = record_session(
        station,
        start=at("2026-03-02 15:00"),
        end=at("2026-03-02 18:40"),
        charging_until=at("2026-03-02 18:00"),
        energy_wh=21_600,
    )
    url = f"/api/v1/billing/sessions/{session.pk}/receipt/"
    assert owner_api.get(url).status_code == 404  # not priced yet
    cost = services.session_bill(session_id=session.pk)

    response = owner_api.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["receipt_number"] == cost.receipt_number and body["session"] == session.pk
    assert body["currency"] == "CAD" and body["energy_wh"] == 21_600
    assert body["site"] == {"id": site.pk, "name": site.name, "timezone": "America/Montreal"}
    assert body["station"]["identity"] == station.identity
    assert body["started_at"] == "2026-03-02T20:00:00Z"
    assert body["started_at_local"] == "2026-03-02T15:00:00-05:00"
    assert body["ended_at_local"] == "2026-03-02T18:40:00-05:00"
    kinds = [line["kind"] for line in body["lines"]]
    assert "tax" not in kinds and "session_fee" in kinds and "idle" in kinds
    assert [t["code"] for t in body["taxes"]] == ["GST", "QST"]
    subtotal = sum(D(line["amount"]) for line in body["lines"])
    taxes = sum(D(t["amount"]) for t in body["taxes"])
    assert D(body["subtotal"]) == subtotal and D(body["tax_total"]) == taxes
    assert D(body["total"]) == subtotal + taxes == cost.total
    assert "platform_fee" not in body  # the platform's fee is not the driver's business
