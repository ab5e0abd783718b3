"""The drivers' side: what a network publishes in its public station finder, driver accounts
and their cards, and the tips drivers leave at stations.

Drivers are not portal users (``accounts.User``): see docs/drivers.md, "Why a separate
account".  Invariants held by the database:
- one finder listing per site (``drivers_one_listing_per_site``);
- a card (token) belongs to at most one driver once verified (``drivers_card_verified_once``);
- a driver links a token once (``drivers_card_once_per_driver``);
- one vote per driver and tip (``drivers_one_vote``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import check_password, make_password
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import Access, CardStatus, CardVerifiedBy, TipStatus


class FinderListing(models.Model):
    """A site the network shows in its public station finder, with what drivers need to know
    before they drive there.  A site without a published listing is not shown."""

    site = models.OneToOneField(
        "stations.Site", on_delete=models.CASCADE, related_name="finder_listing"
    )
    published = models.BooleanField(_("shown in the public finder"), default=True)
    access = models.CharField(_("access"), max_length=8, choices=Access.choices, default="public")
    shared = models.BooleanField(
        _("also shown in the platform's shared finder"),
        default=False,
        help_text=_("Drivers of every network find this site on the platform's own finder."),
    )
    opens_at = models.TimeField(_("opens at (site time)"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at (site time)"), null=True, blank=True)
    access_note = models.CharField(
        _("note for drivers"),
        max_length=300,
        blank=True,
        help_text=_("Shown on the finder: entrance, parking level, who may charge."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["site__name"]
        constraints = [
            models.UniqueConstraint(fields=["site"], name="drivers_one_listing_per_site")
        ]

    def __str__(self) -> str:
        return str(self.site)

    @property
    def always_open(self) -> bool:
        return self.opens_at is None or self.closes_at is None

    def is_open(self, at: dt.datetime, timezone: str) -> bool:
        """Within its hours in the site's time; hours may cross midnight."""
        if self.always_open:
            return True
        local = at.astimezone(ZoneInfo(timezone)).time()
        if self.opens_at <= self.closes_at:
            return self.opens_at <= local < self.closes_at
        return local >= self.opens_at or local < self.closes_at


class Driver(models.Model):
    """A driver's account on one network (the tenant's schema): sign-in by e-mail and
    password, verified e-mail, language and notification preferences."""

    email = models.EmailField(_("e-mail address"), unique=True)
    password = models.CharField(max_length=128)
    full_name = models.CharField(_("name"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    notify_email = models.BooleanField(_("by e-mail"), default=True)
    notify_sms = models.BooleanField(_("by SMS"), default=False)
    notify_push = models.BooleanField(_("in the browser"), default=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    # The driver API's request.user is a Driver (never a portal user): DRF asks these.
    is_authenticated = True
    is_anonymous = False

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def contact_key(self) -> str:
        """How the notification service names this driver (``apps.notifications`` Contact)."""
        return f"driver:{self.pk}"

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class DriverCard(models.Model):
    """A charging card (a network token) a driver links to their account.  Until verified
    the driver sees nothing of the card's sessions."""

    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="cards")
    token = models.ForeignKey("charging.IdToken", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=CardStatus.choices, default=CardStatus.PENDING)
    verified_by = models.CharField(max_length=4, choices=CardVerifiedBy.choices, blank=True)
    requested_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["token"],
                condition=models.Q(status=CardStatus.VERIFIED),
                name="drivers_card_verified_once",
            ),
            models.UniqueConstraint(
                fields=["driver", "token"], name="drivers_card_once_per_driver"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.driver}: {self.token}"


class Tip(models.Model):
    """What a driver tells others about a station: how to find it, the car park's code,
    which port is flaky.  Published at once; moderated by the site's admins."""

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    driver = models.ForeignKey(
        Driver, null=True, blank=True, on_delete=models.SET_NULL, related_name="tips"
    )
    body = models.TextField(_("tip"), validators=[MinLengthValidator(3), MaxLengthValidator(1000)])
    status = models.CharField(max_length=10, choices=TipStatus.choices, default=TipStatus.PUBLISHED)
    score = models.IntegerField(default=0)  # up votes minus down votes (kept by services)
    created_at = models.DateTimeField(auto_now_add=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-score", "-created_at"]
        indexes = [models.Index(fields=["station", "status"])]

    def __str__(self) -> str:
        return self.body[:60]


class TipPhoto(models.Model):
    """A photo with a tip, kept in the tenant's schema (small: at most PHOTO_MAX_BYTES) so it
    is isolated, backed up and deleted with the tip like the rest of the tenant's data."""

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="photos")
    content_type = models.CharField(max_length=20)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "tip__station__site"

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of tip {self.tip_id}"


class TipVote(models.Model):
    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="votes")
    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="+")
    value = models.SmallIntegerField(choices=[(1, "+1"), (-1, "-1")])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tip", "driver"], name="drivers_one_vote"),
        ]

    def __str__(self) -> str:
        return f"{self.value:+d} on tip {self.tip_id}"
