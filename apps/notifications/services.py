"""Writes: contacts and their preferences, asking for a notification (one row per channel,
once per event), and delivering one (claimed with a conditional update, retried with
back-off, never sent twice)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import channels, conf, queue
from .choices import Channel, DeliveryStatus
from .messages import TEMPLATES, render
from .models import Contact, Notification, PushSubscription

logger = logging.getLogger(__name__)
# A claim older than this whose outcome never came (a worker died mid-send) is not retried:
# the message may have gone out, and sending twice is worse than once too few.
STALE_CLAIM = dt.timedelta(minutes=10)


@transaction.atomic
def contact_update(
    *,
    key: str,
    email: str | None = None,
    phone: str | None = None,
    language: str | None = None,
    email_enabled: bool | None = None,
    sms_enabled: bool | None = None,
    push_enabled: bool | None = None,
) -> Contact:
    """Create or update a contact; None leaves a field as it is."""
    contact, _ = Contact.objects.select_for_update().get_or_create(key=key)
    values = {
        "email": email,
        "phone": phone,
        "language": language,
        "email_enabled": email_enabled,
        "sms_enabled": sms_enabled,
        "push_enabled": push_enabled,
    }
    for name, value in values.items():
        if value is not None:
            setattr(contact, name, value)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def push_subscribe(*, key: str, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    contact = contact_update(key=key)
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"contact": contact, "p256dh": p256dh, "auth": auth}
    )
    subscription.full_clean()
    return subscription


@transaction.atomic
def notification_request(
    *, recipient: dict[str, Any], kind: str, event_key: str, context: dict[str, Any]
) -> list[Notification]:
    """Record the message on every channel that reaches the recipient and queue its delivery
    after commit.  Asked again for the same ``event_key``: nothing new (the existing rows)."""
    if kind not in TEMPLATES:
        raise ValueError(f"Unknown notification kind {kind!r}")
    contact = contact_update(
        key=recipient["key"],
        email=recipient.get("email") or None,
        phone=recipient.get("phone") or None,
        language=recipient.get("language") or None,
    )
    rows = []
    for channel in Channel.values:
        if not channels.reachable(channel, contact):
            continue
        row, created = Notification.objects.get_or_create(
            contact=contact,
            channel=channel,
            event_key=event_key,
            defaults={"kind": kind, "context": context},
        )
        rows.append(row)
        if created:
            queue.deliver(row.pk)
    return rows


def notification_deliver(*, notification_id: int) -> str:
    """Send one message if it is due and nobody else is sending it.  Returns its status after
    this attempt; a failure before the last attempt leaves it pending with a later time."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    notification = Notification.objects.select_related("contact").get(pk=notification_id)
    if not claimed:
        return notification.status
    message = render(notification.kind, notification.context, notification.contact.language)
    try:
        channels.SENDERS[notification.channel](notification.contact, message)
    except Exception as error:  # any provider failure: record it, retry later
        logger.warning("Notification %s failed: %s", notification_id, error)
        if notification.attempts >= conf.max_attempts():
            status, next_at = DeliveryStatus.FAILED, notification.next_attempt_at
        else:
            status = DeliveryStatus.PENDING
            next_at = now + dt.timedelta(seconds=conf.retry_seconds(notification.attempts))
        Notification.objects.filter(pk=notification_id).update(
            status=status, next_attempt_at=next_at, last_error=str(error)[:2000]
        )
        if status == DeliveryStatus.PENDING:
            queue.deliver(notification_id, countdown=conf.retry_seconds(notification.attempts))
        return status
    Notification.objects.filter(pk=notification_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return DeliveryStatus.SENT


def notifications_due() -> list[int]:
    """Pending messages whose time has come (their queued task was lost, or a retry is due),
    and claims gone stale marked failed."""
    now = timezone.now()
    Notification.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=DeliveryStatus.FAILED, last_error="No outcome: not sent again")
    due = Notification.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    ids = list(due.values_list("pk", flat=True)[:500])
    for notification_id in ids:
        queue.deliver(notification_id)
    return ids
