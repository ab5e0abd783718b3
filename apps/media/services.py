"""Writes of video content: assets (validated), playlists, schedules and their delivery."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.stations.models import Station

from . import transport
from .choices import AssetKind, DeliveryStatus
from .formats import UnsupportedMedia, sniff
from .models import MediaAsset, MediaDelivery, MediaSchedule, Playlist, PlaylistItem, ScreenModel

SALT = "media.link"
MAX_BYTES = 200 * 1024 * 1024
MAX_SIZE = (3840, 2160)
MIN_SIZE = (320, 240)


def _link_seconds() -> int:
    return int(getattr(settings, "MEDIA_LINK_SECONDS", 7 * 86400))


def _base_url() -> str:
    return getattr(settings, "MEDIA_DOWNLOAD_BASE_URL", f"https://{settings.BASE_DOMAIN}").rstrip(
        "/"
    )


def sign_link(claims: dict) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"s": connection.schema_name, **claims})


def read_link(token: str) -> dict:
    return signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=_link_seconds())


# --- Assets -----------------------------------------------------------------------------------
@transaction.atomic
def media_asset_upload(*, name: str, upload, thumbnail=None) -> MediaAsset:
    """Format, resolution and size checked; an image is its own thumbnail, a video needs one
    (a PNG or JPEG poster: the platform has no video decoder)."""
    upload.seek(0)
    data = upload.read()
    if not data or len(data) > MAX_BYTES:
        raise ValidationError({"file": _("A media file must have 1 byte to 200 MB.")})
    try:
        info = sniff(data)
    except UnsupportedMedia as error:
        raise ValidationError({"file": str(error)}) from error
    if info.width > MAX_SIZE[0] or info.height > MAX_SIZE[1]:
        raise ValidationError({"file": _("At most 3840 × 2160 pixels.")})
    if info.width < MIN_SIZE[0] or info.height < MIN_SIZE[1]:
        raise ValidationError({"file": _("At least 320 × 240 pixels.")})
    if info.kind == AssetKind.VIDEO:
        if thumbnail is None:
            raise ValidationError({"thumbnail": _("A video needs a PNG or JPEG thumbnail.")})
        thumbnail.seek(0)
        poster = thumbnail.read()
        try:
            if sniff(poster).kind != AssetKind.IMAGE:
                raise UnsupportedMedia("")
        except UnsupportedMedia as error:
            raise ValidationError({"thumbnail": _("The thumbnail must be PNG or JPEG.")}) from error
    else:
        poster = data
    asset = MediaAsset(
        name=name,
        kind=info.kind,
        format=info.format,
        width=info.width,
        height=info.height,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    asset.file.save(f"asset.{info.format}", ContentFile(data), save=False)
    poster_format = sniff(poster).format
    asset.thumbnail.save(f"thumb.{poster_format}", ContentFile(poster), save=False)
    asset.full_clean()
    asset.save()
    return asset


@transaction.atomic
def playlist_create(*, name: str, items: list[tuple[MediaAsset, int]]) -> Playlist:
    playlist = Playlist.objects.create(name=name)
    PlaylistItem.objects.bulk_create(
        PlaylistItem(playlist=playlist, asset=asset, position=index, seconds=seconds)
        for index, (asset, seconds) in enumerate(items, start=1)
    )
    return playlist


@transaction.atomic
def media_schedule_create(
    *,
    playlist: Playlist,
    sites,
    starts_on: dt.date,
    ends_on: dt.date,
    daily_start: dt.time,
    daily_end: dt.time,
    priority: int = 0,
    text: str = "",
) -> MediaSchedule:
    if ends_on < starts_on:
        raise ValidationError(_("The schedule ends before it starts."))
    schedule = MediaSchedule(
        playlist=playlist,
        starts_on=starts_on,
        ends_on=ends_on,
        daily_start=daily_start,
        daily_end=daily_end,
        priority=priority,
        text=text,
    )
    schedule.full_clean()
    schedule.save()
    schedule.sites.set(sites)
    return schedule


# --- The manifest -----------------------------------------------------------------------------
def manifest_for(*, schedule: MediaSchedule, station: Station, base_url: str = "") -> dict:
    """What a screen plays: items with expiring URLs (on ``base_url``, the address the
    station fetched the manifest from), sizes and checksums, and when, in the station's site
    timezone."""
    base_url = base_url or _base_url()
    zone = station.site.timezone if station.site else "UTC"
    items = []
    for item in schedule.playlist.items.select_related("asset"):
        asset = item.asset
        token = sign_link({"a": asset.pk})
        path = reverse(
            "media_asset", args=[token, f"{asset.pk}.{asset.format}"], urlconf="config.urls_public"
        )
        items.append(
            {
                "url": base_url + path,
                "kind": asset.kind,
                "format": asset.format,
                "width": asset.width,
                "height": asset.height,
                "bytes": asset.size,
                "sha256": asset.sha256,
                "seconds": item.seconds,
            }
        )
    return {
        "version": 1,
        "schedule": schedule.pk,
        "station": station.identity,
        "priority": schedule.priority,
        "timezone": zone,
        "startDate": schedule.starts_on.isoformat(),
        "endDate": schedule.ends_on.isoformat(),
        "dailyStart": schedule.daily_start.strftime("%H:%M"),
        "dailyEnd": schedule.daily_end.strftime("%H:%M"),
        "items": items,
    }


def manifest_served(*, delivery_id: int, body: bytes) -> None:
    MediaDelivery.objects.filter(pk=delivery_id).update(
        served_digest=hashlib.sha256(body).hexdigest()
    )


def screen_of(station: Station) -> ScreenModel | None:
    return ScreenModel.objects.filter(
        vendor=station.vendor, model=station.model, has_screen=True
    ).first()


def schedule_deliver(*, schedule: MediaSchedule) -> list[MediaDelivery]:
    """Send the schedule to every station of its sites that has a screen; record a refusal for
    the others; confirm each from the station's answer (the digest of the manifest it fetched
    must be the one served to it)."""
    deliveries = []
    stations = Station.objects.filter(site__in=schedule.sites.all()).select_related("site")
    for station in stations.order_by("pk"):
        screen = screen_of(station)
        if screen is None:
            deliveries.append(
                MediaDelivery.objects.create(
                    schedule=schedule,
                    station=station,
                    status=DeliveryStatus.REFUSED,
                    detail=_("No screen on %(model)s") % {"model": station.model or "?"},
                )
            )
            continue
        too_big = [
            item.asset.name
            for item in schedule.playlist.items.select_related("asset")
            if item.asset.width > screen.max_width
            or item.asset.height > screen.max_height
            or (screen.formats and item.asset.format not in screen.formats)
        ]
        if too_big:
            deliveries.append(
                MediaDelivery.objects.create(
                    schedule=schedule,
                    station=station,
                    status=DeliveryStatus.REFUSED,
                    detail=_("Not playable on this screen: %(names)s")
                    % {"names": ", ".join(too_big)},
                )
            )
            continue
        delivery = MediaDelivery.objects.create(
            schedule=schedule, station=station, status=DeliveryStatus.SENT
        )
        url = _base_url() + reverse(
            "media_manifest",
            args=[sign_link({"d": delivery.pk})],
            urlconf="config.urls_public",
        )
        answer = transport.send_manifest(station=station, manifest_url=url)
        delivery.refresh_from_db()
        if answer.ok and answer.digest and answer.digest == delivery.served_digest:
            delivery.status = DeliveryStatus.CONFIRMED
        elif answer.ok:
            delivery.status, delivery.detail = DeliveryStatus.FAILED, _("Manifest not confirmed")
        elif answer.status in ("Rejected", "UnknownVendorId", "UnknownMessageId"):
            delivery.status, delivery.detail = DeliveryStatus.REJECTED, answer.status
        else:
            delivery.status, delivery.detail = DeliveryStatus.FAILED, answer.message[:200]
        delivery.confirmed_digest = answer.digest
        if schedule.text and delivery.status == DeliveryStatus.CONFIRMED:
            zone = zoneinfo.ZoneInfo(station.site.timezone if station.site else "UTC")
            start = dt.datetime.combine(schedule.starts_on, schedule.daily_start, zone)
            end = dt.datetime.combine(schedule.ends_on, schedule.daily_end, zone)
            delivery.display_message_status = transport.send_text(
                station=station, message_id=schedule.pk, text=schedule.text, start=start, end=end
            )
        delivery.answered_at = timezone.now()
        delivery.save()
        deliveries.append(delivery)
    return deliveries
