"""Writes of firmware updates: the catalogue, campaigns, the scheduler tick and what stations
report.  The scheduling rules are in docs/firmware.md; in short:

1. Waves run in order: the wave in progress is the lowest one with a target in flight or a
   target waiting on an online station.  Waiting targets of earlier waves (a station that was
   offline) are picked up whenever they come back.
2. At most ``concurrency`` targets are in flight at once.
3. A target starts only inside its site's maintenance window (site's local time), on an
   online station, with no session running unless the campaign is forced.
4. A failed attempt is retried after ``retry_backoff_seconds`` × 2^(attempt − 1) until
   ``max_attempts``; then the target has failed.
5. When the failed targets of the wave in progress exceed ``failure_threshold_percent`` of
   it, the campaign pauses itself.
6. A campaign completes when no target is in flight and none waits on an online station;
   stations still offline are reported skipped.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.stations.models import Station

from . import conf, links, transport
from .choices import FAILURES, FINAL, IN_FLIGHT, INSTALLED, STATION_STATUS, CampaignStatus
from .choices import TargetStatus as T
from .models import Campaign, CampaignTarget, FirmwareImage
from .signing import SignatureError, sha256_of, verify_signature
from .waves import assign_waves


# --- Catalogue --------------------------------------------------------------------------------
@transaction.atomic
def firmware_image_upload(
    *,
    upload,
    vendor: str,
    model: str,
    version: str,
    sha256: str,
    size: int | None = None,
    signature: str = "",
    signing_certificate: str = "",
    notes: str = "",
) -> FirmwareImage:
    """Store an image after checking its size and SHA-256 against what the uploader declares
    and, when signed, its signature against the signing certificate."""
    upload.seek(0)
    digest, actual_size = sha256_of(
        upload.chunks() if hasattr(upload, "chunks") else [upload.read()]
    )
    if actual_size == 0:
        raise ValidationError({"file": _("The image is empty.")})
    if actual_size > conf.max_image_bytes():
        raise ValidationError({"file": _("The image is too large.")})
    if size is not None and size != actual_size:
        raise ValidationError(
            {
                "size": _("The file has %(actual)s bytes, not %(size)s.")
                % {"actual": actual_size, "size": size}
            }
        )
    if digest != sha256.strip().lower():
        raise ValidationError(
            {"sha256": _("The file's SHA-256 is %(digest)s.") % {"digest": digest}}
        )
    if bool(signature) != bool(signing_certificate):
        raise ValidationError(_("A signed image needs both its signature and its certificate."))
    if signature:
        upload.seek(0)
        try:
            verify_signature(
                data=upload.read(), signature_b64=signature, certificate_pem=signing_certificate
            )
        except SignatureError as error:
            raise ValidationError({"signature": str(error)}) from error
    image = FirmwareImage(
        vendor=vendor,
        model=model,
        version=version,
        size=actual_size,
        sha256=digest,
        signature=signature.strip(),
        signing_certificate=signing_certificate.strip(),
        notes=notes,
    )
    upload.seek(0)
    image.file.save(f"fw-{version}.bin", upload, save=False)
    image.full_clean()
    image.save()
    return image


# --- Campaigns --------------------------------------------------------------------------------
@transaction.atomic
def campaign_create(
    *,
    name: str,
    image: FirmwareImage,
    stations: QuerySet[Station],
    canary_count: int = 1,
    wave_percents: list[int] | tuple[int, ...] = (50,),
    concurrency: int = 10,
    failure_threshold_percent: int = 20,
    max_attempts: int = 3,
    retry_backoff_seconds: int = 300,
    window_start: dt.time | None = None,
    window_end: dt.time | None = None,
    force: bool = False,
    target_filter: dict | None = None,
    created_by: str = "",
) -> Campaign:
    """A draft campaign over ``stations`` (already chosen and scoped by the caller); stations
    already on the image's version are recorded as skipped."""
    if (window_start is None) != (window_end is None):
        raise ValidationError(_("A maintenance window needs a start and an end."))
    campaign = Campaign(
        name=name,
        image=image,
        target_filter=target_filter or {},
        canary_count=canary_count,
        wave_percents=list(wave_percents),
        concurrency=concurrency,
        failure_threshold_percent=failure_threshold_percent,
        max_attempts=max_attempts,
        retry_backoff_seconds=retry_backoff_seconds,
        window_start=window_start,
        window_end=window_end,
        force=force,
        created_by=created_by,
    )
    campaign.full_clean()
    campaign.save()
    chosen = list(stations.order_by("pk").values_list("pk", "firmware_version"))
    todo = [(pk, version) for pk, version in chosen if version != image.version]
    waves = assign_waves(len(todo), canary=canary_count, percents=wave_percents)
    rows = [
        CampaignTarget(campaign=campaign, station_id=pk, wave=wave, from_version=version)
        for (pk, version), wave in zip(todo, waves, strict=True)
    ]
    rows += [
        CampaignTarget(
            campaign=campaign,
            station_id=pk,
            status=T.SKIPPED,
            reason=_("Already on %(version)s") % {"version": version},
            from_version=version,
            to_version=version,
            progress=100,
            finished_at=timezone.now(),
        )
        for pk, version in chosen
        if version == image.version
    ]
    CampaignTarget.objects.bulk_create(rows, batch_size=1000)
    return campaign


