"""Rollups (tenant schema): what each port did in every 15 minutes, and per local day.

A 15-minute row is always *recomputed* from the raw rows (meter values, status history,
sessions, session costs), never incremented: replays, late and offline-queued data and a
rebuild all land on the same numbers.  Buckets are UTC quarter hours; every time zone's offset
is a multiple of 15 minutes, so they are also the site's local quarter hours, across DST.
Day rows sum a port's quarters over the site's local calendar day (23 or 25 hours on DST days).

Definitions of every column: docs/reports.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

MONEY = {"max_digits": 14, "decimal_places": 4, "default": Decimal("0")}


class RollupMeasures(models.Model):
    """The measures both grains keep."""

    energy_wh = models.BigIntegerField(default=0)
    peak_power_w = models.IntegerField(null=True, blank=True)
    seconds_available = models.IntegerField(default=0)
    seconds_charging = models.IntegerField(default=0)
    seconds_finished = models.IntegerField(default=0)
    seconds_reserved = models.IntegerField(default=0)
    seconds_faulted = models.IntegerField(default=0)
    seconds_unavailable = models.IntegerField(default=0)
    seconds_offline = models.IntegerField(default=0)
    seconds_occupied = models.IntegerField(
        default=0, help_text=_("Seconds a charging session was open on the port.")
    )
    sessions_started = models.IntegerField(default=0)
    sessions_ended = models.IntegerField(default=0)
    revenue = models.DecimalField(**MONEY)

    class Meta:
        abstract = True


class PortRollup(RollupMeasures):
    """One port, one UTC quarter hour."""

    evse = models.ForeignKey("stations.Evse", on_delete=models.CASCADE, related_name="+")
    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "stations.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    bucket = models.DateTimeField()
    computed_at = models.DateTimeField()

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evse", "bucket"], name="port_rollup_once")]
        indexes = [
            # Rows arrive in time order: a BRIN index on the bucket is tiny and lets a
            # period scan skip everything outside it.
            BrinIndex(fields=["bucket"], name="port_rollup_bucket_brin", autosummarize=True),
            models.Index(fields=["site", "bucket"], name="port_rollup_site_bucket"),
        ]

    def __str__(self) -> str:
        return f"port {self.evse_id} @ {self.bucket:%Y-%m-%d %H:%M}"


class SiteQuarterRollup(models.Model):
    """One site, one UTC quarter hour: its ports' quarters summed (the load profile of a site,
    or of many, reads these instead of every port's rows)."""

    site = models.ForeignKey("stations.Site", on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField()
    energy_wh = models.BigIntegerField(default=0)
    peak_power_w = models.IntegerField(
        null=True, blank=True, help_text=_("The highest power one of its ports reported.")
    )
    seconds_occupied = models.IntegerField(default=0)
    sessions_started = models.IntegerField(default=0)
    sessions_ended = models.IntegerField(default=0)
    revenue = models.DecimalField(**MONEY)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "bucket"], name="site_quarter_once")]
        indexes = [
            BrinIndex(fields=["bucket"], name="site_quarter_bucket_brin", autosummarize=True)
        ]

    def __str__(self) -> str:
        return f"site {self.site_id} @ {self.bucket:%Y-%m-%d %H:%M}"


class PortDayRollup(RollupMeasures):
    """One port, one calendar day in its site's time zone (the quarters that fall in it)."""

    evse = models.ForeignKey("stations.Evse", on_delete=models.CASCADE, related_name="+")
    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        "stations.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evse", "day"], name="port_day_once")]
        indexes = [models.Index(fields=["site", "day"], name="port_day_site_day")]

    def __str__(self) -> str:
        return f"port {self.evse_id} on {self.day}"


class RollupDirty(models.Model):
    """A quarter hour of a port whose raw rows changed: the rollup task recomputes it."""

    evse_id = models.BigIntegerField()
    bucket = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evse_id", "bucket"], name="dirty_once")]

    def __str__(self) -> str:
        return f"port {self.evse_id} @ {self.bucket:%Y-%m-%d %H:%M} (to recompute)"


