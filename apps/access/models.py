"""Access control: driver groups, rules per site / station / port, their schedules, holidays.

The decision itself is ``engine.py`` (pure); ``selectors.access_decision`` loads these rows into
its records.  Groups live here rather than reusing billing's ``DriverGroup``: feature apps do
not import one another (tests/core/test_import_rules.py), and a tariff group and an access
group change for different reasons (a price versus a door).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import HolidayMode, Level, RuleKind, Weekday


class AccessGroup(models.Model):
    """Drivers who may charge where a rule names the group; a token may be in several."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    tokens = models.ManyToManyField("charging.IdToken", blank=True, related_name="access_groups")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccessGroupMember(models.Model):
    """A group member other than a token: a vehicle, a whole fleet, a person.  Named by the key
    the app that owns it answers for a token (``policies.TOKEN_MEMBERSHIPS``, "<kind>:<id>",
    e.g. ``fleet.fleet:3``): access resolves a token to those keys and admits it through the
    groups that list any of them, without knowing the apps behind the keys."""

    group = models.ForeignKey(AccessGroup, on_delete=models.CASCADE, related_name="members")
    key = models.CharField(_("member"), max_length=80)
    label = models.CharField(_("label"), max_length=200, blank=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["group", "key"]
        constraints = [
            models.UniqueConstraint(fields=["group", "key"], name="access_member_unique")
        ]
        indexes = [models.Index(fields=["key"], name="access_member_key")]

    def __str__(self) -> str:
        return self.label or self.key


class AccessRule(models.Model):
    """Who may charge at a site, a station or a port, and when (see engine.py for precedence)."""

    name = models.CharField(_("name"), max_length=120)
    site = models.ForeignKey(
        "stations.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    evse = models.ForeignKey(
        "stations.Evse", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The site of the place, whatever the level: the one scoping path and the lookup by station.
    scope_site = models.ForeignKey(
        "stations.Site", on_delete=models.CASCADE, related_name="access_rules", editable=False
    )
    kind = models.CharField(_("who"), max_length=16, choices=RuleKind.choices)
    groups = models.ManyToManyField(AccessGroup, blank=True, related_name="rules")
    date_from = models.DateField(_("from (local date)"), null=True, blank=True)
    date_to = models.DateField(_("until (local date, inclusive)"), null=True, blank=True)
    holidays = models.CharField(
        _("holidays"), max_length=16, choices=HolidayMode.choices, default=HolidayMode.AS_USUAL
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "scope_site"

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(site__isnull=False, station__isnull=True, evse__isnull=True)
                    | Q(site__isnull=True, station__isnull=False, evse__isnull=True)
                    | Q(site__isnull=True, station__isnull=True, evse__isnull=False)
                ),
                name="access_rule_one_place",
            ),
            models.CheckConstraint(
                condition=Q(date_from__isnull=True)
                | Q(date_to__isnull=True)
                | Q(date_from__lte=models.F("date_to")),
                name="access_rule_dates_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["site"], name="access_rule_site"),
            models.Index(fields=["station"], name="access_rule_station"),
            models.Index(fields=["evse"], name="access_rule_evse"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> int:
        if self.evse_id:
            return Level.PORT
        if self.station_id:
            return Level.STATION
        return Level.SITE

    def clean(self) -> None:
        places = [p for p in (self.site_id, self.station_id, self.evse_id) if p]
        if len(places) != 1:
            raise ValidationError(_("A rule applies to exactly one site, station or port."))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationError({"date_to": _("The end date is before the start date.")})


class RuleWindow(models.Model):
    """A weekly window of a rule, wall-clock in the site's timezone; ``end <= start`` runs past
    midnight into the next day, ``start == end`` is 24 hours."""

    rule = models.ForeignKey(AccessRule, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    objects = RestrictedManager()
    scope_site_path = "rule__scope_site"

    class Meta:
        ordering = ["rule", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="access_window_weekday"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class Holiday(models.Model):
    """A local date on which rules may be skipped or apply only; for one site or all sites."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120)
    site = models.ForeignKey(
        "stations.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "site"], name="holiday_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class StationLocalList(models.Model):
    """What a station's local authorisation list holds, as it last accepted it: the access
    rules compiled for the station (``local_lists.py``), with its version and the station's
    limits as read from its configuration."""

    class State(models.TextChoices):
        IN_STEP = "in_step", _("In step")
        BEHIND = "behind", _("Behind (station offline or not answering)")
        TOO_LARGE = "too_large", _("Too many tokens for the station's list")
        UNSUPPORTED = "unsupported", _("The station keeps no local list")
        FAILED = "failed", _("The station refused the list")

    station = models.OneToOneField(
        "stations.Station", on_delete=models.CASCADE, related_name="access_local_list"
    )
    version = models.PositiveIntegerField(default=0)
    # uid -> {"status", "expiry", "group", "type"} as the station accepted it
    entries = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.BEHIND)
    message = models.CharField(max_length=300, blank=True)
    max_entries = models.PositiveIntegerField(null=True, blank=True)
    per_message = models.PositiveIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    def __str__(self) -> str:
        return f"{self.station} v{self.version}"
