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
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.stations.models import Station

from . import queue, transport
from .choices import UNDELIVERED, AssetKind, DeliveryStatus
from .formats import UnsupportedMedia, sniff
from .models import MediaAsset, MediaDelivery, MediaSchedule, Playlist, PlaylistItem, ScreenModel

SALT = "media.link"
MAX_BYTES = 200 * 1024 * 1024
MAX_SIZE = (3840, 2160)
MIN_SIZE = (320, 240)
KNOWN_FORMATS = ("mp4", "png", "jpeg")
ANSWERED = (DeliveryStatus.CONFIRMED, DeliveryStatus.REJECTED)  # the station's word on a revision


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
def screen_model_save(
    *,
    vendor: str,
    model: str,
    has_screen: bool = True,
    max_width: int = 1920,
    max_height: int = 1080,
    formats: list[str] | None = None,
) -> ScreenModel:
    """Record (or change) what a station model's screen can show."""
    formats = [f.strip().lower() for f in formats or [] if f.strip()]
    unknown = sorted(set(formats) - set(KNOWN_FORMATS))
    if unknown:
        raise ValidationError(
            {"formats": _("Unknown formats: %(names)s") % {"names": ", ".join(unknown)}}
        )
    screen = ScreenModel.objects.filter(vendor=vendor, model=model).first() or ScreenModel(
        vendor=vendor, model=model
    )
    screen.has_screen, screen.formats = has_screen, formats
    screen.max_width, screen.max_height = max_width, max_height
    screen.full_clean()
    screen.save()
    return screen


@transaction.atomic
def playlist_create(*, name: str, items: list[tuple[MediaAsset, int]]) -> Playlist:
    """An ordered list of assets; an image needs how many seconds it stays on screen (a
    video plays to its end: 0)."""
    if not items:
        raise ValidationError({"items": _("A playlist needs at least one item.")})
    for asset, seconds in items:
        if asset.kind == AssetKind.IMAGE and not seconds:
            raise ValidationError(
                {"items": _("%(name)s: an image needs its seconds.") % {"name": asset.name}}
            )
    playlist = Playlist(name=name)
    playlist.full_clean()
    playlist.save()
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


def _refusal(schedule: MediaSchedule, station: Station) -> str:
    """Why the station cannot show the schedule ("" when it can)."""
    screen = screen_of(station)
    if screen is None:
        return _("No screen on %(model)s") % {"model": station.model or "?"}
    unplayable = [
        item.asset.name
        for item in schedule.playlist.items.select_related("asset")
        if item.asset.width > screen.max_width
        or item.asset.height > screen.max_height
        or (screen.formats and item.asset.format not in screen.formats)
    ]
    if unplayable:
        return _("Not playable on this screen: %(names)s") % {"names": ", ".join(unplayable)}
    return ""


def current_schedules() -> QuerySet[MediaSchedule]:
    """Schedules that have not ended (a day's slack: the site's date may be behind UTC's)."""
    return MediaSchedule.objects.filter(ends_on__gte=timezone.now().date() - dt.timedelta(days=1))


def delivery_plan(*, schedule: MediaSchedule, stations=None) -> list[MediaDelivery]:
    """One delivery per station of the schedule's sites (or of ``stations`` among them):
    refused when the station cannot show it, else waiting to be sent, unless it already holds
    this revision."""
    chosen = Station.objects.filter(site__in=schedule.sites.all()).select_related("site")
    if stations is not None:
        chosen = chosen.filter(pk__in=[getattr(s, "pk", s) for s in stations])
    existing = {d.station_id: d for d in MediaDelivery.objects.filter(schedule=schedule)}
    plan = []
    for station in chosen.order_by("pk"):
        delivery = existing.get(station.pk) or MediaDelivery(schedule=schedule, station=station)
        delivery.station = station
        refusal = _refusal(schedule, station)
        if refusal:
            delivery.status, delivery.detail = DeliveryStatus.REFUSED, refusal[:200]
        elif delivery.status != DeliveryStatus.SENT and not (  # (a send in flight is left be)
            delivery.status in ANSWERED and delivery.revision == schedule.revision
        ):
            delivery.status, delivery.detail = DeliveryStatus.PENDING, ""
        delivery.save()
        plan.append(delivery)
    return plan


@transaction.atomic
def schedule_publish(*, schedule: MediaSchedule) -> list[MediaDelivery]:
    """Plan the schedule's deliveries and queue each one waiting (Celery, after commit)."""
    plan = delivery_plan(schedule=schedule)
    waiting = [d.pk for d in plan if d.status == DeliveryStatus.PENDING]
    transaction.on_commit(lambda: _queue(waiting))
    return plan


def _queue(delivery_ids: list[int]) -> None:
    """Queue each delivery for a worker (called once the planning transaction committed)."""
    for delivery_id in delivery_ids:
        queue.delivery_send(delivery_id)


def schedule_deliver(*, schedule: MediaSchedule) -> list[MediaDelivery]:
    """Plan and send at once, in this process (the command line and tests): every station of
    its sites with a screen gets it, the others are recorded refused."""
    plan = delivery_plan(schedule=schedule)
    for delivery in plan:
        if delivery.status == DeliveryStatus.PENDING:
            delivery_send(delivery_id=delivery.pk)
    return [MediaDelivery.objects.select_related("station").get(pk=d.pk) for d in plan]


