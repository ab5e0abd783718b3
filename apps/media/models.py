from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import RestrictedManager

from .choices import AssetKind, DeliveryStatus


class ScreenModel(models.Model):
    """What a station model can show (a capability per vendor and model): stations whose
    model is not listed with a screen are never sent media."""

    vendor = models.CharField(max_length=50)
    model = models.CharField(max_length=50)
    has_screen = models.BooleanField(default=True)
    max_width = models.PositiveIntegerField(default=1920)
    max_height = models.PositiveIntegerField(default=1080)
    formats = models.JSONField(default=list, help_text=_('e.g. ["mp4", "png", "jpeg"]'))

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "model"], name="media_one_screen_per_model")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} {self.model}"


class MediaAsset(models.Model):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=AssetKind.choices)
    format = models.CharField(max_length=8)
    file = models.FileField(upload_to="media/assets/", max_length=300)
    thumbnail = models.FileField(upload_to="media/thumbnails/", max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = None

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.name


class Playlist(models.Model):
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = None

    def __str__(self) -> str:
        return self.name


class PlaylistItem(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    seconds = models.PositiveSmallIntegerField(default=10, help_text=_("Images: how long"))

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "position"], name="media_item_position")
        ]

    def __str__(self) -> str:
        return f"{self.playlist} #{self.position}"


class MediaSchedule(models.Model):
    """A playlist on the screens of some sites: between two dates, during daily hours in each
    site's timezone, at a priority (higher wins on the station), with an optional text that
    2.0.1 stations show through SetDisplayMessage."""

    playlist = models.ForeignKey(Playlist, on_delete=models.PROTECT, related_name="schedules")
    sites = models.ManyToManyField("stations.Site", related_name="media_schedules")
    starts_on = models.DateField()
    ends_on = models.DateField()
    daily_start = models.TimeField()
    daily_end = models.TimeField()
    priority = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=512, blank=True)
    # Bumped by every change: deliveries of an older revision are sent again.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    scope_site_path = None

    def __str__(self) -> str:
        return f"{self.playlist} {self.starts_on}–{self.ends_on}"


class MediaDelivery(models.Model):
    """One schedule on one station (one row each, sent again as often as needed), and what
    the station last confirmed."""

    schedule = models.ForeignKey(MediaSchedule, on_delete=models.CASCADE, related_name="deliveries")
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="media_deliveries"
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    detail = models.CharField(max_length=200, blank=True)
    served_digest = models.CharField(max_length=64, blank=True)
    confirmed_digest = models.CharField(max_length=64, blank=True)
    display_message_status = models.CharField(max_length=40, blank=True)
    revision = models.PositiveIntegerField(default=0, help_text=_("The schedule's revision sent"))
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    scope_site_path = "station__site"

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "station"], name="media_delivery_once")
        ]
        indexes = [models.Index(fields=["station", "status"])]

    def __str__(self) -> str:
        return f"{self.schedule} → {self.station_id}: {self.status}"
