"""Driver accounts: sign-up with e-mail verification, sign-in, cards and their verification,
one's own sessions and receipts, preferences, deletion; abuse limits."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.utils import timezone

from apps.billing import services as billing
from apps.charging.models import ChargingSession
from apps.charging.services import session_start, session_stop
from apps.drivers import selectors, services
from apps.drivers.cards import card_code
from apps.drivers.choices import CardStatus
from apps.drivers.models import Driver, DriverCard
from apps.notifications.models import Contact, Notification
from tests.conftest import host_of

PASSWORD = "a long driver password"


def signed_in(alpha, driver) -> Client:
    client = Client(HTTP_HOST=host_of(alpha))
    response = client.post("/drivers/sign-in/", {"email": driver.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def charge(station, uid: str, *, at: dt.datetime, wh: int = 12_000) -> ChargingSession:
    """A session with this card, its events delivered (as after a commit)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        session, _ = session_start(
            station_id=station.pk, evse_id=1, id_token=uid, meter_start_wh=0, started_at=at
        )
    session_stop(
        station_id=station.pk,
        transaction_id=session.transaction_id,
        meter_stop_wh=wh,
        ended_at=at + dt.timedelta(hours=1),
        reason="Local",
    )
    return ChargingSession.objects.get(pk=session.pk)


def test_sign_up_sends_a_verification_link_that_confirms_the_address(
    alpha, django_capture_on_commit_callbacks
):
    client = Client(HTTP_HOST=host_of(alpha))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/drivers/sign-up/",
            {
                "email": "New.Driver@Example.com",
                "password": PASSWORD,
                "full_name": "Nadia",
                "language": "fr",
            },
        )
    assert response.status_code == 302 and response["Location"] == "/drivers/account/"
    assert response.cookies["django_language"].value == "fr"
    driver = Driver.objects.get(email="new.driver@example.com")
    assert not driver.is_verified and driver.check_password(PASSWORD)
    message = Notification.objects.get(contact__key=driver.contact_key, channel="email")
    assert message.kind == "drivers.verify_email"
    link = message.context["link"]
    path = re.sub(r"^https?://[^/]+", "", link)
    assert client.get(path).status_code == 302
    driver.refresh_from_db()
    assert driver.is_verified
    assert client.get("/drivers/verify/not-a-token/").status_code == 400


def test_an_address_signs_up_once_and_sign_ups_are_limited_per_client(alpha):
    client = Client(HTTP_HOST=host_of(alpha))
    for n in range(5):
        response = client.post(
            "/drivers/sign-up/",
            {"email": f"x{n}@example.com", "password": PASSWORD, "language": "en"},
        )
        assert response.status_code == 302
    sixth = client.post(
        "/drivers/sign-up/", {"email": "x6@example.com", "password": PASSWORD, "language": "en"}
    )
    assert sixth.status_code == 200 and not Driver.objects.filter(email="x6@example.com").exists()
    with pytest.raises(services.DriverError):
        services.driver_sign_up(email="X0@example.com", password=PASSWORD, verify_url="/TOKEN")


