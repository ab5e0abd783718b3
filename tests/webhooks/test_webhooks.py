"""Webhooks: who gets which event, signed deliveries to a real HTTP endpoint, back-off and
giving up, the claim that prevents double sends, and the API with its delivery log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.core import events
from apps.webhooks import services, signing, tasks
from apps.webhooks.choices import DeliveryStatus
from apps.webhooks.models import WebhookDelivery
from tests.api.conftest import api_client, make_session, make_station, results
from tests.queued import record_tasks


@pytest.fixture
def queued(monkeypatch):
    """Deliveries queued to Celery (by the task's name), recorded instead of sent."""
    ids: list[int] = []
    record_tasks(monkeypatch, "webhooks.deliver", lambda pk: ids.append(pk))
    return ids


@pytest.fixture
def allow_localhost():
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True, WEBHOOKS_RETRY_BASE_SECONDS=10):
        yield


def hook(personas, url="https://example.com/in", events=("station.status_changed",), sites=()):
    return services.webhook_create(
        name="integrator", url=url, events=list(events), created_by=personas.owner, sites=sites
    )


# --- Signing ---------------------------------------------------------------------------------
def test_signature_round_trip_and_refusals():
    body = b'{"event":"ping"}'
    header = signing.signature_header("whsec_x", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert signing.verify("whsec_x", header, body, now=1_700_000_100)
    assert not signing.verify("whsec_x", header, body + b" ", now=1_700_000_100)  # tampered
    assert not signing.verify("whsec_y", header, body, now=1_700_000_100)  # other secret
    assert not signing.verify("whsec_x", header, body, now=1_700_001_000)  # replayed late
    assert not signing.verify("whsec_x", "garbage", body)


# --- Who gets what ---------------------------------------------------------------------------
def test_dispatch_reaches_subscribed_active_webhooks_of_the_site(
    personas, alpha_sites, queued, django_capture_on_commit_callbacks
):
    a1, a2 = alpha_sites
    everywhere = hook(personas)
    only_a1 = hook(personas, sites=[a1])
    hook(personas, events=["session.started"])  # another event
    paused = hook(personas)
    services.webhook_update(webhook=paused, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        sent = services.webhook_dispatch(
            event="station.status_changed", data={"x": 1}, site_id=a2.pk
        )
    assert [d.webhook for d in sent] == [everywhere]
    assert queued == [sent[0].pk]  # queued after commit

    with django_capture_on_commit_callbacks(execute=True):
        sent = services.webhook_dispatch(
            event="station.status_changed", data={"x": 2}, site_id=a1.pk
        )
    assert {d.webhook for d in sent} == {everywhere, only_a1}
    # an event about no site reaches only webhooks not limited to sites
    sent = services.webhook_dispatch(event="station.status_changed", data={})
    assert [d.webhook for d in sent] == [everywhere]
    with pytest.raises(ValueError):
        services.webhook_dispatch(event="station.exploded", data={})


def test_domain_events_become_deliveries(
    personas, alpha_sites, queued, django_capture_on_commit_callbacks
):
    station = make_station(alpha_sites[0], "WH-1")
    hook(personas, events=["station.status_changed", "session.started", "station.connected"])
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(
            events.STATUS_CHANGED,
            station_id=station.pk,
            evse_id=1,
            status="Charging",
            live_state="charging",
        )
    with django_capture_on_commit_callbacks(execute=True):
        session = make_session(station, uid="TAG-9", active=True)
        events.emit(events.SESSION_STARTED, session_id=session.pk, station_id=station.pk, evse_id=1)
        events.emit(events.STATION_CONNECTED, station_id=station.pk)
        events.emit(events.SESSION_ENDED, session_id=session.pk, station_id=station.pk, evse_id=1)

    deliveries = list(WebhookDelivery.objects.order_by("id"))
    # session.ended is not subscribed
    assert [d.event for d in deliveries] == [
        "station.status_changed",
        "session.started",
        "station.connected",
    ]
    status = deliveries[0].payload
    assert status["event"] == "station.status_changed" and status["tenant"] == "alpha"
    assert status["id"] == str(deliveries[0].uuid)
    assert status["data"] == {
        "station": {
            "id": station.pk,
            "identity": "WH-1",
            "name": "WH-1 name",
            "site_id": alpha_sites[0].pk,
        },
        "evse_id": 1,
        "status": "Charging",
        "live_state": "charging",
    }
    started = deliveries[1].payload["data"]
    assert started["transaction_id"] == "tx-WH-1" and started["evse_id"] == 1
    assert started["started_at"] == "2025-03-01T08:00:00Z"
    assert sorted(queued) == [d.pk for d in deliveries]


def test_no_subscription_costs_one_query(personas, alpha_sites, django_assert_num_queries):
    from apps.webhooks import handlers
    from apps.webhooks.models import Webhook

    Webhook.objects.exists()  # the tenant's search_path is set by the first query
    with django_assert_num_queries(1):
        handlers.on_status_changed(
            event="station.status_changed", station_id=1, evse_id=1, status="Faulted"
        )


# --- Sending ---------------------------------------------------------------------------------
def test_a_delivery_is_signed_and_recorded(personas, receiver, allow_localhost, queued):
    webhook = hook(personas, url=receiver.url, events=["ping"])
    delivery = services.webhook_ping(webhook=webhook)
    done = services.webhook_delivery_attempt(delivery_id=delivery.pk)
    assert done.status == DeliveryStatus.SUCCEEDED and done.attempts == 1
    assert done.response_status == 200 and done.response_body == "answered 200"
    assert done.delivered_at is not None and done.next_attempt_at is None

    (request,) = receiver.requests
    assert request.path == "/hooks/cg"
    assert request.headers["X-Chargegrid-Event"] == "ping"
    assert request.headers["X-Chargegrid-Delivery"] == str(delivery.uuid)
    assert request.headers["Content-Type"] == "application/json"
    # what an integrator runs: the signature holds, with the secret they were given
    assert signing.verify(webhook.secret, request.headers["X-Chargegrid-Signature"], request.body)
    assert request.headers["X-Chargegrid-Signature"].startswith(
        "t=" + request.headers["X-Chargegrid-Timestamp"] + ","
    )
    body = json.loads(request.body)
    assert body["event"] == "ping" and body["data"]["webhook_id"] == webhook.pk


def test_failures_back_off_exponentially_then_give_up(personas, receiver, allow_localhost, queued):
    receiver.script = [500] * 10
    webhook = hook(personas, url=receiver.url, events=["ping"])
    delivery = services.webhook_ping(webhook=webhook)
    waits = []
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        before = timezone.now()
        done = services.webhook_delivery_attempt(delivery_id=delivery.pk)
        assert done.attempts == attempt and done.response_status == 500
        if attempt < services.MAX_ATTEMPTS:
            assert done.status == DeliveryStatus.RETRYING
            waits.append(round((done.next_attempt_at - before).total_seconds()))
            # not yet due: a second task (broker redelivery) does nothing
            assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert waits == [10, 40, 160, 640, 2560]
    assert done.status == DeliveryStatus.FAILED and done.next_attempt_at is None
    assert len(receiver.requests) == services.MAX_ATTEMPTS
    assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None


def test_the_task_asks_celery_to_retry_after_the_back_off(
    personas, receiver, allow_localhost, queued, monkeypatch
):
    receiver.script = [503]
    delivery = services.webhook_ping(webhook=hook(personas, url=receiver.url, events=["ping"]))
    retried = {}

    def retry(*, countdown):
        retried["countdown"] = countdown
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.webhook_deliver, "retry", retry)
    with pytest.raises(RuntimeError):
        tasks.webhook_deliver.run(delivery.pk)
    assert 9 <= retried["countdown"] <= 10
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert tasks.webhook_deliver.run(delivery.pk) == DeliveryStatus.SUCCEEDED


def test_private_addresses_are_refused_unless_allowed(personas, receiver, queued):
    delivery = services.webhook_ping(webhook=hook(personas, url=receiver.url, events=["ping"]))
    done = services.webhook_delivery_attempt(delivery_id=delivery.pk)
    assert done.status == DeliveryStatus.RETRYING and "non-public address" in done.error
    assert receiver.requests == []


def test_unreachable_endpoints_are_retried(personas, allow_localhost, queued):
    delivery = services.webhook_ping(
        webhook=hook(personas, url="http://127.0.0.1:9/closed", events=["ping"])
    )
    done = services.webhook_delivery_attempt(delivery_id=delivery.pk)
    assert done.status == DeliveryStatus.RETRYING and done.response_status is None
    assert done.error


def test_lost_tasks_are_requeued(personas, queued, django_capture_on_commit_callbacks):
    webhook = hook(personas, events=["ping"])
    fresh = services.webhook_ping(webhook=webhook)
    overdue = services.webhook_ping(webhook=webhook)
    stuck = services.webhook_ping(webhook=webhook)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=overdue.pk).update(next_attempt_at=long_ago)
    WebhookDelivery.objects.filter(pk=stuck.pk).update(
        status=DeliveryStatus.SENDING, last_attempt_at=long_ago
    )
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_deliveries_requeue() == 2
    assert sorted(queued) == sorted([overdue.pk, stuck.pk]) and fresh.pk not in queued


