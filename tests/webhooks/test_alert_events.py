"""Alerts reach webhooks through the core's events (``alert.raised`` / ``alert.cleared``), not
by monitoring calling webhooks: the deliveries are written in the alert's transaction (they
commit or roll back with it) and queued for sending only after the commit."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.db import transaction
from django.test import override_settings

from apps.core import events
from apps.monitoring.services import alert_clear, alert_raise
from apps.webhooks import handlers, services
from apps.webhooks.models import WebhookDelivery
from tests.portal.factories import make_station
from tests.queued import record_tasks


@pytest.fixture
def queued(monkeypatch):
    ids: list[int] = []
    record_tasks(monkeypatch, "webhooks.deliver", lambda pk: ids.append(pk))
    record_tasks(monkeypatch, "monitoring.alert_notify", lambda *args: None)
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


# --- The real thing: committed alert, a Celery worker, an HTTP endpoint ------------------------
@pytest.mark.slow
@override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True)
def test_a_committed_alert_reaches_the_endpoint_through_celery(
    django_db_setup, django_db_blocker, receiver, monkeypatch
):
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.accounts.models import User
    from apps.core import broadcast
    from apps.monitoring.models import Alert
    from apps.stations.models import Station
    from apps.tenants.models import Tenant
    from apps.webhooks import signing
    from apps.webhooks.choices import DeliveryStatus
    from tests.workers import WorkerProcess

    record_tasks(monkeypatch, "monitoring.alert_notify", lambda *args: None)
    monkeypatch.setattr(broadcast, "group_send", lambda group, message: None)
    worker = WorkerProcess("alert-webhooks", settings={"WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True})
    worker.start()
    try:
        with django_db_blocker.unblock(), tenant_context(Tenant.objects.get(slug="alpha")):
            station = Station.objects.create(identity="E2E-ALERT", name="E2E")
            webhook = services.webhook_create(
                name="alerts e2e",
                url=receiver.url,
                events=["alert.raised"],
                created_by=User.objects.get(email="owner@alpha.test"),
            )
            try:
                alert = alert_raise(station_id=station.pk, kind="offline", message="e2e")
                delivery = WebhookDelivery.objects.get(webhook=webhook)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and delivery.status != DeliveryStatus.SUCCEEDED:
                    time.sleep(0.1)
                    delivery.refresh_from_db()
                assert delivery.status == DeliveryStatus.SUCCEEDED, (delivery.error, worker.log())
                (request,) = receiver.requests
                assert signing.verify(
                    webhook.secret, request.headers["X-Chargegrid-Signature"], request.body
                )
                body = json.loads(request.body)
                assert body["event"] == "alert.raised" and body["data"]["id"] == alert.pk
            finally:
                Alert.objects.filter(station=station).delete()
                webhook.delete()
                station.delete()
        connection.set_schema_to_public()
    finally:
        worker.stop()
