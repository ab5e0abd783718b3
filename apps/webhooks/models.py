"""Webhook subscriptions and the log of their deliveries (tenant schema)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import DeliveryStatus, WebhookEvent


def validate_events(events: list[str]) -> None:
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown:
        raise ValidationError(
            _("Unknown events: %(events)s"), params={"events": ", ".join(unknown)}
        )
    if not events:
        raise ValidationError(_("Choose at least one event."))


class Webhook(models.Model):
    """An integrator's endpoint.  ``secret`` signs every delivery (HMAC-SHA256); it must be
    kept in clear to sign, and is shown to people only when created or rotated."""

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    events = ArrayField(models.CharField(max_length=40), validators=[validate_events])
    sites = models.ManyToManyField(
        "stations.Site",
        blank=True,
        related_name="+",
        help_text=_("Only events of these sites (none: every site)."),
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one webhook, with every attempt's outcome."""

    uuid = models.UUIDField(unique=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["webhook", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"