# --- The API ---------------------------------------------------------------------------------
def test_webhook_api_and_delivery_log(
    personas,
    alpha,
    alpha_sites,
    receiver,
    allow_localhost,
    queued,
    django_capture_on_commit_callbacks,
):
    owner = api_client(alpha, user=personas.owner)
    created = owner.post(
        "/api/v1/webhooks/",
        {
            "name": "BMS",
            "url": receiver.url,
            "events": ["session.started", "session.ended"],
            "sites": [alpha_sites[0].pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    secret, webhook_id = body["secret"], body["id"]
    assert secret.startswith("whsec_") and body["sites"] == [alpha_sites[0].pk]
    assert "secret" not in owner.get(f"/api/v1/webhooks/{webhook_id}/").json()
    assert secret not in str(AuditEntry.objects.get(action="webhook.create").changes)

    bad = owner.post(
        "/api/v1/webhooks/", {"name": "x", "url": "ftp://x", "events": ["nope"]}, format="json"
    )
    assert bad.status_code == 400 and {"url", "events"} <= set(bad.json()["error"]["details"])

    with django_capture_on_commit_callbacks(execute=True):
        ping = owner.post(f"/api/v1/webhooks/{webhook_id}/ping/")
    assert ping.status_code == 202 and ping.json()["status"] == "pending"
    assert queued == [ping.json()["id"]]
    services.webhook_delivery_attempt(delivery_id=ping.json()["id"])
    (request,) = receiver.requests
    assert signing.verify(secret, request.headers["X-Chargegrid-Signature"], request.body)

    log = results(owner.get("/api/v1/webhook-deliveries/", {"webhook_id": webhook_id}))
    assert [(d["event"], d["status"], d["attempts"], d["response_status"]) for d in log] == [
        ("ping", "succeeded", 1, 200)
    ]
    assert results(owner.get("/api/v1/webhook-deliveries/", {"status": "failed"})) == []

    again = owner.post(f"/api/v1/webhook-deliveries/{log[0]['id']}/redeliver/")
    assert again.status_code == 202 and again.json()["payload"] == log[0]["payload"]

    rotated = owner.post(f"/api/v1/webhooks/{webhook_id}/rotate-secret/").json()["secret"]
    assert rotated != secret and rotated.startswith("whsec_")
    changed = owner.patch(f"/api/v1/webhooks/{webhook_id}/", {"is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert (
        results(owner.get("/api/v1/webhooks/", {"event": "session.ended"}))[0]["id"] == webhook_id
    )
    assert owner.delete(f"/api/v1/webhooks/{webhook_id}/").status_code == 204
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "webhook.create",
        "webhook.ping",
        "webhookdelivery.redeliver",
        "webhook.rotate_secret",
        "webhook.update",
        "webhook.delete",
    ]
