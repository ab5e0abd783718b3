"""Billing writes from the portal, through the services the API calls (issue 13, parity):
tariff assignment with "what applies where", payout preview / run now / bank steps, and the
refund form's inline errors.  The API side of the new payout actions is here too."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.billing import services
from apps.billing.models import Payout, TariffAssignment
from apps.roles.choices import BuiltinRole
from apps.roles.models import Role
from apps.roles.services import role_assign
from tests.factories import UserFactory

from .conftest import record_session
from .helpers import at
from .test_views import TARIFF, api

D = Decimal


@pytest.fixture
def priced(personas, alpha_sites):
    from apps.stations.services import station_register

    a1, a2 = alpha_sites
    stations = [
        station_register(identity="PAR-A1-1", password=None, site=a1),
        station_register(identity="PAR-A1-2", password=None, site=a1),
        station_register(identity="PAR-A2-1", password=None, site=a2),
    ]
    public = services.tariff_create(
        name="Public", definition=TARIFF, effective_from=at("2026-01-01 00:00")
    )
    special = services.tariff_create(
        name="Lobby special",
        definition={**TARIFF, "session_fee": "0.00"},
        effective_from=at("2026-01-01 00:00"),
    )
    return public, special, stations


@pytest.fixture
def a1_billing_admin(alpha_sites):
    """A site admin of A1 only: manages billing there, not on every site."""
    user = UserFactory(email="a1-admin@alpha.test")
    role_assign(
        user=user, role=Role.objects.get(slug=BuiltinRole.SITE_ADMIN), sites=[alpha_sites[0]]
    )
    return user


def test_owner_assigns_and_sees_what_applies_where(personas, alpha_sites, priced, client_for):
    a1, _ = alpha_sites
    public, special, stations = priced
    client = client_for(personas.owner)
    empty = client.get(reverse("billing:assignment_list")).content.decode()
    assert "Free: no tariff applies here." in empty and "PAR-A2-1" in empty

    form = client.get(reverse("billing:assignment_create"), {"tariff": public.pk})
    assert form.status_code == 200 and 'name="valid_until"' in form.content.decode()
    everywhere = client.post(
        reverse("billing:assignment_create"), {"tariff": public.pk, "priority": 100}
    )
    assert everywhere.status_code == 302
    own = client.post(
        reverse("billing:assignment_create"),
        {"tariff": special.pk, "site": a1.pk, "station": stations[0].pk, "priority": 100},
    )
    assert own.status_code == 302
    station_rule = TariffAssignment.objects.get(tariff=special)
    assert (station_rule.site_id, station_rule.station_id) == (a1.pk, stations[0].pk)

    page = client.get(reverse("billing:assignment_list")).content.decode()
    rows = {
        identity: page[page.index(f">{identity}<") :].split("</tr>")[0]
        for identity in ("PAR-A1-1", "PAR-A1-2", "PAR-A2-1")
    }
    assert "Lobby special" in rows["PAR-A1-1"] and "this station" in rows["PAR-A1-1"]
    assert "Public" in rows["PAR-A1-2"] and "all sites" in rows["PAR-A1-2"]
    assert "Public" in rows["PAR-A2-1"]

    removed = client.post(reverse("billing:assignment_delete", args=[station_rule.pk]))
    assert removed.status_code == 302 and not TariffAssignment.objects.filter(tariff=special)


def test_assignment_mistakes_are_shown_next_to_their_fields(
    personas, alpha_sites, priced, client_for
):
    _, a2 = alpha_sites
    public, _, stations = priced
    client = client_for(personas.owner)
    wrong_site = client.post(
        reverse("billing:assignment_create"),
        {"tariff": public.pk, "site": a2.pk, "station": stations[0].pk, "priority": 100},
    )
    assert wrong_site.status_code == 400
    assert "This station is on another site." in wrong_site.content.decode()
    backwards = client.post(
        reverse("billing:assignment_create"),
        {
            "tariff": public.pk,
            "priority": 100,
            "valid_from": "2030-02-01T00:00",
            "valid_until": "2030-01-01T00:00",
        },
    )
    assert backwards.status_code == 400
    assert "The end must come after the start." in backwards.content.decode()
    french = client_for(personas.owner)
    french.cookies["django_language"] = "fr"
    missing = french.post(reverse("billing:assignment_create"), {"priority": "x"})
    assert missing.status_code == 400 and "Ce champ est obligatoire." in missing.content.decode()
    listing = french.get(reverse("billing:assignment_list")).content.decode()
    assert "appliquent les tarifs" in listing and "Gratuit : aucun tarif" in listing
    assert not TariffAssignment.objects.exists()


def test_a_site_admin_prices_only_their_site(
    personas, alpha_sites, priced, client_for, a1_billing_admin
):
    """Tenant-wide tariffs are only for who manages billing everywhere (portal and API)."""
    a1, a2 = alpha_sites
    public, _, stations = priced
    # Tariffs are tenant-wide: a site admin cannot pick one...
    client = client_for(a1_billing_admin)
    response = client.post(
        reverse("billing:assignment_create"), {"tariff": public.pk, "priority": 100}
    )
    assert response.status_code == 400 and not TariffAssignment.objects.exists()
    # ... and the API refuses a tariff for every site from them as well.
    from tests.conftest import _tenant

    response = api(_tenant("alpha"), a1_billing_admin).post(
        "/api/v1/billing/tariff-assignments/", {"tariff": public.pk}, format="json"
    )
    assert response.status_code == 400 and not TariffAssignment.objects.exists()
    services.tariff_assign(tariff=public, site=a2)
    other = TariffAssignment.objects.get()
    assert client.post(reverse("billing:assignment_delete", args=[other.pk])).status_code == 404
    listing = client.get(reverse("billing:assignment_list")).content.decode()
    assert "PAR-A1-1" in listing and "PAR-A2-1" not in listing
    assert TariffAssignment.objects.filter(pk=other.pk).exists()
    assert client_for(personas.outsider).get(reverse("billing:assignment_list")).status_code == 403


@pytest.fixture
def february(personas, alpha_sites, platform_fee, payout_debtor, priced):
    public, _, stations = priced
    services.tariff_assign(tariff=public, site=alpha_sites[0])
    for day in (2, 3):
        services.session_bill(
            session_id=record_session(
                stations[0],
                start=at(f"2026-02-0{day} 10:00"),
                end=at(f"2026-02-0{day} 11:00"),
                energy_wh=8_000,
            ).pk
        )
    services.billing_profile_update(
        payout_account_holder="Alpha Inc.",
        payout_account_number="7654321",
        payout_clearing_system="CACPA",
        payout_clearing_member_id="081500001",
    )


def test_owner_previews_runs_and_settles_a_payout(personas, february, client_for, clock):
    clock(at("2026-03-05 09:00"))
    client = client_for(personas.owner)
    listing = client.get(reverse("billing:payout_list")).content.decode()
    assert 'value="2026-02"' in listing and 'value="2026-03"' not in listing  # ended only

    preview = client.get(reverse("billing:payout_preview"), {"period": "2026-02"})
    page = preview.content.decode()
    assert preview.status_code == 200 and "Charging sessions, net of platform fees" in page
    assert not Payout.objects.exists()  # a preview writes nothing
    open_month = client.get(reverse("billing:payout_preview"), {"period": "2026-03"})
    assert open_month.status_code == 400 and "Select a valid choice" in open_month.content.decode()

    run = client.post(reverse("billing:payout_run"), {"period": "2026-02"})
    payout = Payout.objects.get(period_start=date(2026, 2, 1))
    assert run.status_code == 302 and run.url == reverse("billing:payout_detail", args=[payout.pk])
    assert payout.status == "ready" and payout.amount > 0
    again = client.post(reverse("billing:payout_run"), {"period": "2026-02"})
    assert again.status_code == 302 and Payout.objects.count() == 1  # one payout per month
    detail = client.get(run.url).content.decode()
    assert reverse("billing:payout_mark_sent", args=[payout.pk]) in detail
    assert reverse("billing:payout_statement", args=[payout.pk]) in detail

    assert client.post(reverse("billing:payout_mark_sent", args=[payout.pk])).status_code == 302
    assert client.post(reverse("billing:payout_mark_paid", args=[payout.pk])).status_code == 302
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.paid_at is not None
    twice = client.post(reverse("billing:payout_mark_sent", args=[payout.pk]), follow=True)
    assert "Nothing changed" in twice.content.decode()


def test_payouts_are_for_who_manages_billing_everywhere(
    personas, february, client_for, a1_billing_admin, clock
):
    clock(at("2026-03-05 09:00"))
    for user in (a1_billing_admin, personas.delegate, personas.outsider):
        client = client_for(user)
        assert client.post(reverse("billing:payout_run"), {"period": "2026-02"}).status_code == 403
        preview = client.get(reverse("billing:payout_preview"), {"period": "2026-02"})
        assert preview.status_code == 403
    assert not Payout.objects.exists()


def test_api_previews_and_runs_a_closed_month(personas, february, alpha, clock):
    clock(at("2026-03-05 09:00"))
    client = api(alpha, personas.owner)
    preview = client.post(
        "/api/v1/billing/payouts/preview/", {"period_start": "2026-02-14"}, format="json"
    )
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["period_start"] == "2026-02-01" and body["payout"] is None
    assert sum(D(line["amount"]) for line in body["lines"]) == D(body["amount"]) > 0
    not_ended = client.post(
        "/api/v1/billing/payouts/run/", {"period_start": "2026-03-01"}, format="json"
    )
    assert not_ended.status_code == 400 and "period_start" in not_ended.json()["error"]["details"]
    run = client.post("/api/v1/billing/payouts/run/", {"period_start": "2026-02-01"}, format="json")
    assert run.status_code == 200 and D(run.json()["amount"]) == D(body["amount"])
    again = client.post(
        "/api/v1/billing/payouts/preview/", {"period_start": "2026-02-01"}, format="json"
    )
    assert again.json()["payout"] == run.json()["id"]


def test_a_refund_mistake_stays_on_the_receipt_page(personas, february, client_for):
    from apps.billing.models import SessionCost

    cost = SessionCost.objects.order_by("pk").first()
    client = client_for(personas.owner)
    response = client.post(
        reverse("billing:receipt_refund", args=[cost.pk]), {"amount": "99.00", "reason": "x"}
    )
    page = response.content.decode()
    assert response.status_code == 400 and "at most" in page and cost.receipt_number in page
    no_reason = client.post(reverse("billing:receipt_refund", args=[cost.pk]), {"amount": "1"})
    assert no_reason.status_code == 400 and "This field is required." in no_reason.content.decode()
    assert client.get(reverse("billing:receipt_refund", args=[cost.pk])).status_code == 405


# --- Taxes and the billing settings (portal and API, one service each) ------------------------


def test_owner_sets_taxes_per_site_from_the_portal(personas, alpha_sites, client_for):
    from apps.billing.models import TaxRate

    a1, a2 = alpha_sites
    client = client_for(personas.owner)
    empty = client.get(reverse("billing:tax_list")).content.decode()
    assert "No taxes" in empty
    made = client.post(
        reverse("billing:tax_create"),
        {"site": a1.pk, "code": "GST", "name": "GST", "percent": "5", "position": 0},
    )
    assert made.status_code == 302
    gst = TaxRate.objects.get(site=a1, code="GST")
    assert gst.rate == D("0.05")
    too_high = client.post(
        reverse("billing:tax_create"),
        {"site": a1.pk, "code": "X", "name": "X", "percent": "120", "position": 0},
    )
    assert too_high.status_code == 400 and "120" in too_high.content.decode()
    edited = client.post(
        reverse("billing:tax_edit", args=[gst.pk]),
        {"site": a2.pk, "code": "GST", "name": "TPS/GST", "percent": "5", "position": 1},
    )
    assert edited.status_code == 302
    gst.refresh_from_db()
    assert (gst.site, gst.name, gst.position) == (a1, "TPS/GST", 1)  # the site stays
    listing = client.get(reverse("billing:tax_list")).content.decode()
    assert "TPS/GST" in listing and "5 %" in listing
    assert client.post(reverse("billing:tax_delete", args=[gst.pk])).status_code == 302
    assert not TaxRate.objects.exists()


def test_a_site_admin_taxes_only_their_site(alpha_sites, client_for, a1_billing_admin):
    from apps.billing.models import TaxRate

    a1, a2 = alpha_sites
    other = services.tax_rate_set(site=a2, code="QST", name="QST", rate=D("0.09975"))
    client = client_for(a1_billing_admin)
    refused = client.post(
        reverse("billing:tax_create"),
        {"site": a2.pk, "code": "X", "name": "X", "percent": "5", "position": 0},
    )
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert client.post(reverse("billing:tax_delete", args=[other.pk])).status_code == 404
    assert client.get(reverse("billing:profile_edit")).status_code == 403
    assert TaxRate.objects.filter(site=a2).count() == 1
    listing = client.get(reverse("billing:tax_list")).content.decode()
    assert "QST" not in listing


def test_owner_sets_the_payout_bank_account_and_file_format(personas, client_for, alpha):
    from apps.billing.models import BillingProfile

    client = client_for(personas.owner)
    assert client.get(reverse("billing:profile_edit")).status_code == 200
    fields = {
        "legal_name": "Alpha Parking Inc.",
        "payout_account_holder": "Alpha Parking Inc.",
        "payout_account_number": "7654321",
        "payout_clearing_system": "CACPA",
        "payout_clearing_member_id": "081500001",
        "payout_country": "CA",
        "payout_file_format": "cpa005",
        "ocpi_country_code": "CA",
        "ocpi_party_id": "ALP",
        "cost_update_interval_seconds": "300",
    }
    saved = client.post(reverse("billing:profile_edit"), fields)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    profile = BillingProfile.objects.get()
    assert (profile.payout_account_number, profile.payout_file_format) == ("7654321", "cpa005")
    wrong = client.post(reverse("billing:profile_edit"), {**fields, "payout_file_format": "telex"})
    assert wrong.status_code == 400 and "Select a valid choice" in wrong.content.decode()

    owner = api(alpha, personas.owner)
    body = owner.get("/api/v1/billing/profiles/").json()
    (row,) = body["results"]
    assert row["payout_file_format"] == "cpa005"
    patched = owner.patch(
        f"/api/v1/billing/profiles/{row['id']}/",
        {"payout_file_format": "pain.001.001.09", "payout_iban": ""},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    assert BillingProfile.objects.get().payout_file_format == "pain.001.001.09"


def test_the_api_sets_taxes(personas, alpha, alpha_sites, a1_billing_admin):
    a1, a2 = alpha_sites
    owner = api(alpha, personas.owner)
    made = owner.post(
        "/api/v1/billing/tax-rates/",
        {"site": a1.pk, "code": "GST", "name": "GST", "rate": "0.05"},
        format="json",
    )
    assert made.status_code == 201, made.content
    tax_id = made.json()["id"]
    assert (
        owner.patch(f"/api/v1/billing/tax-rates/{tax_id}/", {"rate": "0.06"}, format="json").json()[
            "rate"
        ]
        == "0.060000"
    )
    assert (
        owner.patch(
            f"/api/v1/billing/tax-rates/{tax_id}/", {"rate": "1.5"}, format="json"
        ).status_code
        == 400
    )
    scoped = api(alpha, a1_billing_admin)
    refused = scoped.post(
        "/api/v1/billing/tax-rates/",
        {"site": a2.pk, "code": "X", "name": "X", "rate": "0.05"},
        format="json",
    )
    assert refused.status_code == 400
    assert scoped.get("/api/v1/billing/profiles/").status_code == 403
    assert owner.delete(f"/api/v1/billing/tax-rates/{tax_id}/").status_code == 204
