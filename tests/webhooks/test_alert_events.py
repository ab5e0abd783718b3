"""Alerts reach webhooks through the core's events (``alert.raised`` / ``alert.cleared``), not
by monitoring calling webhooks: the deliveries are written in the alert's transaction (they
commit or roll back with it) and queued for sending only after the commit."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from apps.core import events
from apps.monitoring import tasks as monitoring_tasks
from apps.monitoring.services import alert_clear, alert_raise
from apps.webhooks import handlers, services, tasks
from apps.webhooks.models import WebhookDelivery
from tests.portal.factories import make_station


@pytest.fixture
def queued(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(tasks.webhook_deliver, "delay", lambda pk: ids.append(pk))
    monkeypatch.setattr(monitoring_tasks.alert_notify, "delay", lambda *args: None)
    return ids


@pytest.fixture
def station(alpha_sites):
    return make_station(alpha_sites[0], "ALERT-WH", statuses=("Available",))


@pytest.fixture
def webhook(personas):
    return services.webhook_create(
        name="ops",
        url="https://example.com/in",
        events=["alert.raised", "alert.cleared"],
        created_by=personas.owner,
    )


def test_raise_and_clear_become_deliveries_through_the_events(
    station, webhook, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        alert = alert_raise(station_id=station.pk, kind="offline", message="gone")
        # written in the alert's transaction, not sent before the commit
        (raised,) = WebhookDelivery.objects.filter(webhook=webhook)
        assert queued == []
    assert callbacks and queued == [raised.pk]
    assert raised.event == "alert.raised"
    data = raised.payload["data"]
    assert data["id"] == alert.pk and data["kind"] == "offline" and data["message"] == "gone"
    assert data["station"] == {
        "id": station.pk,
        "identity": "ALERT-WH",
        "name": station.name,
        "site_id": station.site_id,
    }

    with django_capture_on_commit_callbacks(execute=True):
        assert alert_clear(station_id=station.pk, kind="offline") == 1
    cleared = WebhookDelivery.objects.filter(webhook=webhook).order_by("id").last()
    assert cleared.event == "alert.cleared" and cleared.payload["data"]["cleared_at"]
    assert queued == [raised.pk, cleared.pk]


def test_a_rolled_back_alert_leaves_no_delivery(station, webhook, queued):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        alert_raise(station_id=station.pk, kind="offline")
        assert WebhookDelivery.objects.filter(webhook=webhook).count() == 1
        raise Abort
    assert not WebhookDelivery.objects.exists() and queued == []


def test_without_the_subscription_monitoring_sends_nothing(
    station, webhook, queued, django_capture_on_commit_callbacks
):
    """Monitoring no longer calls webhooks: take webhooks' handler off the event and the alert
    is raised all the same, with no delivery."""
    events.unsubscribe(events.ALERT_RAISED, handlers.on_alert)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert alert_raise(station_id=station.pk, kind="offline") is not None
    finally:
        events.subscribe(events.ALERT_RAISED, handlers.on_alert, in_transaction=True)
    assert not WebhookDelivery.objects.exists()


def test_a_failing_in_transaction_handler_does_not_undo_the_alert(
    station, webhook, queued, django_capture_on_commit_callbacks
):
    def broken(**payload):
        WebhookDelivery.objects.create(
            uuid=uuid.uuid4(), webhook=webhook, event="alert.raised", payload={}
        )
        raise RuntimeError("a feature's bug")

    events.subscribe(events.ALERT_RAISED, broken, in_transaction=True)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            alert = alert_raise(station_id=station.pk, kind="offline")
    finally:
        events.unsubscribe(events.ALERT_RAISED, broken)
    assert alert is not None and alert.pk
    # the broken handler's row was rolled back to its savepoint; webhooks' own stands
    assert [d.payload["data"]["id"] for d in WebhookDelivery.objects.all()] == [alert.pk]
