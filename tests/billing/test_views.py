"""Billing pages and API per persona: the owner manages, nobody else sees what is not theirs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.billing import services
from apps.billing.models import SessionCost, Tariff
from tests.conftest import host_of

from .conftest import record_session
from .helpers import at

pytestmark = pytest.mark.urls("tests.billing.urls")
D = Decimal
TARIFF = {"currency": "CAD", "session_fee": "0.50", "energy": [{"price_per_kwh": "0.25"}]}


def api(tenant, user) -> APIClient:
    client = APIClient(HTTP_HOST=host_of(tenant))
    if user is not None:
        previous = connection.tenant
        connection.set_tenant(tenant)
        client.force_login(user)
        connection.set_tenant(previous)
    return client


@pytest.fixture
def billed(personas, alpha_sites, platform_fee, payout_debtor):
    from apps.stations.services import station_register

    site = alpha_sites[0]
    station = station_register(identity="VIEW-1", password=None, site=site)
    tariff = services.tariff_create(
        name="Public", definition=TARIFF, effective_from=at("2026-01-01 00:00")
    )
    services.tariff_assign(tariff=tariff, site=site)
    services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"))
    costs = [
        services.session_bill(
            session_id=record_session(
                station,
                start=at(f"2026-02-0{day} 10:00"),
                end=at(f"2026-02-0{day} 11:00"),
                energy_wh=8_000,
            ).pk
        )
        for day in (2, 3, 4)
    ]
    services.billing_profile_update(
        payout_account_holder="Alpha Inc.",
        payout_account_number="7654321",
        payout_clearing_system="CACPA",
        payout_clearing_member_id="081500001",
    )
    from datetime import date

    payout = services.payout_run(period_start=date(2026, 2, 1), now=at("2026-03-01 09:00"))
    return tariff, costs, payout


@pytest.mark.parametrize(
    "persona,expected",
    [
        ("owner", 200),
        ("delegate", 403),
        ("fleet_manager", 403),
        ("outsider", 403),
        ("other_tenant_user", 302),
    ],
)
def test_billing_pages_per_persona(personas, billed, client_for, alpha, beta, persona, expected):
    tariff, costs, payout = billed
    other = persona == "other_tenant_user"
    client = client_for(getattr(personas, persona), tenant=beta if other else None)
    pages = [
        "/billing/tariffs/",
        f"/billing/tariffs/{tariff.pk}/",
        "/billing/receipts/",
        f"/billing/receipts/{costs[0].pk}/",
        "/billing/payouts/",
        f"/billing/payouts/{payout.pk}/",
    ]
    for page in pages:
        # always alpha's host: beta's owner is signed in on beta only
        assert client.get(page, HTTP_HOST=host_of(alpha)).status_code == expected, page


def test_receipt_page_shows_every_line(personas, billed, client_for):
    _, costs, _ = billed
    page = client_for(personas.owner).get(f"/billing/receipts/{costs[0].pk}/").content.decode()
    assert costs[0].receipt_number in page
    assert "Session fee" in page and "8.000 kWh" in page and "GST 5 %" in page
    assert "2.63 CAD" in page  # 0.50 + 2.00 + 0.125 GST -> 0.13


def test_refund_from_the_receipt_page(personas, billed, client_for):
    _, costs, _ = billed
    client = client_for(personas.owner)
    response = client.post(
        f"/billing/receipts/{costs[1].pk}/refund/", {"amount": "1.00", "reason": "goodwill"}
    )
    assert response.status_code == 302
    page = client.get(f"/billing/receipts/{costs[1].pk}/").content.decode()
    assert "Refunded" in page and "1.00 CAD" in page
    too_much = client.post(
        f"/billing/receipts/{costs[1].pk}/refund/", {"amount": "99.00", "reason": "x"}, follow=True
    )
    assert "at most" in too_much.content.decode()


def test_delegate_cannot_refund(personas, billed, client_for):
    _, costs, _ = billed
    response = client_for(personas.delegate).post(
        f"/billing/receipts/{costs[0].pk}/refund/", {"reason": "x"}
    )
    assert response.status_code == 403  # holds billing.manage nowhere


def test_wizard_proposes_and_the_owner_saves(personas, alpha, client_for):
    client = client_for(personas.owner)
    page = client.post(
        "/billing/tariffs/wizard/",
        {
            "sector": "retail",
            "goal": "turnover",
            "energy_price_per_kwh": "0.11",
            "demand_charge_per_kw_month": "12",
        },
    ).content.decode()
    assert "Demand charge" in page and "Idle fee" in page
    definition = json.dumps(
        {"currency": "CAD", "time": [{"price_per_hour": "2.50"}], "time_step_seconds": 900}
    )
    response = client.post("/billing/tariffs/new/", {"name": "Mall", "definition": definition})
    assert response.status_code == 302
    assert (
        Tariff.objects.get(name="Mall").versions.get().definition["time"][0]["price_per_hour"]
        == "2.50"
    )
    bad = client.post(
        "/billing/tariffs/new/",
        {"name": "Bad", "definition": '{"currency": "CAD", "energy": [{"price_per_kwh": 0.2}]}'},
    )
    assert bad.status_code == 200 and "not 0.2" in bad.content.decode()


def test_payout_downloads(personas, billed, client_for):
    _, _, payout = billed
    client = client_for(personas.owner)
    bank_file = client.get(f"/billing/payouts/{payout.pk}/bank-file/")
    assert (
        bank_file["Content-Type"] == "application/xml"
        and b"<CstmrCdtTrfInitn>" in bank_file.content
    )
    statement = client.get(f"/billing/payouts/{payout.pk}/statement/").content.decode()
    assert (
        "Charging sessions, net of platform fees" in statement and f"{payout.amount:f}" in statement
    )


# --- API ---------------------------------------------------------------------------------------


def test_api_tariffs_versions_and_ocpi(personas, billed, alpha):
    tariff, _, _ = billed
    client = api(alpha, personas.owner)
    listed = client.get("/api/v1/billing/tariffs/")
    assert listed.status_code == 200 and listed.json()["results"][0]["name"] == "Public"
    created = client.post(
        "/api/v1/billing/tariffs/",
        {"name": "Night", "definition": {"currency": "CAD", "energy": [{"price_per_kwh": "0.12"}]}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    version = client.post(
        f"/api/v1/billing/tariffs/{tariff.pk}/versions/", {"definition": TARIFF}, format="json"
    )
    assert version.status_code == 201 and version.json()["number"] == 2
    past = client.post(
        f"/api/v1/billing/tariffs/{tariff.pk}/versions/",
        {"definition": TARIFF, "effective_from": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 400 and past.json()["error"]["code"] == "invalid"
    invalid = client.post(
        "/api/v1/billing/tariffs/",
        {"name": "X", "definition": {"currency": "CAD", "colour": 1}},
        format="json",
    )
    assert invalid.status_code == 400
    ocpi = client.get(f"/api/v1/billing/tariffs/{tariff.pk}/ocpi/").json()
    assert (
        ocpi["currency"] == "CAD" and ocpi["elements"][0]["price_components"][0]["type"] == "FLAT"
    )


def test_api_session_costs_and_refund(personas, billed, alpha):
    _, costs, _ = billed
    client = api(alpha, personas.owner)
    with CaptureQueriesContext(connection) as queries:
        listed = client.get("/api/v1/billing/session-costs/")
    assert listed.status_code == 200 and listed.json()["count"] == 3
    assert len(queries) <= 12  # no query per row
    detail = client.get(f"/api/v1/billing/session-costs/{costs[0].pk}/").json()
    assert [line["kind"] for line in detail["lines"]] == ["session_fee", "energy", "tax"]
    refund = client.post(
        f"/api/v1/billing/session-costs/{costs[0].pk}/refund/",
        {"reason": "fault", "request_key": "r1"},
        format="json",
    )
    assert refund.status_code == 200
    again = client.post(
        f"/api/v1/billing/session-costs/{costs[0].pk}/refund/",
        {"reason": "fault", "request_key": "r1"},
        format="json",
    )
    assert again.status_code == 200  # the same request key: applied once
    more = client.post(
        f"/api/v1/billing/session-costs/{costs[0].pk}/refund/", {"reason": "again"}, format="json"
    )
    assert more.status_code == 400


def test_api_payouts(personas, billed, alpha):
    _, costs, payout = billed
    client = api(alpha, personas.owner)
    body = client.get(f"/api/v1/billing/payouts/{payout.pk}/").json()
    assert D(body["amount"]) == sum(c.total - c.platform_fee for c in costs)
    assert sum(D(line["amount"]) for line in body["lines"]) == D(body["amount"])
    assert client.get(f"/api/v1/billing/payouts/{payout.pk}/bank-file/").status_code == 200
    assert client.post(f"/api/v1/billing/payouts/{payout.pk}/mark-sent/").json()["status"] == "sent"
    assert client.post(f"/api/v1/billing/payouts/{payout.pk}/mark-paid/").json()["status"] == "paid"


def test_api_wizard(personas, alpha):
    client = api(alpha, personas.owner)
    body = client.post(
        "/api/v1/billing/pricing-wizard/",
        {
            "sector": "highway",
            "goal": "margin",
            "energy_price_per_kwh": "0.14",
            "margin_percent": "25",
        },
        format="json",
    ).json()
    assert body["definition"]["energy"] and body["reasoning"] and "CAD/kWh" in body["summary"]


@pytest.mark.parametrize("persona", ["delegate", "fleet_manager", "outsider"])
def test_api_refuses_who_may_not_see_billing(personas, billed, alpha, persona):
    client = api(alpha, getattr(personas, persona))
    for path in (
        "/api/v1/billing/tariffs/",
        "/api/v1/billing/session-costs/",
        "/api/v1/billing/payouts/",
    ):
        assert client.get(path).status_code == 403, path
    assert api(alpha, None).get("/api/v1/billing/tariffs/").status_code in (401, 403)


def test_another_tenants_receipts_are_not_found(personas, billed, alpha, beta):
    _, costs, _ = billed
    client = api(beta, personas.other_tenant_user)
    assert client.get(f"/api/v1/billing/session-costs/{costs[0].pk}/").status_code == 404


def test_stripe_webhook_endpoint(personas, alpha, settings, make_token):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    from apps.billing.choices import DriverAccountKind, PaymentKind, PaymentStatus
    from apps.billing.models import Payment

    account = services.driver_account_create(
        name="Card",
        kind=DriverAccountKind.CARD,
        tokens=[make_token()],
        stripe_payment_method_id="pm_1",
    )
    payment = Payment.objects.create(
        driver_account=account,
        kind=PaymentKind.TOP_UP,
        provider="stripe",
        amount=D("10.00"),
        currency="CAD",
        idempotency_key="top-up:x",
        provider_reference="pi_123",
    )
    event = {
        "id": "evt_9",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_123",
                "status": "succeeded",
                "metadata": {"schema": alpha.schema_name},
            }
        },
    }
    body = json.dumps(event).encode()
    stamp = int(time.time())
    signature = hmac.new(b"whsec_x", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    client = APIClient(HTTP_HOST=host_of(alpha))
    bad = client.post(
        "/billing/stripe/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    assert bad.status_code == 400
    good = client.post(
        "/billing/stripe/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={stamp},v1={signature}",
    )
    assert good.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert SessionCost.objects.count() == 0
