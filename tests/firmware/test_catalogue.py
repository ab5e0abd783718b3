"""The catalogue and the scheduler's rules, without stations (database only)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from apps.firmware import links, services
from apps.firmware.choices import CampaignStatus, TargetStatus
from apps.firmware.models import Campaign, CampaignTarget
from apps.firmware.waves import assign_waves
from apps.stations.models import Station
from apps.stations.services import site_create, station_register
from tests.live import unique_identity

from .fleet import image_bytes, sign, signer


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(data: bytes, **kw):
    defaults = {
        "vendor": "ChargeGrid",
        "model": "SimCharger AC",
        "version": "2.0.0",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    return services.firmware_image_upload(
        upload=SimpleUploadedFile("image.bin", data), **{**defaults, **kw}
    )


def test_waves_canary_then_cumulative_percentages():
    waves = assign_waves(200, canary=2, percents=[10, 50])
    assert [waves.count(w) for w in range(4)] == [2, 20, 79, 99]
    assert waves == sorted(waves)
    assert assign_waves(3, canary=5, percents=[50]) == [0, 0, 0]
    assert assign_waves(10, canary=0, percents=[]) == [1] * 10


def test_an_image_is_checked_at_upload(alpha):
    data = image_bytes()
    image = upload(data)
    assert image.size == len(data) and image.file.read() == data
    with pytest.raises(ValidationError, match="SHA-256"):
        upload(data, version="2.0.1", sha256="0" * 64)
    with pytest.raises(ValidationError, match="bytes"):
        upload(data, version="2.0.2", size=len(data) + 1)


def test_a_signed_image_needs_a_valid_signature(alpha):
    data = image_bytes()
    key, certificate = signer()
    image = upload(data, signature=sign(key, data), signing_certificate=certificate)
    assert image.signed
    other_key, _ = signer()
    with pytest.raises(ValidationError, match="signature"):
        upload(
            data, version="2.0.9", signature=sign(other_key, data), signing_certificate=certificate
        )


def test_download_links_work_until_they_expire(alpha, settings):
    data = image_bytes()
    image = upload(data)
    settings.FIRMWARE_DOWNLOAD_BASE_URL = "http://localhost"
    url = links.download_url(image=image, target_id=7)
    path = url.removeprefix("http://localhost")
    response = Client(HTTP_HOST="localhost").get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["X-Checksum-SHA256"] == hashlib.sha256(data).hexdigest()
    assert Client(HTTP_HOST="localhost").get(path.replace("/fw-", "x/fw-")).status_code == 404
    settings.FIRMWARE_LINK_SECONDS = -1
    assert Client(HTTP_HOST="localhost").get(path).status_code == 404


def make_stations(site, count, version="1.0.0"):
    stations = []
    for _ in range(count):
        station = station_register(identity=unique_identity("FW"), password=None, site=site)
        stations.append(station)
    Station.objects.filter(pk__in=[s.pk for s in stations]).update(
        firmware_version=version, is_online=True, ocpp_version="1.6"
    )
    return stations


def test_scheduling_rules_without_stations(alpha, monkeypatch):
    """Concurrency, the site's maintenance window, sessions, retries with back-off, the
    failure-rate pause and the report, with the transport replaced by a recorder."""
    from apps.charging.models import ChargingSession
    from apps.firmware import transport

    sent = []
    monkeypatch.setattr(
        transport, "send_update", lambda **kw: sent.append(kw["request_id"]) or (True, "")
    )
    inside = site_create(name="Inside", timezone="UTC")
    outside = site_create(name="Outside", timezone="Etc/GMT-12")  # UTC+12
    now = timezone.now()  # back-offs count from the moment a failure is reported
    a = make_stations(inside, 8)
    b = make_stations(outside, 2)
    done = make_stations(inside, 1, version="2.0.0")
    image = upload(image_bytes())
    busy = a[1]
    ChargingSession.objects.create(
        station=busy, evse=busy.evses.first(), started_at=now, status="active"
    )
    campaign = services.campaign_create(
        name="Rollout",
        image=image,
        stations=Station.objects.all(),
        canary_count=2,
        wave_percents=[50],
        concurrency=3,
        failure_threshold_percent=25,
        max_attempts=2,
        retry_backoff_seconds=60,
        window_start=(now - dt.timedelta(hours=2)).time(),  # UTC: open; UTC+12: closed
        window_end=(now + dt.timedelta(hours=2)).time(),
    )
    targets = {t.station_id: t for t in CampaignTarget.objects.filter(campaign=campaign)}
    assert targets[done[0].pk].status == TargetStatus.SKIPPED
    services.campaign_start(campaign=campaign)

    # canary: a[0] and a[1]; a[1] has a session → only a[0] starts
    result = services.campaign_tick(campaign_id=campaign.pk, now=now)
    assert result.wave == 0 and result.waiting_session == 1
    assert sent == [targets[a[0].pk].pk]
    services.firmware_status_record(station_id=a[0].pk, status="Downloading", request_id=None)
    assert CampaignTarget.objects.get(pk=targets[a[0].pk].pk).progress == 30
    Station.objects.filter(pk=a[0].pk).update(firmware_version="2.0.0")
    services.firmware_status_record(station_id=a[0].pk, status="Installed", request_id=None)
    assert CampaignTarget.objects.get(pk=targets[a[0].pk].pk).status == TargetStatus.UPGRADED
    # the wave waits for the busy station: nothing of wave 1 starts meanwhile
    assert services.campaign_tick(campaign_id=campaign.pk, now=now).started == []
    ChargingSession.objects.filter(station=busy).update(status="completed")
    assert services.campaign_tick(campaign_id=campaign.pk, now=now).started == [targets[busy.pk].pk]
    # a download failure is retried after the back-off, then fails for good
    services.firmware_status_record(station_id=busy.pk, status="DownloadFailed", request_id=None)
    target = CampaignTarget.objects.get(pk=targets[busy.pk].pk)
    assert target.status == TargetStatus.PENDING and target.attempts == 1
    assert services.campaign_tick(campaign_id=campaign.pk, now=now).started == []  # backing off
    later = now + dt.timedelta(seconds=61)
    assert services.campaign_tick(campaign_id=campaign.pk, now=later).started == [target.pk]
    services.firmware_status_record(
        station_id=busy.pk, status="InstallationFailed", request_id=None
    )
    target.refresh_from_db()
    assert target.status == TargetStatus.FAILED and target.attempts == 2
    # 1 of 2 canaries failed (50 % > 25 %): the campaign pauses itself
    result = services.campaign_tick(campaign_id=campaign.pk, now=later)
    assert result.status == CampaignStatus.PAUSED
    assert "Wave 0: 1 of 2" in Campaign.objects.get(pk=campaign.pk).pause_reason
    services.campaign_resume(campaign=campaign)
    # wave 1: the concurrency limit (3) and the window (closed at Outside, 12 h ahead)
    result = services.campaign_tick(campaign_id=campaign.pk, now=later)
    assert result.wave == 1 and len(result.started) == 3
    assert services.campaign_tick(campaign_id=campaign.pk, now=later).started == []
    for target in CampaignTarget.objects.filter(pk__in=result.started):
        services.firmware_status_record(
            station_id=target.station_id, status="Installed", request_id=None
        )  # reports the old version: not upgraded
    reasons = set(
        CampaignTarget.objects.filter(pk__in=result.started).values_list("reason", flat=True)
    )
    assert reasons == {"Reports version 1.0.0 after installing 2.0.0"}
    services.campaign_cancel(campaign=campaign)
    report_statuses = set(
        CampaignTarget.objects.filter(campaign=campaign).values_list("status", flat=True)
    )
    assert TargetStatus.CANCELLED in report_statuses
    assert not CampaignTarget.objects.filter(
        station__in=b, status__in=[TargetStatus.SENT, TargetStatus.SENDING]
    ).exists()


def test_beat_ticks_every_running_campaign(alpha, monkeypatch):
    from apps.firmware import tasks
    from config.celery import _merge_app_schedules, app

    _merge_app_schedules(sender=app)
    entry = app.conf.beat_schedule["firmware-campaigns-tick"]
    assert entry["task"] == "core.fan_out" and entry["args"] == ("firmware.tick_campaigns",)
    image = upload(image_bytes())
    running = services.campaign_create(name="R", image=image, stations=Station.objects.none())
    services.campaign_start(campaign=running)
    services.campaign_create(name="D", image=image, stations=Station.objects.none())
    ticked = []
    monkeypatch.setattr(services, "campaign_tick", lambda campaign_id: ticked.append(campaign_id))
    assert tasks.campaigns_tick() == 1 and ticked == [running.pk]