def _set_status(campaign: Campaign, status: str, *, allowed: set[str], **fields) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in allowed:
            raise ValidationError(
                _("The campaign is %(status)s.") % {"status": campaign.get_status_display()}
            )
        campaign.status = status
        for name, value in fields.items():
            setattr(campaign, name, value)
        campaign.save()
    return campaign


def campaign_start(*, campaign: Campaign) -> Campaign:
    return _set_status(
        campaign,
        CampaignStatus.RUNNING,
        allowed={CampaignStatus.DRAFT},
        started_at=timezone.now(),
    )


def campaign_pause(*, campaign: Campaign, reason: str = "") -> Campaign:
    return _set_status(
        campaign,
        CampaignStatus.PAUSED,
        allowed={CampaignStatus.RUNNING},
        pause_reason=reason or _("Paused by hand"),
    )


def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Carry on; the wave that paused it is judged again only on new failures (its failed
    targets are taken as accepted by the person resuming)."""
    with transaction.atomic():
        campaign = _set_status(
            campaign, CampaignStatus.RUNNING, allowed={CampaignStatus.PAUSED}, pause_reason=""
        )
        failed = (
            CampaignTarget.objects.filter(campaign=campaign, status=T.FAILED)
            .values("wave")
            .annotate(n=Count("pk"))
            .order_by()
        )
        campaign.target_filter = {
            **campaign.target_filter,
            "accepted_failures": {str(row["wave"]): row["n"] for row in failed},
        }
        campaign.save(update_fields=["target_filter"])
    return campaign


def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Stop: targets not started are cancelled; updates in flight finish on their own."""
    with transaction.atomic():
        campaign = _set_status(
            campaign,
            CampaignStatus.CANCELLED,
            allowed={CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED},
            finished_at=timezone.now(),
        )
        CampaignTarget.objects.filter(campaign=campaign, status=T.PENDING).update(
            status=T.CANCELLED, reason=_("Campaign cancelled"), finished_at=timezone.now()
        )
    return campaign


# --- The scheduler ----------------------------------------------------------------------------
@dataclass
class TickResult:
    campaign_id: int
    status: str = ""
    wave: int | None = None
    started: list[int] = field(default_factory=list)  # target ids sent this tick
    waiting_window: int = 0
    waiting_session: int = 0


def in_window(campaign: Campaign, site_timezone: str, now: dt.datetime) -> bool:
    if campaign.window_start is None or campaign.window_end is None:
        return True
    local = now.astimezone(zoneinfo.ZoneInfo(site_timezone or "UTC")).time()
    start, end = campaign.window_start, campaign.window_end
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # a window across midnight


def campaign_tick(*, campaign_id: int, now: dt.datetime | None = None) -> TickResult:
    """One scheduling step (beat runs it every few seconds for each running campaign): claim
    the targets that may start now, then send their updates outside the transaction."""
    now = now or timezone.now()
    result = TickResult(campaign_id=campaign_id)
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(skip_locked=True)
            .select_related("image")
            .filter(pk=campaign_id)
            .first()
        )
        if campaign is None or campaign.status != CampaignStatus.RUNNING:
            result.status = campaign.status if campaign else ""
            return result
        _expire_silent(campaign, timezone.now())  # report times are real, whatever ``now`` is
        targets = CampaignTarget.objects.filter(campaign=campaign)
        in_flight = targets.filter(status__in=IN_FLIGHT).count()
        waiting = targets.filter(status=T.PENDING, station__is_online=True)
        waves = list(
            targets.filter(status__in=IN_FLIGHT).values_list("wave", flat=True).distinct()
        ) + list(waiting.values_list("wave", flat=True).distinct())
        if not waves:
            _complete(campaign, now)
            result.status = campaign.status
            return result
        wave = min(waves)
        result.wave = wave
        reason = _wave_failure(campaign, wave)
        if reason:
            campaign.status, campaign.pause_reason = CampaignStatus.PAUSED, reason
            campaign.save(update_fields=["status", "pause_reason"])
            result.status = campaign.status
            return result
        slots = campaign.concurrency - in_flight
        if slots > 0:
            result.started = _claim(campaign, wave, slots, now, result)
        result.status = campaign.status
    image = campaign.image
    for target in CampaignTarget.objects.select_related("station").filter(pk__in=result.started):
        accepted, message = transport.send_update(
            station=target.station,
            location=links.download_url(image=image, target_id=target.pk),
            request_id=target.pk,
            signature=image.signature,
            certificate=image.signing_certificate,
        )
        if accepted:
            CampaignTarget.objects.filter(pk=target.pk, status=T.SENDING).update(
                status=T.SENT, progress=5, updated_at=timezone.now()
            )
        else:
            attempt_failed(target_id=target.pk, reason=message)
    return result


