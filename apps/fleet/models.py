"""Fleets, their vehicles, the cards that charge them, what they charged, and their telemetry.

Scoping: a fleet belongs to its home depot site (``site``), so the one scoping path
(``restrict``) shows a fleet to those who hold ``fleet.view`` on that site; on top of that a
person who does not hold ``fleet.all`` sees only the fleets that name them as managers
(``selectors.fleets_for``): the fleet-manager role, scoped to their fleets.

Cards are the core's tokens (``charging.IdToken``), linked here, never copied: a card is a
token plus who it is for (a vehicle, or a driver of the fleet).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import CardKind, TelemetrySource
from .vin import validate_vin


class Fleet(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    site = models.ForeignKey(
        "stations.Site",
        on_delete=models.PROTECT,
        related_name="fleets",
        verbose_name=_("home depot"),
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_fleets"
    )
    # Shared secret of the telematics webhook receiver (HMAC-SHA256 of the body).
    telematics_secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Vehicle(models.Model):
    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="vehicles")
    make = models.CharField(_("make"), max_length=60)
    model = models.CharField(_("model"), max_length=60)
    battery_kwh = models.DecimalField(
        _("battery (kWh)"),
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("2000"))],
    )
    vin = models.CharField(_("VIN"), max_length=17, unique=True, validators=[validate_vin])
    plate = models.CharField(_("plate"), max_length=20, blank=True)
    depot = models.ForeignKey(
        "stations.Site",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("depot site"),
    )
    is_active = models.BooleanField(_("in service"), default=True)
    # The latest telemetry, kept here to show and to prioritise charging without a scan.
    soc_percent = models.DecimalField(
        _("state of charge (%)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    odometer_km = models.DecimalField(
        _("odometer (km)"), max_digits=9, decimal_places=1, null=True, blank=True
    )
    telemetry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "fleet__site"

    class Meta:
        ordering = ["fleet", "plate", "vin"]

    def __str__(self) -> str:
        return self.plate or self.vin

    def save(self, *args, **kwargs):
        self.vin = self.vin.upper()
        super().save(*args, **kwargs)


class FleetCard(models.Model):
    """A token of the core linked to a fleet's vehicle or driver (exactly one of them)."""

    token = models.OneToOneField(
        "charging.IdToken", on_delete=models.CASCADE, related_name="fleet_card"
    )
    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="cards")
    kind = models.CharField(
        _("kind"), max_length=12, choices=CardKind.choices, default=CardKind.RFID
    )
    vehicle = models.ForeignKey(
        Vehicle, null=True, blank=True, on_delete=models.CASCADE, related_name="cards"
    )
    driver_name = models.CharField(_("driver"), max_length=120, blank=True)
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fleet_cards",
        verbose_name=_("driver account"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "fleet__site"

    class Meta:
        ordering = ["fleet", "token__uid"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vehicle__isnull=False) | ~Q(driver_name="") | Q(driver__isnull=False),
                name="fleet_card_for_someone",
            ),
            models.CheckConstraint(
                condition=~Q(kind="autocharge") | Q(vehicle__isnull=False),
                name="fleet_autocharge_has_vehicle",
            ),
        ]

    def __str__(self) -> str:
        return self.token.uid

    def clean(self) -> None:
        if self.vehicle_id is None and not self.driver_name and self.driver_id is None:
            raise ValidationError(_("A card is for a vehicle or a driver."))
        if self.kind == CardKind.AUTOCHARGE and self.vehicle_id is None:
            raise ValidationError({"vehicle": _("An Autocharge id belongs to a vehicle.")})
        if self.vehicle_id and self.fleet_id and self.vehicle.fleet_id != self.fleet_id:
            raise ValidationError({"vehicle": _("The vehicle is in another fleet.")})


class VehicleSession(models.Model):
    """A charging session of the core that a fleet's card started: the vehicle and card as they
    were then (a card moved to another vehicle later does not move its history)."""

    session = models.OneToOneField(
        "charging.ChargingSession", on_delete=models.CASCADE, related_name="fleet_usage"
    )
    fleet = models.ForeignKey(Fleet, on_delete=models.CASCADE, related_name="sessions")
    vehicle = models.ForeignKey(
        Vehicle, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    card = models.ForeignKey(
        FleetCard, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    driver_name = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField(db_index=True)

    objects = RestrictedManager()
    scope_site_path = "fleet__site"

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["vehicle", "started_at"], name="fleet_usage_vehicle")]

    def __str__(self) -> str:
        return f"{self.vehicle} {self.started_at:%Y-%m-%d %H:%M}"


class TelemetryReading(models.Model):
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="telemetry")
    recorded_at = models.DateTimeField()
    soc_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    odometer_km = models.DecimalField(
        max_digits=9,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    source = models.CharField(max_length=8, choices=TelemetrySource.choices)
    received_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()
    scope_site_path = "vehicle__fleet__site"

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["vehicle", "recorded_at"], name="fleet_telemetry_once"),
            models.CheckConstraint(
                condition=Q(soc_percent__isnull=False) | Q(odometer_km__isnull=False),
                name="fleet_telemetry_has_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vehicle} {self.recorded_at:%Y-%m-%d %H:%M}"
