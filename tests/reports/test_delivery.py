"""Scheduled reports: each subscriber receives the last whole period's report built with their
own scope (the delegate only their site), in their language, once per period, with a working
unsubscribe link; every delivery is recorded."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client

from apps.reports import services
from apps.reports.models import ReportDelivery
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

DECEMBER_FIRST = dt.date(2026, 12, 1)  # the monthly report is November's


def test_periods():
    today = dt.date(2026, 12, 9)  # a Wednesday
    assert services.period_before(frequency="daily", today=today) == (
        dt.date(2026, 12, 8),
        today,
    )
    assert services.period_before(frequency="weekly", today=today) == (
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 7),
    )
    assert services.period_before(frequency="monthly", today=today) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
    )


def test_each_subscriber_gets_their_scope_once(alpha, personas, month):
    a1, a2 = month
    personas.delegate.language = "fr"
    personas.delegate.save()
    delegate = services.subscription_set(user=personas.delegate, frequency="monthly")
    owner = services.subscription_set(user=personas.owner, frequency="monthly")

    assert services.report_deliver(subscription_id=delegate.pk, today=DECEMBER_FIRST)
    assert services.report_deliver(subscription_id=owner.pk, today=DECEMBER_FIRST)
    # A redelivered task, or tomorrow's run: November was sent already.
    assert not services.report_deliver(subscription_id=delegate.pk, today=DECEMBER_FIRST)
    assert not services.report_deliver(
        subscription_id=delegate.pk, today=DECEMBER_FIRST + dt.timedelta(days=1)
    )

    to_delegate, to_owner = mail.outbox
    assert to_delegate.to == [personas.delegate.email]
    assert a1.site.name in to_delegate.body and a2.site.name not in to_delegate.body
    assert "Énergie: 28,625 kWh" in to_delegate.body  # French, French numbers
    assert to_delegate.subject.startswith("Rapport de recharge")
    assert a1.site.name in to_owner.body and a2.site.name in to_owner.body

    recorded = ReportDelivery.objects.get(subscription=delegate)
    assert (recorded.period_start, recorded.period_end, recorded.sites) == (
        dt.date(2026, 11, 1),
        DECEMBER_FIRST,
        1,
    )

    # The unsubscribe link: a GET only asks; the POST stops the e-mails.
    link = re.search(r"https?://[^/]+(/reports/unsubscribe/[^/\s]+/)", to_delegate.body).group(1)
    browser = Client(HTTP_HOST=host_of(alpha))
    assert browser.get(link).status_code == 200
    delegate.refresh_from_db()
    assert delegate.is_active
    assert 'id="unsubscribed"' in browser.post(link).content.decode()
    delegate.refresh_from_db()
    assert not delegate.is_active
    assert not services.report_deliver(subscription_id=delegate.pk, today=dt.date(2027, 1, 1))


def test_subscribing_from_the_report_page(client_for, personas, month):
    response = client_for(personas.delegate).post("/reports/subscribe/", {"frequency": "weekly"})
    assert response.status_code == 302
    assert personas.delegate.report_subscriptions.get().frequency == "weekly"
    assert (
        client_for(personas.outsider)
        .post("/reports/subscribe/", {"frequency": "weekly"})
        .status_code
        == 403
    )