def _claim(campaign, wave: int, slots: int, now, result: TickResult) -> list[int]:
    candidates = (
        CampaignTarget.objects.filter(
            campaign=campaign, status=T.PENDING, wave__lte=wave, station__is_online=True
        )
        .exclude(next_attempt_at__gt=now)
        .select_related("station__site")
        .order_by("wave", "pk")
    )
    busy = set()
    if not campaign.force:
        busy = set(
            ChargingSession.objects.filter(
                status=SessionStatus.ACTIVE,
                station_id__in=candidates.values("station_id"),
            ).values_list("station_id", flat=True)
        )
    claimed: list[int] = []
    for target in candidates.iterator(chunk_size=500):
        if len(claimed) >= slots:
            break
        site = target.station.site
        if not in_window(campaign, site.timezone if site else "UTC", now):
            result.waiting_window += 1
            continue
        if target.station_id in busy:
            result.waiting_session += 1
            continue
        won = CampaignTarget.objects.filter(pk=target.pk, status=T.PENDING).update(
            status=T.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            progress=0,
            station_status="",
            updated_at=now,
        )
        if won == 1:
            claimed.append(target.pk)
    return claimed


def _wave_failure(campaign: Campaign, wave: int) -> str:
    """Why the campaign must pause: a wave up to the one in progress whose failures (beyond
    those accepted by whoever resumed it) exceed the threshold."""
    rows = (
        CampaignTarget.objects.filter(campaign=campaign, wave__lte=wave)
        .exclude(status=T.SKIPPED)
        .values("wave")
        .annotate(size=Count("pk"), failed=Count("pk", filter=Q(status=T.FAILED)))
        .order_by("wave")
    )
    accepted = campaign.target_filter.get("accepted_failures", {})
    for row in rows:
        failed = row["failed"] - int(accepted.get(str(row["wave"]), 0))
        if failed * 100 > campaign.failure_threshold_percent * row["size"]:
            return _(
                "Wave %(wave)s: %(failed)s of %(size)s stations failed (limit %(limit)s%%)."
            ) % {
                "wave": row["wave"],
                "failed": row["failed"],
                "size": row["size"],
                "limit": campaign.failure_threshold_percent,
            }
    return ""


def _expire_silent(campaign: Campaign, now: dt.datetime) -> None:
    silent = CampaignTarget.objects.filter(
        campaign=campaign,
        status__in=IN_FLIGHT,
        updated_at__lt=now - dt.timedelta(seconds=conf.report_timeout()),
    ).values_list("pk", flat=True)
    for target_id in list(silent):
        attempt_failed(target_id=target_id, reason=_("No report from the station in time"))


def _complete(campaign: Campaign, now: dt.datetime) -> None:
    CampaignTarget.objects.filter(campaign=campaign, status=T.PENDING).update(
        status=T.SKIPPED, reason=_("Station offline"), finished_at=now
    )
    campaign.status, campaign.finished_at = CampaignStatus.COMPLETED, now
    campaign.save(update_fields=["status", "finished_at"])


# --- What stations report ---------------------------------------------------------------------
@transaction.atomic
def attempt_failed(*, target_id: int, reason: str, station_status: str = "") -> None:
    target = (
        CampaignTarget.objects.select_for_update()
        .select_related("campaign")
        .filter(pk=target_id)
        .first()
    )
    if target is None or target.status in FINAL:
        return
    campaign = target.campaign
    now = timezone.now()
    target.reason = str(reason)[:200]
    target.station_status = station_status or target.station_status
    if target.attempts < campaign.max_attempts and campaign.status != CampaignStatus.CANCELLED:
        target.status = T.PENDING
        backoff = campaign.retry_backoff_seconds * 2 ** max(target.attempts - 1, 0)
        target.next_attempt_at = now + dt.timedelta(seconds=backoff)
    else:
        target.status, target.finished_at = T.FAILED, now
    target.save()


@transaction.atomic
def firmware_status_record(*, station_id: int, status: str, request_id: int | None) -> None:
    """A station's FirmwareStatusNotification moves its update along (2.0.1: the target its
    ``requestId`` names; 1.6: the station's update in flight)."""
    targets = CampaignTarget.objects.select_for_update().filter(
        station_id=station_id, status__in=IN_FLIGHT
    )
    if request_id is not None:
        targets = targets.filter(pk=request_id)
    target = targets.select_related("campaign__image").order_by("-pk").first()
    if target is None:
        return
    now = timezone.now()
    if status in STATION_STATUS:
        target.status, target.progress = STATION_STATUS[status]
        target.station_status = status
        target.save(update_fields=["status", "progress", "station_status", "updated_at"])
    elif status == INSTALLED:
        version = Station.objects.filter(pk=station_id).values_list("firmware_version", flat=True)
        version = version.first() or ""
        expected = target.campaign.image.version
        if version != expected:
            attempt_failed(
                target_id=target.pk,
                reason=_("Reports version %(version)s after installing %(expected)s")
                % {"version": version or "?", "expected": expected},
                station_status=status,
            )
            return
        target.status, target.progress, target.station_status = T.UPGRADED, 100, status
        target.to_version, target.finished_at, target.reason = version, now, ""
        target.save()
    elif status in FAILURES:
        attempt_failed(target_id=target.pk, reason=str(FAILURES[status]), station_status=status)
