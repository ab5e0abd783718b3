"""Alerts about stations (offline, faulted) and who wants to hear about them."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import AlertKind, AlertSeverity


class Alert(models.Model):
    """One problem on one station (or one of its ports), from when it was raised until it
    cleared (by itself, or resolved by someone).  At most one open alert per station, port and
    kind: raising twice is a no-op.  Someone may acknowledge an open alert (they are on it)."""

    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    severity = models.CharField(
        _("severity"),
        max_length=10,
        choices=AlertSeverity.choices,
        default=AlertSeverity.WARNING,
        db_index=True,
    )
    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="alerts")
    evse = models.ForeignKey(
        "stations.Evse", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    message = models.CharField(_("message"), max_length=255, blank=True)
    error_code = models.CharField(_("error code"), max_length=50, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    # Who, as the audit log names them (a person or an API key); blank: nobody / by itself.
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=255, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=255, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "evse", "kind"],
                condition=models.Q(cleared_at__isnull=True),
                nulls_distinct=False,
                name="alert_open_once",
            ),
            models.CheckConstraint(
                condition=models.Q(cleared_at__isnull=True)
                | models.Q(cleared_at__gte=models.F("raised_at")),
                name="alert_clears_after_raise",
            ),
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True)
                | models.Q(acknowledged_at__gte=models.F("raised_at")),
                name="alert_acknowledged_after_raise",
            ),
        ]
        indexes = [models.Index(fields=["station", "kind", "cleared_at"])]

    def __str__(self) -> str:
        where = f"{self.station} #{self.evse.evse_id}" if self.evse_id else str(self.station)
        return f"{self.get_kind_display()}: {where}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    @property
    def details(self) -> str:
        """What went wrong in words: the station's own text ("RCD tripped"), else its error
        code in the reader's language, never the raw code ("GroundFailure")."""
        from apps.stations.words import fault_words

        if self.error_code:
            return fault_words(self.error_code, self.message)
        return self.message

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def duration(self):
        return (self.cleared_at or timezone.now()) - self.raised_at


class AlertSubscription(models.Model):
    """A person asks to be e-mailed about some kinds of alert on all or some sites.  What they
    receive is further limited to what their roles let them see when the alert happens."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_subscription"
    )
    kinds = ArrayField(
        models.CharField(max_length=16, choices=AlertKind.choices),
        default=list,
        blank=True,
        verbose_name=_("kinds of alert"),
    )
    all_sites = models.BooleanField(_("all my sites"), default=True)
    sites = models.ManyToManyField(
        "stations.Site", blank=True, related_name="alert_subscriptions", verbose_name=_("sites")
    )
    notify_on_clear = models.BooleanField(_("also when it clears"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.kinds) or '-'}"


class BulkCommand(models.Model):
    """One command sent to many stations (a filtered list): reset, availability, a
    configuration change or a firmware update.  A Celery task sends it station by station
    through the OCPP command service; each station's outcome is a ``BulkCommandItem``."""

    class Command(models.TextChoices):
        RESET = "reset", _("Reset")
        AVAILABILITY = "availability", _("Availability")
        CONFIGURATION = "configuration", _("Configuration change")
        FIRMWARE = "firmware", _("Firmware update")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    command = models.CharField(max_length=16, choices=Command.choices)
    arguments = models.JSONField(default=dict, blank=True)
    # The list's filter it was started from (its query string), kept for the record.
    filter_query = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None  # spans sites; its items are scoped per station

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_command_display()} #{self.pk}"


class BulkCommandItem(models.Model):
    """One station of a bulk command and what became of it there."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        OK = "ok", _("Accepted")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(BulkCommand, on_delete=models.CASCADE, related_name="items")
    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    answer = models.CharField(max_length=64, blank=True)  # the station's word, or the error's
    message = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["station__identity"]
        constraints = [
            models.UniqueConstraint(fields=["job", "station"], name="bulk_item_once_per_station")
        ]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"{self.job} · {self.station_id}: {self.status}"
