"""Writes on webhooks: subscriptions, dispatching events, and attempting deliveries.

A delivery is attempted by the Celery task ``webhooks.deliver``; an attempt first *claims* the
delivery with a conditional update that must touch exactly one row, so a task that runs twice
(broker redelivery, the sweeper re-queueing a lost task) never sends twice at once.  Failures are
retried with exponential back-off: 10 s, 40 s, 160 s, ~11 min, ~43 min (then given up).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.stations.models import Site

from . import queue, signing, transport
from .choices import DeliveryStatus, WebhookEvent
from .models import Webhook, WebhookDelivery

MAX_ATTEMPTS = 6
# A delivery stuck in "sending" this long was lost with its worker: it may be claimed again.
SENDING_LEASE = dt.timedelta(minutes=5)


def retry_delay(attempt: int) -> dt.timedelta:
    """Wait after the ``attempt``-th failure (1-based): base × 4^(attempt-1)."""
    base = float(getattr(settings, "WEBHOOKS_RETRY_BASE_SECONDS", 10))
    return dt.timedelta(seconds=base * 4 ** (attempt - 1))


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- Subscriptions ---------------------------------------------------------------------------
@transaction.atomic
def webhook_create(
    *,
    name: str,
    url: str,
    events: list[str],
    created_by,
    sites: Iterable[Site] = (),
    is_active: bool = True,
) -> Webhook:
    webhook = Webhook(
        name=name,
        url=url,
        events=sorted(set(events)),
        secret=_new_secret(),
        created_by=created_by,
        is_active=is_active,
    )
    webhook.full_clean()
    webhook.save()
    webhook.sites.set(list(sites))
    return webhook


@transaction.atomic
def webhook_update(*, webhook: Webhook, sites: Iterable[Site] | None = None, **fields) -> Webhook:
    allowed = {"name", "url", "events", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)}")
    if "events" in fields:
        fields["events"] = sorted(set(fields["events"]))
    for name, value in fields.items():
        setattr(webhook, name, value)
    webhook.full_clean()
    webhook.save()
    if sites is not None:
        webhook.sites.set(list(sites))
    return webhook


@transaction.atomic
def webhook_rotate_secret(*, webhook: Webhook) -> str:
    webhook.secret = _new_secret()
    webhook.save(update_fields=["secret"])
    return webhook.secret


@transaction.atomic
def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


# --- Dispatching -----------------------------------------------------------------------------
def webhook_subscribed(event: str) -> bool:
    """Cheap check before building an event's data: does any active webhook want it?"""
    return Webhook.objects.filter(is_active=True, events__contains=[event]).exists()


def _queue(deliveries: list[WebhookDelivery]) -> None:
    queue.webhook_deliver([delivery.pk for delivery in deliveries])


@transaction.atomic
def webhook_dispatch(
    *,
    event: str,
    data: dict[str, Any],
    site_id: int | None = None,
    webhooks: Iterable[Webhook] | None = None,
) -> list[WebhookDelivery]:
    """Create one delivery of ``event`` per subscribed webhook and queue them after commit.

    ``site_id`` is the site the event is about: webhooks limited to other sites skip it (an
    event about no site reaches only webhooks that are not limited to sites).
    """
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    if webhooks is None:
        matching = Webhook.objects.filter(is_active=True, events__contains=[event])
        if site_id is None:
            matching = matching.filter(sites__isnull=True)
        else:
            matching = matching.filter(Q(sites__isnull=True) | Q(sites=site_id)).distinct()
        webhooks = list(matching)
    now = timezone.now()
    tenant = getattr(connection, "tenant", None)
    deliveries = []
    for webhook in webhooks:
        delivery_id = uuid.uuid4()
        payload = {
            "id": str(delivery_id),
            "event": event,
            "created_at": now.isoformat(),
            "tenant": getattr(tenant, "slug", None),
            "data": data,
        }
        deliveries.append(
            WebhookDelivery(
                uuid=delivery_id,
                webhook=webhook,
                event=event,
                # stored as it will be sent: JSON-safe (Decimal, datetimes) once, here
                payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                next_attempt_at=now,
            )
        )
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries)
        _queue(deliveries)
    return deliveries


def webhook_ping(*, webhook: Webhook) -> WebhookDelivery:
    """Send a ``ping`` event to one webhook now (whatever events it subscribes to)."""
    data = {"webhook_id": webhook.pk, "message": "chargegrid webhook test"}
    return webhook_dispatch(event=WebhookEvent.PING, data=data, webhooks=[webhook])[0]


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's payload again as a new delivery (same event id: receivers dedupe)."""
    copy = WebhookDelivery.objects.create(
        uuid=uuid.uuid4(),
        webhook=delivery.webhook,
        event=delivery.event,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
    )
    _queue([copy])
    return copy


# --- Attempting ------------------------------------------------------------------------------
def _claim(delivery_id: int, now: dt.datetime) -> bool:
    waiting = Q(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING], next_attempt_at__lte=now
    )
    lost = Q(status=DeliveryStatus.SENDING, last_attempt_at__lt=now - SENDING_LEASE)
    claimed = WebhookDelivery.objects.filter(waiting | lost, pk=delivery_id).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
    )
    return claimed == 1


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Try to send one delivery.  Returns it with its new status (``retrying`` with
    ``next_attempt_at`` when it should be tried again), or None if it was not ours to send."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "chargegrid-webhooks/1",
        signing.EVENT_HEADER: delivery.event,
        signing.DELIVERY_HEADER: str(delivery.uuid),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature_header(webhook.secret, timestamp, body),
    }
    started = time.monotonic()
    answer, error = None, ""
    if not webhook.is_active:
        error = "The webhook was disabled."
    else:
        try:
            answer = transport.post(webhook.url, body, headers)
        except transport.DeliveryError as failure:
            error = str(failure)[:500]
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.response_status = answer.status if answer else None
    delivery.response_body = answer.body if answer else ""
    delivery.error = error
    if answer is not None and 200 <= answer.status < 300:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts < MAX_ATTEMPTS and webhook.is_active:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
    else:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    delivery.save(
        update_fields=[
            "status",
            "next_attempt_at",
            "response_status",
            "response_body",
            "error",
            "duration_ms",
            "delivered_at",
        ]
    )
    return delivery


def webhook_deliveries_requeue() -> int:
    """Queue again the deliveries whose task was lost (overdue, or stuck while sending)."""
    now = timezone.now()
    overdue = Q(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
        next_attempt_at__lt=now - dt.timedelta(minutes=1),
    )
    lost = Q(status=DeliveryStatus.SENDING, last_attempt_at__lt=now - SENDING_LEASE)
    deliveries = list(WebhookDelivery.objects.filter(overdue | lost).only("pk")[:1000])
    if deliveries:
        _queue(deliveries)
    return len(deliveries)