def test_sign_in_refuses_a_wrong_password_and_is_limited(alpha, driver):
    client = Client(HTTP_HOST=host_of(alpha))
    for _ in range(10):
        response = client.post("/drivers/sign-in/", {"email": driver.email, "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/drivers/sign-in/", {"email": driver.email, "password": PASSWORD})
    assert locked.status_code == 200 and b"Too many attempts" in locked.content
    assert client.get("/drivers/account/").status_code == 302  # still signed out


def test_a_driver_session_is_not_a_portal_session(alpha, driver):
    client = signed_in(alpha, driver)
    assert client.get("/drivers/account/").status_code == 200
    assert client.get("/dashboard/").status_code == 302  # the portal still asks to sign in
    assert client.get("/api/v1/sites/").status_code in (401, 403)


def test_a_card_is_verified_by_the_code_printed_on_it(alpha, driver, card):
    linked = services.card_link(driver=driver, uid=card.uid.lower())
    assert linked.status == CardStatus.PENDING
    with pytest.raises(services.DriverError):
        services.card_verify_code(card=linked, code="AAAA-AAAA")
    code = card_code(schema_name=connection.schema_name, uid=card.uid)
    verified = services.card_verify_code(card=linked, code=code.lower().replace("-", " "))
    assert verified.status == CardStatus.VERIFIED and verified.verified_by == "code"
    # the card's notifications now follow the driver's preferences
    assert Contact.objects.get(key=f"token:{card.uid}").email == driver.email


def test_wrong_codes_are_limited(alpha, driver, card):
    linked = services.card_link(driver=driver, uid=card.uid)
    for _ in range(services.MAX_CODE_ATTEMPTS):
        with pytest.raises(services.DriverError, match="not the code"):
            services.card_verify_code(card=linked, code="AAAA-AAAA")
    code = card_code(schema_name=connection.schema_name, uid=card.uid)
    with pytest.raises(services.DriverError, match="Too many"):
        services.card_verify_code(card=linked, code=code)


def test_a_card_is_verified_by_a_tap_soon_after_linking(alpha, driver, other_driver, card, net):
    linked = services.card_link(driver=driver, uid=card.uid)
    charge(net.near, card.uid, at=timezone.now())  # the session.started event: the tap
    linked.refresh_from_db()
    assert linked.status == CardStatus.VERIFIED and linked.verified_by == "tap"
    # linked to someone: another driver cannot take it
    with pytest.raises(services.DriverError):
        services.card_link(driver=other_driver, uid=card.uid)


def test_a_tap_does_not_verify_when_two_drivers_wait_for_the_same_card(
    alpha, driver, other_driver, card
):
    services.card_link(driver=driver, uid=card.uid)
    services.card_link(driver=other_driver, uid=card.uid)
    assert services.cards_verify_by_tap(uid=card.uid) is None
    late = timezone.now() + services.TAP_WINDOW + dt.timedelta(minutes=1)
    DriverCard.objects.filter(driver=other_driver).delete()
    assert services.cards_verify_by_tap(uid=card.uid, at=late) is None  # too late


def test_a_driver_sees_only_their_verified_cards_sessions_since_linking(alpha, driver, card, net):
    earlier = charge(net.near, card.uid, at=timezone.now() - dt.timedelta(days=3))
    linked = services.card_link(driver=driver, uid=card.uid)
    assert list(selectors.driver_sessions(driver)) == []  # not verified yet
    services.card_verify_code(
        card=linked, code=card_code(schema_name=connection.schema_name, uid=card.uid)
    )
    mine = charge(net.near, card.uid, at=timezone.now() + dt.timedelta(seconds=1))
    assert list(selectors.driver_sessions(driver)) == [mine]
    assert earlier not in selectors.driver_sessions(driver)


def test_receipts_and_spend_come_from_billing(alpha, driver, card, net):
    tariff = billing.tariff_create(
        name="Public",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
        effective_from=timezone.now() - dt.timedelta(days=30),
    )
    billing.tariff_assign(tariff=tariff, site=net.near.site)
    linked = services.card_link(driver=driver, uid=card.uid)
    services.card_verify_code(
        card=linked, code=card_code(schema_name=connection.schema_name, uid=card.uid)
    )
    session = charge(net.near, card.uid, at=timezone.now() + dt.timedelta(seconds=1), wh=12_000)
    billing.session_bill(session_id=session.pk)
    totals = selectors.driver_totals(driver)
    assert totals["energy_wh"] == 12_000 and totals["sessions"] == 1
    receipt = selectors.receipts_for([session.pk])[session.pk]
    assert receipt["currency"] == "CAD" and Decimal(receipt["total"]) > 0
    assert totals["spend"] == {"CAD": Decimal(receipt["total"])}
    client = signed_in(alpha, driver)
    page = client.get(f"/drivers/account/sessions/{session.pk}/").content.decode()
    assert receipt["receipt_number"] in page
    pdf = client.get(f"/drivers/account/sessions/{session.pk}/receipt.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    assert receipt["receipt_number"].encode() in pdf.content
    assert f"{receipt['total']} CAD".encode() in pdf.content
    # the xref table points at each object
    xref = int(pdf.content.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf.content[xref:].startswith(b"xref")
    # nobody else's
    stranger = services.driver_sign_up(
        email="s@example.com", password=PASSWORD, verify_url="/TOKEN"
    )
    assert (
        signed_in(alpha, stranger)
        .get(f"/drivers/account/sessions/{session.pk}/receipt.pdf")
        .status_code
        == 404
    )


def test_preferences_reach_the_notification_service(alpha, driver, card):
    client = signed_in(alpha, driver)
    response = client.post(
        "/drivers/account/preferences/",
        {
            "full_name": "D",
            "language": "fr",
            "phone": "+15145550000",
            "notify_email": "",
            "notify_sms": "on",
            "notify_push": "on",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(key=driver.contact_key)
    assert (contact.language, contact.email_enabled, contact.sms_enabled) == ("fr", False, True)


def test_deleting_the_account_keeps_the_sessions_and_receipts(alpha, driver, card, net):
    linked = services.card_link(driver=driver, uid=card.uid)
    services.card_verify_code(
        card=linked, code=card_code(schema_name=connection.schema_name, uid=card.uid)
    )
    session = charge(net.near, card.uid, at=timezone.now() + dt.timedelta(seconds=1))
    client = signed_in(alpha, driver)
    assert client.post("/drivers/account/delete/", {"password": "wrong"}).status_code == 200
    assert client.post("/drivers/account/delete/", {"password": PASSWORD}).status_code == 302
    assert not Driver.objects.filter(pk=driver.pk).exists()
    assert not DriverCard.objects.filter(token=card).exists()
    assert ChargingSession.objects.filter(pk=session.pk).exists()
    assert Contact.objects.get(key=f"token:{card.uid}").email == ""
    assert client.get("/drivers/account/").status_code == 302


def test_the_verification_message_is_written_in_the_drivers_language():
    from apps.notifications.messages import render

    message = render("drivers.verify_email", {"link": "https://x/v/1/", "network": "Alpha"}, "fr")
    assert message.subject == "Confirmez votre adresse courriel pour Alpha"
    assert "https://x/v/1/" in message.body
