"""Support cases: who asked (a driver by e-mail, or a station manager in the portal), about
what (the station, session and receipt attached), the conversation, who answers (the tenant's
staff or the platform's support team) and the SLA clocks.

A case belongs to the site of its station; a case about no station (a question about one's
account) belongs to the whole tenant and is seen only by people who hold support on every site.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from . import sla
from .choices import (
    AuthorKind,
    CaseCategory,
    CasePriority,
    CaseStatus,
    Queue,
    RequesterKind,
    Source,
)

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def _default_days() -> list[int]:
    return [0, 1, 2, 3, 4]


class SupportSettings(models.Model):
    """The tenant's support team: business hours (station managers' clocks), SLA targets and
    where news of cases goes when nobody is assigned.  One row per tenant (``singleton``)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    business_opens = models.TimeField(_("business hours open at"), default=dt.time(5, 0))
    business_closes = models.TimeField(_("business hours close at"), default=dt.time(18, 0))
    business_timezone = models.CharField(
        _("business hours time zone"), max_length=64, default="America/Los_Angeles"
    )
    business_days = models.JSONField(_("business days"), default=_default_days)
    first_response_minutes = models.PositiveIntegerField(
        _("first answer within (minutes, normal priority)"),
        default=240,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)],
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (minutes, normal priority)"),
        default=60 * 24 * 3,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)],
    )
    team_email = models.EmailField(
        _("team e-mail"),
        blank=True,
        help_text=_("New cases, and answers on cases nobody is assigned to, are sent here."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["id"]
        verbose_name = _("support settings")
        verbose_name_plural = _("support settings")

    def __str__(self) -> str:
        return "support settings"

    def business_hours(self) -> sla.BusinessHours:
        return sla.BusinessHours(
            opens=self.business_opens,
            closes=self.business_closes,
            timezone=self.business_timezone,
            days=frozenset(int(day) for day in self.business_days),
        )

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            self.business_hours()
        except (ValueError, TypeError, KeyError) as error:
            raise ValidationError(str(error)) from error


def _case_secret() -> str:
    return secrets.token_urlsafe(16)


class Case(models.Model):
    requester_kind = models.CharField(max_length=8, choices=RequesterKind.choices)
    requester_name = models.CharField(_("name"), max_length=120, blank=True)
    requester_email = models.EmailField(_("e-mail"))
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    subject = models.CharField(_("subject"), max_length=200)
    category = models.CharField(_("category"), max_length=16, choices=CaseCategory.choices)
    priority = models.CharField(
        _("priority"), max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    status = models.CharField(
        max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW, db_index=True
    )
    queue = models.CharField(max_length=8, choices=Queue.choices, default=Queue.TENANT)
    source = models.CharField(max_length=8, choices=Source.choices)
    # What the case is about, attached from where it was opened.
    site = models.ForeignKey(
        "stations.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session = models.ForeignKey(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Billing's receipt number as printed (billing is another feature: no foreign key).
    receipt_number = models.CharField(_("receipt number"), max_length=64, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    # Signs the driver's links and reply address; rotating it revokes them.
    secret = models.CharField(max_length=40, default=_case_secret, editable=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # The resolution clock stops while the case waits on its requester: since when it waits,
    # and how many clock minutes (business minutes for managers) earlier waits took.
    waiting_since = models.DateTimeField(null=True, blank=True)
    paused_minutes = models.FloatField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_response_breach_at = models.DateTimeField(null=True, blank=True)
    resolution_breach_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "first_response_due_at"]),
            models.Index(fields=["status", "resolution_due_at"]),
            models.Index(fields=["queue", "status"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_active(self) -> bool:
        return self.status in (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)

    @property
    def round_the_clock(self) -> bool:
        """Drivers get support at any hour; station managers in business hours."""
        return self.requester_kind == RequesterKind.DRIVER


class CaseMessage(models.Model):
    """One message of a case's conversation.  Internal notes are staff-only: never e-mailed
    to the requester nor shown on their page."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    internal = models.BooleanField(_("internal note"), default=False)
    source = models.CharField(max_length=8, choices=Source.choices)
    # An inbound e-mail's Message-ID (or the provider's event id): delivered twice, kept once.
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "case__site"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="support_message_external_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.author_label or self.author_kind} on {self.case_id}"


class CannedAnswer(models.Model):
    """A ready answer staff insert and adjust (tenant-wide)."""

    title = models.CharField(_("title"), max_length=120, unique=True)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


def attachment_path(instance: CaseAttachment, filename: str) -> str:
    """Under the tenant's schema and the case, with a random name: the stored name says
    nothing of the uploader's file name (kept in ``name``) and cannot be guessed."""
    return f"support/{connection.schema_name}/{instance.case_id}/{secrets.token_urlsafe(18)}"


class CaseAttachment(models.Model):
    """A file sent with a message (a photo of the station's screen, a bank statement), stored
    through Django's storage API (``STORAGES["default"]``) and served only by the case's views
    to those who may read its message.  Types are recognised by their first bytes."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(CaseMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "case__site"

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name
