"""Queues for busy stations: a group of stations a site admin defines, with its policy, and the
drivers (tokens) waiting in it.

Invariants held by the database (the promotion's race is decided here, not in Python):
- a port is held for at most one driver (``waitlist_one_hold_per_port``);
- a driver holds at most one port (``waitlist_one_hold_per_token``);
- a driver is in a group's queue at most once (``waitlist_once_per_group``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import ACTIVE_STATUSES, EntryStatus, JoinedVia, ReservationState


class WaitlistGroup(models.Model):
    """A queue: the stations it covers (a parking level, a whole site) and its policy."""

    site = models.ForeignKey("stations.Site", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    stations = models.ManyToManyField("stations.Station", related_name="+", blank=True)
    hold_minutes = models.PositiveSmallIntegerField(
        _("hold a freed port for (minutes)"), default=10, validators=[MinValueValidator(1)]
    )
    max_no_shows = models.PositiveSmallIntegerField(
        _("no-shows before a driver is dropped"), default=2, validators=[MinValueValidator(1)]
    )
    allow_several_queues = models.BooleanField(
        _("a driver may wait in several queues"), default=False
    )
    opens_at = models.TimeField(_("opens at (site time)"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at (site time)"), null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="waitlist_group_name_per_site")
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, at: dt.datetime) -> bool:
        """Within its hours (site time); no hours: always.  Hours may cross midnight."""
        if not self.is_active:
            return False
        if self.opens_at is None or self.closes_at is None:
            return True
        local = at.astimezone(ZoneInfo(self.site.timezone)).time()
        if self.opens_at <= self.closes_at:
            return self.opens_at <= local < self.closes_at
        return local >= self.opens_at or local < self.closes_at


class WaitlistEntry(models.Model):
    """A driver (a token) in a queue.  Order: ``queued_at`` (a driver who lets a hold expire
    goes to the back)."""

    group = models.ForeignKey(WaitlistGroup, on_delete=models.CASCADE, related_name="entries")
    token_uid = models.CharField(max_length=64)
    token_type = models.CharField(max_length=16, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    language = models.CharField(max_length=8, default="en")
    joined_via = models.CharField(max_length=8, choices=JoinedVia.choices)
    status = models.CharField(
        max_length=12, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    joined_at = models.DateTimeField()
    queued_at = models.DateTimeField(db_index=True)
    no_shows = models.PositiveSmallIntegerField(default=0)
    held_evse = models.ForeignKey(
        "stations.Evse", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    held_at = models.DateTimeField(null=True, blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    reservation_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    reservation_state = models.CharField(
        max_length=10, choices=ReservationState.choices, blank=True
    )
    session = models.ForeignKey(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    # The session started on the port held for this driver (its reservation was used).
    arrived_on_hold = models.BooleanField(default=False)
    # An unconfirmed entry (joined from the public page) lapses unless the card is tapped at a
    # station of the queue before this.
    confirm_by = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "group__site"

    class Meta:
        ordering = ["queued_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["held_evse"],
                condition=models.Q(status=EntryStatus.HELD),
                name="waitlist_one_hold_per_port",
            ),
            models.UniqueConstraint(
                fields=["token_uid"],
                condition=models.Q(status=EntryStatus.HELD),
                name="waitlist_one_hold_per_token",
            ),
            models.UniqueConstraint(
                fields=["group", "token_uid"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="waitlist_once_per_group",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=EntryStatus.HELD) | models.Q(held_evse__isnull=False),
                name="waitlist_hold_has_port",
            ),
        ]
        indexes = [models.Index(fields=["group", "status", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.token_uid} in {self.group}"

    @property
    def contact_key(self) -> str:
        return f"token:{self.token_uid}"
