"""People to notify (today a driver's token), their browsers, and every message: one row per
event and channel, which is what makes a message go out once however often it is asked for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Channel, DeliveryStatus


class Contact(models.Model):
    """Someone notifications go to, with their preferences and language.  ``key`` names the
    person in the asker's words: ``token:<uid>`` for a driver (no driver accounts yet)."""

    key = models.CharField(max_length=120, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    email_enabled = models.BooleanField(_("by e-mail"), default=True)
    sms_enabled = models.BooleanField(_("by SMS"), default=True)
    push_enabled = models.BooleanField(_("in the browser"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class PushSubscription(models.Model):
    """A browser's Web Push subscription (what ``PushManager.subscribe()`` returns)."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.contact}: {self.endpoint[:60]}"

    def as_subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class Notification(models.Model):
    """One message on one channel.  Unique per (contact, channel, event_key): asking again for
    the same event finds the row instead of sending again."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=60)
    event_key = models.CharField(max_length=200)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel", "event_key"], name="notification_once_per_event"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.contact} ({self.channel})"