def delivery_send(*, delivery_id: int, statuses=UNDELIVERED) -> str:
    """Send one delivery (claimed by a conditional update: two workers never both send it)
    and record what the station answered: confirmed only when the digest of the manifest it
    fetched is the one served to it."""
    now = timezone.now()
    claimed = MediaDelivery.objects.filter(pk=delivery_id, status__in=statuses).update(
        status=DeliveryStatus.SENT,
        attempts=F("attempts") + 1,
        sent_at=now,
        served_digest="",
        confirmed_digest="",
        detail="",
    )
    if claimed != 1:
        return "not claimed"
    delivery = MediaDelivery.objects.select_related("schedule__playlist", "station__site").get(
        pk=delivery_id
    )
    schedule, station = delivery.schedule, delivery.station
    url = _base_url() + reverse(
        "media_manifest", args=[sign_link({"d": delivery.pk})], urlconf="config.urls_public"
    )
    answer = transport.send_manifest(station=station, manifest_url=url)
    served = MediaDelivery.objects.filter(pk=delivery_id).values_list("served_digest", flat=True)
    served_digest = served.first() or ""
    if answer.ok and answer.digest and answer.digest == served_digest:
        status, detail = DeliveryStatus.CONFIRMED, ""
    elif answer.ok:
        status, detail = DeliveryStatus.FAILED, _("Manifest not confirmed")
    elif answer.status in ("Rejected", "UnknownVendorId", "UnknownMessageId"):
        status, detail = DeliveryStatus.REJECTED, answer.status
    else:
        status, detail = DeliveryStatus.FAILED, answer.message
    display = ""
    if schedule.text and status == DeliveryStatus.CONFIRMED:
        zone = zoneinfo.ZoneInfo(station.site.timezone if station.site else "UTC")
        start = dt.datetime.combine(schedule.starts_on, schedule.daily_start, zone)
        end = dt.datetime.combine(schedule.ends_on, schedule.daily_end, zone)
        display = transport.send_text(
            station=station, message_id=schedule.pk, text=schedule.text, start=start, end=end
        )
    MediaDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENT).update(
        status=status,
        detail=str(detail)[:200],
        confirmed_digest=answer.digest[:64],
        display_message_status=display[:40],
        revision=schedule.revision if status in ANSWERED else F("revision"),
        answered_at=timezone.now(),
    )
    return status


@transaction.atomic
def media_schedule_update(*, schedule: MediaSchedule, sites=None, **fields) -> MediaSchedule:
    """Change a schedule: a new revision, sent again to every station that shows it."""
    for name, value in fields.items():
        setattr(schedule, name, value)
    if schedule.ends_on < schedule.starts_on:
        raise ValidationError(_("The schedule ends before it starts."))
    schedule.revision += 1
    schedule.full_clean()
    schedule.save()
    if sites is not None:
        schedule.sites.set(sites)
        # stations of sites no longer listed keep their row (history) but get nothing more
    schedule_publish(schedule=schedule)
    return schedule


# --- Sending again ----------------------------------------------------------------------------
def station_redeliver(*, station_id: int, rebooted: bool = False) -> list[int]:
    """A station came back: plan every current schedule of its site for it and queue what it
    lacks (after a reboot, everything it should show: its storage may have been wiped, e.g.
    by a firmware update).  Returns the delivery ids queued."""
    station = Station.objects.filter(pk=station_id).first()
    if station is None or station.site_id is None:
        return []
    queued = []
    with transaction.atomic():
        for schedule in current_schedules().filter(sites=station.site_id).distinct():
            for delivery in delivery_plan(schedule=schedule, stations=[station]):
                resend = rebooted and delivery.status in (
                    DeliveryStatus.CONFIRMED,
                    DeliveryStatus.REJECTED,
                )
                if delivery.status in UNDELIVERED or resend:
                    if resend:
                        MediaDelivery.objects.filter(pk=delivery.pk).update(
                            status=DeliveryStatus.PENDING
                        )
                    queued.append(delivery.pk)
        transaction.on_commit(lambda: _queue(queued))
    return queued


STUCK_AFTER = dt.timedelta(minutes=15)  # far beyond a command's timeout


def station_has_schedules(station_id: int) -> bool:
    return current_schedules().filter(sites__stations=station_id).exists()


def stations_with_schedules(station_ids) -> set[int]:
    """``station_has_schedules`` for many stations, in one query."""
    return set(
        current_schedules()
        .filter(sites__stations__in=station_ids)
        .values_list("sites__stations", flat=True)
    )


def retry_backoff(attempts: int) -> dt.timedelta:
    """Wait before sending a failed delivery again: 5 min × 2^(attempts − 1), at most a day."""
    return min(dt.timedelta(minutes=5) * 2 ** max(attempts - 1, 0), dt.timedelta(days=1))


def deliveries_retry_due(*, now: dt.datetime | None = None) -> list[int]:
    """Failed deliveries of current schedules on stations online now, once their back-off has
    passed (beat); returns the ids queued."""
    now = now or timezone.now()
    MediaDelivery.objects.filter(status=DeliveryStatus.SENT, sent_at__lt=now - STUCK_AFTER).update(
        status=DeliveryStatus.FAILED, detail=_("No answer from the station")
    )
    due = []
    rows = MediaDelivery.objects.filter(
        status=DeliveryStatus.FAILED,
        station__is_online=True,
        schedule__in=current_schedules(),
    ).values_list("pk", "attempts", "sent_at")
    for pk, attempts, sent_at in rows:
        if sent_at + retry_backoff(attempts) <= now:
            due.append(pk)
    _queue(due)
    return due
