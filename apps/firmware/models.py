from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import CampaignStatus, TargetStatus


def image_path(instance: FirmwareImage, filename: str) -> str:
    return f"firmware/{instance.vendor}/{instance.model}/{instance.version}/{filename}"


class FirmwareImage(models.Model):
    """An image for one vendor and model, stored through Django's storage API (a setting makes
    it S3-like storage).  Size and SHA-256 are checked at upload; a signed image carries the
    vendor's signature and signing certificate (OCPP 2.0.1 signed update)."""

    vendor = models.CharField(max_length=50)
    model = models.CharField(max_length=50)
    version = models.CharField(max_length=50)
    file = models.FileField(upload_to=image_path, max_length=300)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    signature = models.TextField(blank=True, help_text=_("Base64 signature of the image"))
    signing_certificate = models.TextField(blank=True, help_text=_("PEM certificate"))
    notes = models.TextField(blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = None  # the tenant's catalogue

    class Meta:
        ordering = ["vendor", "model", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "model", "version"], name="firmware_one_image_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vendor} {self.model} {self.version}"

    @property
    def signed(self) -> bool:
        return bool(self.signature)


class Campaign(models.Model):
    """Updating a set of stations to one image: in waves (a canary first, then cumulative
    percentages), a few at a time, inside each site's maintenance window, never during a
    session unless forced, with retries, pausing itself when a wave fails too often."""

    name = models.CharField(max_length=120)
    image = models.ForeignKey(FirmwareImage, on_delete=models.PROTECT, related_name="campaigns")
    status = models.CharField(
        max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # who: the filter the targets were chosen by (kept for the report)
    target_filter = models.JSONField(default=dict, blank=True)
    canary_count = models.PositiveIntegerField(default=1)
    wave_percents = models.JSONField(
        default=list, blank=True, help_text=_("Cumulative percentages after the canary")
    )
    concurrency = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    failure_threshold_percent = models.PositiveSmallIntegerField(
        default=20, validators=[MaxValueValidator(100)]
    )
    max_attempts = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    retry_backoff_seconds = models.PositiveIntegerField(default=300)
    window_start = models.TimeField(null=True, blank=True, help_text=_("Site's local time"))
    window_end = models.TimeField(null=True, blank=True)
    force = models.BooleanField(default=False, help_text=_("Update even during a session"))
    pause_reason = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = None  # a campaign may span sites: people holding it on all sites

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignTarget(models.Model):
    """One station of a campaign; its pk is the 2.0.1 ``requestId`` of its update."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="firmware_targets"
    )
    wave = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=12, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(default=0)
    station_status = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    from_version = models.CharField(max_length=50, blank=True)
    to_version = models.CharField(max_length=50, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["wave", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "station"], name="firmware_target_once")
        ]
        indexes = [
            models.Index(fields=["campaign", "wave", "status"]),
            models.Index(fields=["station", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.station_id}"
