"""The notification service: one message per event and channel, delivered once, retried with
back-off, in the person's language; SMS through a real HTTP provider API and Web Push through
pywebpush to a real (local) push service, decrypted here with the browser's keys."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.db import transaction
from django.utils import timezone
from py_vapid import Vapid01

from apps.core import events
from apps.notifications import services
from apps.notifications.choices import Channel, DeliveryStatus
from apps.notifications.models import Notification, PushSubscription

from .httpd import Recorder, Server

DRIVER = {"key": "token:AB12", "email": "ana@example.org", "phone": "+15145550100"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ask(event_key: str = "waitlist:1:promoted", recipient=None, kind="waitlist.promoted"):
    events.emit(
        events.NOTIFICATION_REQUESTED,
        recipient=recipient or DRIVER,
        kind=kind,
        event_key=event_key,
        context={"group": "Level 2", "port": "P2-01 #1", "until": "10:15"},
    )


@pytest.fixture
def locmem_sms(settings):
    from apps.notifications.sms import LocmemSmsBackend

    settings.NOTIFICATIONS_SMS_BACKEND = "apps.notifications.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    return LocmemSmsBackend.outbox


def test_an_event_asked_twice_makes_one_message_per_channel_sent_once(alpha, locmem_sms):
    with transaction.atomic():
        ask()
        ask()  # the same event again: nothing new
    ask()
    rows = Notification.objects.filter(contact__key=DRIVER["key"])
    assert sorted(rows.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.SMS]
    for row in rows:
        assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.SENT
        # a second delivery (a duplicated task) sends nothing
        assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [DRIVER["email"]]
    assert "P2-01 #1 is held for you until 10:15" in mail.outbox[0].body
    assert len(locmem_sms) == 1 and locmem_sms[0]["to"] == DRIVER["phone"]


def test_the_message_is_in_the_persons_language(alpha, locmem_sms):
    ask(recipient={**DRIVER, "key": "token:FR1", "language": "fr"}, event_key="fr-1")
    row = Notification.objects.get(contact__key="token:FR1", channel=Channel.EMAIL)
    services.notification_deliver(notification_id=row.pk)
    assert mail.outbox[-1].subject == "Un port vous attend à Level 2"


def test_preferences_choose_the_channels(alpha, locmem_sms):
    services.contact_update(key="token:NOSMS", sms_enabled=False)
    ask(recipient={**DRIVER, "key": "token:NOSMS"}, event_key="prefs-1")
    channels = Notification.objects.filter(contact__key="token:NOSMS").values_list(
        "channel", flat=True
    )
    assert list(channels) == [Channel.EMAIL]


def test_sms_provider_failures_are_retried_with_back_off_then_sent(alpha, settings):
    with Server(Recorder(statuses=[503, 201])) as provider:
        settings.NOTIFICATIONS_SMS_BACKEND = "apps.notifications.sms.TwilioSmsBackend"
        settings.NOTIFICATIONS_SMS_API_BASE = provider.url
        settings.NOTIFICATIONS_SMS_ACCOUNT = "AC123"
        settings.NOTIFICATIONS_SMS_TOKEN = "secret"
        settings.NOTIFICATIONS_SMS_FROM = "+15145550000"
        ask(recipient={"key": "token:SMS1", "phone": "+15145550111"}, event_key="sms-1")
        row = Notification.objects.get(contact__key="token:SMS1")
        before = timezone.now()
        assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.PENDING
        row.refresh_from_db()
        assert row.attempts == 1 and "503" in row.last_error
        assert row.next_attempt_at >= before + dt.timedelta(seconds=30)
        # not due yet: a task that comes early sends nothing
        assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.PENDING
        assert len(provider.recorder.requests) == 1
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.SENT
    sent = provider.recorder.requests[-1]
    assert sent.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"AC123:secret").decode()
    form = dict(pair.split("=", 1) for pair in sent.body.decode().split("&"))
    assert form["To"] == "%2B15145550111" and form["From"] == "%2B15145550000"
    row.refresh_from_db()
    assert row.attempts == 2 and row.sent_at is not None


def test_a_message_that_keeps_failing_stops_after_the_last_attempt(alpha, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    with Server(Recorder(statuses=[500])) as provider:
        settings.NOTIFICATIONS_SMS_BACKEND = "apps.notifications.sms.TwilioSmsBackend"
        settings.NOTIFICATIONS_SMS_API_BASE = provider.url
        settings.NOTIFICATIONS_SMS_ACCOUNT, settings.NOTIFICATIONS_SMS_TOKEN = "AC1", "t"
        settings.NOTIFICATIONS_SMS_FROM = "+15145550000"
        ask(recipient={"key": "token:SMS2", "phone": "+15145550112"}, event_key="sms-2")
        row = Notification.objects.get(contact__key="token:SMS2")
        services.notification_deliver(notification_id=row.pk)
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.FAILED
    assert len(provider.recorder.requests) == 2


def test_a_stale_claim_is_not_sent_again(alpha, locmem_sms):
    ask(recipient={"key": "token:STALE", "phone": "+15145550113"}, event_key="stale-1")
    row = Notification.objects.get(contact__key="token:STALE")
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now() - dt.timedelta(hours=1)
    )
    services.notifications_due()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED
    assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.FAILED
    assert locmem_sms == []


def test_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(alpha, settings):
    vapid = Vapid01()
    vapid.generate_keys()
    private_value = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    settings.NOTIFICATIONS_VAPID_PRIVATE_KEY = b64url(private_value)
    settings.NOTIFICATIONS_VAPID_SUBJECT = "mailto:ops@example.org"
    browser_key = ec.generate_private_key(ec.SECP256R1())
    browser_public = browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth_secret = os.urandom(16)
    with Server(Recorder(statuses=[201, 410])) as push_service:
        services.push_subscribe(
            key="token:PUSH",
            endpoint=f"{push_service.url}/push/abc",
            p256dh=b64url(browser_public),
            auth=b64url(auth_secret),
        )
        ask(recipient={"key": "token:PUSH"}, event_key="push-1", kind="valet.move_car")
        row = Notification.objects.get(contact__key="token:PUSH")
        assert row.channel == Channel.PUSH
        assert services.notification_deliver(notification_id=row.pk) == DeliveryStatus.SENT
        ask(recipient={"key": "token:PUSH"}, event_key="push-2", kind="valet.move_car")
        second = Notification.objects.get(contact__key="token:PUSH", event_key="push-2")
        services.notification_deliver(notification_id=second.pk)
    pushed = push_service.recorder.requests[0]
    assert pushed.path == "/push/abc"
    assert pushed.headers["content-encoding"] == "aes128gcm"
    assert pushed.headers["authorization"].startswith("vapid t=")
    clear = http_ece.decrypt(
        pushed.body, private_key=browser_key, auth_secret=auth_secret, version="aes128gcm"
    )
    assert json.loads(clear) == {
        "title": "Please move your car",
        "body": "Your car at P2-01 #1 has finished charging. "
        "Please move it so the next driver can charge.",
    }
    # the push service said the second time that the browser is gone: forgotten
    assert not PushSubscription.objects.filter(contact__key="token:PUSH").exists()
