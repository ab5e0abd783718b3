"""Sites and the charging equipment on them (tenant schema)."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager
from apps.tenants.models import validate_timezone

from .choices import (
    LIVE_STATE_OF_STATUS,
    ConnectorStatus,
    ConnectorType,
    LiveState,
    OcppVersion,
    RegistrationStatus,
    SecurityProfile,
    StatusKind,
)
from .tags import MAX_TAGS, TAG_MAX_LENGTH, validate_tag


class Site(models.Model):
    """A place with chargers: the unit that roles and delegations are scoped to."""

    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("street address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(_("province / state"), max_length=120, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CA")
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    created_at = models.DateTimeField(auto_now_add=True)
    # Archived: out of the lists and pickers, its history kept (``services.site_archive``).
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "pk"

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="site_name_unique")]

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    """A charging station (OCPP "charge point" / "charging station")."""

    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="stations"
    )
    identity = models.CharField(_("OCPP identity"), max_length=48, unique=True)
    name = models.CharField(max_length=200, blank=True)
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    serial_number = models.CharField(max_length=50, blank=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    iccid = models.CharField(max_length=20, blank=True)
    imsi = models.CharField(max_length=20, blank=True)
    ocpp_version = models.CharField(max_length=8, choices=OcppVersion.choices, blank=True)
    registration_status = models.CharField(
        max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.ACCEPTED
    )
    heartbeat_interval = models.PositiveIntegerField(default=300)
    lax_validation = models.BooleanField(
        default=False,
        help_text=_("Accept messages that break the OCPP schema (for non-compliant firmware)."),
    )
    security_profile = models.PositiveSmallIntegerField(
        choices=SecurityProfile.choices,
        default=SecurityProfile.BASIC,
        help_text=_(
            "What the station must show at the handshake: 1 a Basic auth password; 2 the "
            "password over TLS; 3 a client certificate whose CN is the station's identity."
        ),
    )
    # Short lowercase slugs to pick stations as a group (lists, bulk actions, campaigns).
    tags = ArrayField(
        models.CharField(max_length=TAG_MAX_LENGTH, validators=[validate_tag]),
        default=list,
        blank=True,
        size=MAX_TAGS,
    )
    is_online = models.BooleanField(default=False)
    # Which websocket holds the station now: a late disconnect of an old socket (another
    # server process) must not mark a reconnected station offline.
    connection_id = models.CharField(max_length=32, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_boot_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Retired: may not connect any more, out of the lists, its history kept
    # (``services.station_retire``).
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "site"

    class Meta:
        ordering = ["identity"]
        indexes = [
            models.Index(fields=["is_online", "last_seen_at"]),
            GinIndex(fields=["tags"], name="station_tags_gin"),
        ]

    def __str__(self) -> str:
        return self.name or self.identity


class StationSecuritySettings(models.Model):
    """The tenant's station-security settings (one row)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    cso_name = models.CharField(
        _("charging station operator name"),
        max_length=64,
        blank=True,
        help_text=_(
            "When set, a profile 3 station's certificate must carry this organisation (O) "
            "in its subject, as the OCPP certificate properties ask."
        ),
    )

    class Meta:
        verbose_name_plural = "station security settings"

    def __str__(self) -> str:
        return self.cso_name or "station security settings"


class Evse(models.Model):
    """A port: what one vehicle charges from (OCPP 1.6 connectorId, 2.0.1 EVSE)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="evses")
    evse_id = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN
    )
    error_code = models.CharField(max_length=50, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    max_power_w = models.PositiveIntegerField(default=7400)
    min_current_a = models.DecimalField(max_digits=6, decimal_places=1, default=6)
    max_current_a = models.DecimalField(max_digits=6, decimal_places=1, default=32)
    phases = models.PositiveSmallIntegerField(default=3, choices=[(1, "1"), (3, "3")])

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["station", "evse_id"]
        constraints = [
            models.UniqueConstraint(fields=["station", "evse_id"], name="evse_unique_per_station"),
            models.CheckConstraint(condition=models.Q(evse_id__gte=1), name="evse_id_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.station} #{self.evse_id}"

    @property
    def live_state(self) -> str:
        if not self.station.is_online:
            return LiveState.OFFLINE
        return LIVE_STATE_OF_STATUS.get(self.status, LiveState.UNAVAILABLE)


class Connector(models.Model):
    evse = models.ForeignKey(Evse, on_delete=models.CASCADE, related_name="connectors")
    connector_id = models.PositiveIntegerField(default=1)
    connector_type = models.CharField(
        max_length=16, choices=ConnectorType.choices, default=ConnectorType.TYPE2
    )
    status = models.CharField(
        max_length=16, choices=ConnectorStatus.choices, default=ConnectorStatus.UNKNOWN
    )
    max_power_w = models.PositiveIntegerField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "evse__station__site"

    class Meta:
        ordering = ["evse", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evse", "connector_id"], name="connector_unique_per_evse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.evse}/{self.connector_id}"


class StatusChange(models.Model):
    """History of connector statuses and of the station's link (online/offline)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="status_changes")
    evse = models.ForeignKey(
        Evse, null=True, blank=True, on_delete=models.CASCADE, related_name="status_changes"
    )
    kind = models.CharField(max_length=10, choices=StatusKind.choices, default=StatusKind.CONNECTOR)
    status = models.CharField(max_length=16)
    error_code = models.CharField(max_length=50, blank=True)
    info = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["station", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.station} {self.status} @ {self.occurred_at:%Y-%m-%d %H:%M:%S}"
