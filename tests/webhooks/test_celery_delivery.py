"""The real thing: a Celery worker (tenant-aware, Redis broker) sends a delivery to an HTTP
endpoint that fails twice; Celery retries it after the back-off and the third attempt lands,
signed.  The rows are committed (the worker has its own database connection) and removed after.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.tenants.models import Tenant
from apps.webhooks import services, signing
from apps.webhooks.choices import DeliveryStatus
from apps.webhooks.models import Webhook, WebhookDelivery
from tests.workers import WorkerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        made: list[int] = []
        yield tenant, made
        with tenant_context(tenant):
            Webhook.objects.filter(pk__in=made).delete()
        connection.set_schema_to_public()


@pytest.fixture
def worker(django_db_setup):
    # A worker process on the test database, with the same settings as the test below.
    process = WorkerProcess(
        "webhooks",
        settings={"WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True, "WEBHOOKS_RETRY_BASE_SECONDS": 0.3},
    )
    process.start()
    yield process
    process.stop()


@override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True, WEBHOOKS_RETRY_BASE_SECONDS=0.3)
def test_celery_delivers_with_retries_and_back_off(committed, receiver, worker):
    tenant, made = committed
    receiver.script = [500, 502]
    with tenant_context(tenant):
        from apps.accounts.models import User

        webhook = services.webhook_create(
            name="celery e2e",
            url=receiver.url,
            events=["station.connected"],
            created_by=User.objects.get(email="owner@alpha.test"),
        )
        made.append(webhook.pk)
        with transaction.atomic():  # queued on commit, tagged with alpha's schema
            (delivery,) = services.webhook_dispatch(
                event="station.connected", data={"station": {"identity": "E2E"}}
            )

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
                break
            time.sleep(0.1)
        secret = Webhook.objects.get(pk=webhook.pk).secret
        assert WebhookDelivery.objects.filter(webhook=webhook).count() == 1
    connection.set_schema_to_public()

    assert delivery.status == DeliveryStatus.SUCCEEDED, (
        delivery.status,
        delivery.error,
        worker.log(),
    )
    assert delivery.attempts == 3 and delivery.response_status == 200
    assert [r.headers["X-Chargegrid-Delivery"] for r in receiver.requests] == [
        str(delivery.uuid)
    ] * 3
    for request in receiver.requests:
        assert signing.verify(secret, request.headers["X-Chargegrid-Signature"], request.body)
    # Celery waited the back-off between attempts: 0.3 s, then 4 × 0.3 s
    first, second, third = (r.at for r in receiver.requests)
    assert second - first >= 0.25 and third - second >= 1.1