class RollupCursor(models.Model):
    """How far the raw tables have been read (their ids only grow).  One row."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    meter_value_id = models.BigIntegerField(default=0)
    status_change_id = models.BigIntegerField(default=0)
    session_cost_id = models.BigIntegerField(default=0)
    # Raw meter values before this quarter may have been deleted (retention): quarters before
    # it are never recomputed again (their rollups are all that is left of them).
    raw_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollup cursor mv={self.meter_value_id} sc={self.status_change_id}"


class RollupGap(models.Model):
    """An id past the cursor that a scan did not see: a row still being written by a
    transaction that had not committed (or one rolled back).  The next scans look for it again
    until every transaction that could hold it has ended (``holders``: the virtual transaction
    ids running when the scan noted it; a transaction holds one from its first statement, before
    it takes an id from a sequence, whether or not it has a transaction id yet).  Once none of
    them is running when a later scan starts, the id is either visible to that scan or never
    will be.  This closes the race of an id read past before its row committed."""

    class Source(models.TextChoices):
        METER_VALUE = "mv", "meter value"
        STATUS_CHANGE = "sc", "status change"
        SESSION_COST = "cost", "session cost"

    source = models.CharField(max_length=4, choices=Source.choices)
    row_id = models.BigIntegerField()
    holders = ArrayField(models.CharField(max_length=40), default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "row_id"], name="rollup_gap_once")]

    def __str__(self) -> str:
        return f"{self.source} {self.row_id} (until {len(self.holders)} transactions end)"


class ExportJob(models.Model):
    """A long export made in the background: its progress, then its file (the requester's)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="report_exports"
    )
    file_format = models.CharField(max_length=4, choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    grain = models.CharField(max_length=8)
    start = models.DateField()
    end = models.DateField()
    site_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    rows_total = models.IntegerField(default=0)
    rows_done = models.IntegerField(default=0)
    file = models.FileField(upload_to="reports/exports/", blank=True)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.file_format}, {self.status})"

    @property
    def progress(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return 0 if not self.rows_total else min(99, self.rows_done * 100 // self.rows_total)


class ReportSubscription(models.Model):
    """A person who receives the report by e-mail every day, week or month (their scope, their
    language).  The token in each e-mail's unsubscribe link identifies it."""

    class Frequency(models.TextChoices):
        DAILY = "daily", _("Every day")
        WEEKLY = "weekly", _("Every week")
        MONTHLY = "monthly", _("Every month")

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    group_by = models.CharField(max_length=8, default="site")
    is_active = models.BooleanField(default=True)
    unsubscribe_token = models.CharField(max_length=43, unique=True)
    last_period_end = models.DateField(
        null=True, blank=True, help_text=_("The end of the last period sent (excluded).")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "frequency"], name="one_subscription_per_frequency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.frequency}"


class ReportDelivery(models.Model):
    """One report e-mailed: to whom, for which period, with how many sites."""

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.EmailField()
    period_start = models.DateField()
    period_end = models.DateField()
    sites = models.IntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"], name="one_delivery_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.period_start}–{self.period_end}"


class GhgSettings(models.Model):
    """The tenant's factors for greenhouse gas avoided (one row; see apps/reports/ghg.py)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    baseline_g_per_km = models.DecimalField(
        _("fuel vehicle baseline (g CO2e/km)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("205.6"),
    )
    ev_kwh_per_km = models.DecimalField(
        _("EV consumption (kWh/km)"), max_digits=6, decimal_places=3, default=Decimal("0.200")
    )
    grid_g_per_kwh = models.DecimalField(
        _("grid emission factor (g CO2e/kWh)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("110"),
    )

    def __str__(self) -> str:
        return "greenhouse gas factors"


class SiteEmissionFactor(models.Model):
    """A site's own grid factor (its province or utility), instead of the tenant's."""

    site = models.OneToOneField("stations.Site", on_delete=models.CASCADE, related_name="+")
    grid_g_per_kwh = models.DecimalField(
        _("grid emission factor (g CO2e/kWh)"), max_digits=8, decimal_places=2
    )
    source = models.CharField(max_length=200, blank=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    def __str__(self) -> str:
        return f"{self.site_id}: {self.grid_g_per_kwh} g/kWh"


class ReportSettings(models.Model):
    """The tenant's report rules (one row): the uptime definition and how long raw meter
    values are kept (docs/reports.md, "Uptime" and "Raw retention")."""

    class Unavailable(models.TextChoices):
        EXCLUDED = "excluded", _("excluded from the time counted (planned maintenance)")
        UP = "up", _("counted as up")
        DOWN = "down", _("counted as down")

    class Offline(models.TextChoices):
        DOWN = "down", _("counted as down")
        EXCLUDED = "excluded", _("excluded from the time counted")

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    uptime_unavailable = models.CharField(
        _("time unavailable (set by the operator)"),
        max_length=8,
        choices=Unavailable.choices,
        default=Unavailable.EXCLUDED,
    )
    uptime_offline = models.CharField(
        _("time offline (no link to the station)"),
        max_length=8,
        choices=Offline.choices,
        default=Offline.DOWN,
    )
    raw_retention_days = models.PositiveIntegerField(
        _("days raw meter values are kept"),
        default=90,
        validators=[MinValueValidator(7)],
    )

    def __str__(self) -> str:
        return "report settings"
