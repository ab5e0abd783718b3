"""The receipt e-mailed to the driver once a session is priced: English or French (the
tenant's language), text and HTML, sent once, retried when the mail server fails."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from apps.billing import services, tasks
from apps.billing.choices import DriverAccountKind
from apps.billing.models import ReceiptEmail
from tests.queued import record_tasks

from .conftest import record_session
from .helpers import at

D = Decimal


@pytest.fixture
def priced_site(site):
    tariff = services.tariff_create(
        name="Public",
        definition={
            "currency": "CAD",
            "session_fee": "1.00",
            "energy": [{"price_per_kwh": "0.25"}],
        },
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"), position=1)
    services.tax_rate_set(site=site, code="QST", name="QST", rate=D("0.09975"), position=2)
    return site


@pytest.fixture
def driver(make_token):
    token = make_token("MAIL-1")
    services.driver_account_create(
        name="Dana Driver",
        email="dana@example.test",
        kind=DriverAccountKind.INVOICE,
        tokens=[token],
    )
    return token


def charge(station, token, energy_wh=12_345, day=2):
    session = record_session(
        station,
        start=at(f"2026-03-{day:02d} 15:00"),
        end=at(f"2026-03-{day:02d} 16:30"),
        energy_wh=energy_wh,
        token=token,
    )
    return session


def test_billing_a_drivers_session_queues_the_email_after_commit(
    priced_site, station, driver, make_token, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    record_tasks(monkeypatch, "billing.email_receipt", lambda pk: queued.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        cost = services.session_bill(session_id=charge(station, driver).pk)
    assert queued == [cost.pk]

    anonymous = make_token("NO-MAIL")
    services.driver_account_create(name="No mail", tokens=[anonymous])
    with django_capture_on_commit_callbacks(execute=True):
        services.session_bill(session_id=charge(station, anonymous, day=3).pk)
        services.session_bill(session_id=charge(station, None, day=4).pk)  # no account at all
    assert queued == [cost.pk]


def test_the_receipt_email_in_english(priced_site, station, driver, alpha):
    cost = services.session_bill(session_id=charge(station, driver).pk)
    assert tasks.email_receipt(cost.pk) is True

    (message,) = mail.outbox
    assert message.to == ["dana@example.test"]
    assert message.subject == f"Your charging receipt {cost.receipt_number} – {alpha.name}"
    body = message.body
    assert f"Receipt {cost.receipt_number}" in body
    assert f"Site: {priced_site.name}" in body
    assert "Energy: 12.345 kWh" in body
    assert "Subtotal: 4.09 CAD" in body  # 1.00 + 12.345 kWh × 0.25 = 3.09
    assert "GST 5 %: 0.20 CAD" in body and "QST 9.975 %: 0.41 CAD" in body
    assert f"Total: {cost.total:.2f} CAD" in body and cost.total == D("4.70")
    assert "Plugged in: March 2, 2026, 3 p.m.\n" in body  # the site's clock, not UTC
    assert "Unplugged: March 2, 2026, 4:30 p.m. (America/Montreal)" in body
    assert "Energy (12.345 kWh × 0.25): 3.09 CAD" in body
    ((html, kind),) = message.alternatives
    assert kind == "text/html" and '<html lang="en">' in html
    assert "<strong>4.70 CAD</strong>" in html and cost.receipt_number in html
    record = ReceiptEmail.objects.get(cost=cost)
    assert record.sent_at is not None and record.language == "en"


def test_the_receipt_email_in_french(priced_site, station, driver, alpha):
    alpha.language = "fr"
    try:
        cost = services.session_bill(session_id=charge(station, driver).pk)
        tasks.email_receipt(cost.pk)
    finally:
        alpha.language = "en"
    (message,) = mail.outbox
    assert message.subject == f"Votre reçu de recharge {cost.receipt_number} – {alpha.name}"
    assert f"Reçu {cost.receipt_number}" in message.body
    assert "Énergie : 12,345 kWh" in message.body
    assert "Sous-total : 4,09 CAD" in message.body
    assert "Total : 4,70 CAD" in message.body
    ((html, _),) = message.alternatives
    assert '<html lang="fr">' in html and "Merci d’avoir rechargé avec" in html


def test_the_receipt_is_sent_once(priced_site, station, driver):
    cost = services.session_bill(session_id=charge(station, driver).pk)
    tasks.email_receipt(cost.pk)
    tasks.email_receipt(cost.pk)
    assert len(mail.outbox) == 1
    assert ReceiptEmail.objects.filter(cost=cost).count() == 1


def test_a_mail_server_failure_is_retried_and_then_sent(priced_site, station, driver, monkeypatch):
    cost = services.session_bill(session_id=charge(station, driver).pk)
    real_send = EmailMultiAlternatives.send

    def down(self, *args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", down)
    from apps.billing.services.receipts import receipt_email_send

    with pytest.raises(ConnectionRefusedError):
        receipt_email_send(session_cost_id=cost.pk)
    assert mail.outbox == [] and not ReceiptEmail.objects.filter(sent_at__isnull=False).exists()
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    receipt_email_send(session_cost_id=cost.pk)
    assert len(mail.outbox) == 1


def test_no_email_without_an_address(priced_site, station, make_token):
    token = make_token("QUIET")
    services.driver_account_create(name="Quiet", tokens=[token])
    cost = services.session_bill(session_id=charge(station, token).pk)
    assert tasks.email_receipt(cost.pk) is False
    assert mail.outbox == []
