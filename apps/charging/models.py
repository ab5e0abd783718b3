"""Charging sessions, the tokens that start them and the meter values they report."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import SessionStatus, TokenType


class IdToken(models.Model):
    """An RFID card, app account, eMAID or vehicle id that may start charging."""

    uid = models.CharField(_("token"), max_length=64)
    token_type = models.CharField(
        max_length=16, choices=TokenType.choices, default=TokenType.ISO14443
    )
    label = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    parent_uid = models.CharField(
        max_length=64, blank=True, help_text=_("OCPP parent id / group id token")
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["uid"]
        constraints = [
            models.UniqueConstraint(fields=["uid", "token_type"], name="token_unique_per_type")
        ]

    def __str__(self) -> str:
        return self.label or self.uid


class ChargingSession(models.Model):
    """One charging transaction.  Energy comes from the meter register (never summed twice)."""

    station = models.ForeignKey(
        "stations.Station", on_delete=models.PROTECT, related_name="sessions"
    )
    evse = models.ForeignKey("stations.Evse", on_delete=models.PROTECT, related_name="sessions")
    connector_id = models.PositiveIntegerField(default=1)
    transaction_id = models.CharField(max_length=64)
    id_token = models.CharField(max_length=64, blank=True)
    token_type = models.CharField(max_length=16, blank=True)
    token = models.ForeignKey(
        IdToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.ACTIVE
    )
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    charging_ended_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When energy stopped flowing (for idle fees, valet).")
    )
    meter_start_wh = models.BigIntegerField(null=True, blank=True)
    meter_last_wh = models.BigIntegerField(null=True, blank=True)
    meter_stop_wh = models.BigIntegerField(null=True, blank=True)
    energy_wh = models.BigIntegerField(default=0)
    last_power_w = models.IntegerField(null=True, blank=True)
    stop_reason = models.CharField(max_length=40, blank=True)
    remote_start_id = models.IntegerField(null=True, blank=True)
    reservation_id = models.IntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "transaction_id"], name="transaction_unique_per_station"
            ),
            models.CheckConstraint(
                condition=models.Q(energy_wh__gte=0), name="energy_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["station", "status"])]

    def __str__(self) -> str:
        return f"{self.station} tx {self.transaction_id}"

    @property
    def duration(self):
        end = self.ended_at or timezone.now()
        return end - self.started_at


class MeterValue(models.Model):
    """One sampled value, normalised to Wh, W, A, V, % or °C.  Replays are deduplicated by the
    unique constraint (a station that resends after a reconnect is not counted twice)."""

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    evse_id = models.PositiveIntegerField(default=0)
    session = models.ForeignKey(
        ChargingSession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="meter_values",
    )
    timestamp = models.DateTimeField()
    measurand = models.CharField(max_length=40)
    phase = models.CharField(max_length=8, blank=True)
    location = models.CharField(max_length=8, blank=True)
    context = models.CharField(max_length=24, blank=True)
    unit = models.CharField(max_length=8)
    value = models.DecimalField(max_digits=20, decimal_places=4)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["timestamp"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "evse_id", "timestamp", "measurand", "phase", "location"],
                name="meter_value_once",
            )
        ]
        indexes = [models.Index(fields=["session", "measurand", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.measurand} {self.phase} {self.value} {self.unit} @ {self.timestamp}"
