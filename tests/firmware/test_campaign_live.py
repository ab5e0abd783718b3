"""A campaign over 200 simulated stations (1.6 and 2.0.1, mixed versions) connected over real
websockets to the platform's ASGI server: a canary, waves, a concurrency limit, a maintenance
window in each site's timezone, a session respected, a failing wave that pauses the campaign,
resuming, and the final report.  Stations really download the image from the platform, check
it (SHA-256; the signature for 2.0.1), reboot and report their new version."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
import uuid
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.firmware import services
from apps.firmware.choices import CampaignStatus, TargetStatus
from apps.firmware.models import Campaign, CampaignTarget
from apps.firmware.selectors import campaign_report
from apps.simulator.station import SimulatedStation, StationConfig
from tests.live import LoopThread, ServerProcess

from .fleet import image_bytes, sign, signer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
OPEN = [
    TargetStatus.PENDING,
    TargetStatus.SENDING,
    TargetStatus.SENT,
    TargetStatus.DOWNLOADING,
    TargetStatus.DOWNLOADED,
    TargetStatus.INSTALLING,
]
STATIONS = 200
FAILING = {  # wave 2's failures, each documented way
    "DownloadFailed": 5,
    "InvalidSignature": 5,
    "InstallationFailed": 5,
    "InstallVerificationFailed": 5,
}


@pytest.fixture(scope="module")
def live_db(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("firmware-media")


@pytest.fixture(scope="module")
def server(live_db, media_root):
    # the server serves the images the test stores: the same storage directory
    process = ServerProcess("firmware-live").start(CHARGEGRID_MEDIA_ROOT=str(media_root))
    yield process
    process.stop()


@pytest.fixture
def fleet(live_db, settings, media_root):
    from apps.stations.models import Site, Station
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import StationIdentity, Tenant

    settings.MEDIA_ROOT = str(media_root)
    tenant = Tenant.objects.get(slug="alpha")
    tag = uuid.uuid4().hex[:6].upper()
    with tenant_context(tenant):
        here = site_create(name=f"FW here {tag}", timezone="UTC")
        away = site_create(name=f"FW away {tag}", timezone="Etc/GMT-12")  # UTC+12
        stations = [
            station_register(
                identity=f"FW-{tag}-{index:03d}",
                password=f"pw-fw-{tag.lower()}-0123456789",
                site=here if index < 180 else away,
            )
            for index in range(STATIONS)
        ]
    yield tenant, stations, f"pw-fw-{tag.lower()}-0123456789", (here, away)
    with tenant_context(tenant):
        deadline = time.monotonic() + 10  # let the server record the disconnections first
        while Station.objects.filter(site__in=[here, away], is_online=True).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        Campaign.objects.filter(name__endswith=tag).delete()
        from apps.charging.models import ChargingSession
        from apps.firmware.models import FirmwareImage

        try:  # billed sessions are kept (receipts are protected): then the fleet stays too
            ChargingSession.objects.filter(station__site__in=[here, away]).delete()
            Station.objects.filter(site__in=[here, away]).delete()
        except Exception as error:  # left behind is harmless (unique names); failing is not
            warnings.warn(f"firmware fleet {tag} left in the test database: {error}", stacklevel=1)
        FirmwareImage.objects.filter(campaigns__isnull=True, version__startswith="2.0.").delete()
        if not Station.objects.filter(site__in=[here, away]).exists():
            Site.objects.filter(pk__in=[here.pk, away.pk]).delete()
    StationIdentity.objects.filter(identity__startswith=f"FW-{tag}-").delete()


def test_a_campaign_over_200_stations(server, fleet, settings):
    tenant, stations, password, (here, away) = fleet
    tag = stations[0].identity.split("-")[1]
    version = f"2.0.{int(tag, 16) % 100_000}"  # stations read the version from the file name
    settings.FIRMWARE_DOWNLOAD_BASE_URL = f"http://localhost:{server.port}"
    loop = LoopThread()
    simulated = [
        SimulatedStation(
            StationConfig(
                identity=station.identity,
                url=f"{server.ws}/ocpp/",
                password=password,
                version="2.0.1" if index % 2 else "1.6",
                firmware_version=version if index % 10 == 0 else ("1.0.0", "1.1.0")[index % 3 % 2],
                transfer_seconds=0.05,
                reboot_delay=0.1,
                download_firmware=True,
                settings={"SupportedFileTransferProtocols": "HTTP,HTTPS,FTP"},
            )
        )
        for index, station in enumerate(stations)
    ]
    by_pk = {station.pk: sim for station, sim in zip(stations, simulated, strict=True)}
    try:

        async def connect_all():
            answers = []
            for start in range(0, len(simulated), 10):
                batch = simulated[start : start + 10]
                answers += await asyncio.gather(*(sim.connect() for sim in batch))
            return answers

        connect_started = time.perf_counter()
        assert loop.run(connect_all(), timeout=300) == ["Accepted"] * STATIONS
        print(f"\n200 stations connected in {time.perf_counter() - connect_started:.1f} s")
        data = image_bytes(8192)
        key, certificate = signer()
        now = timezone.now()
        with tenant_context(tenant):
            image = services.firmware_image_upload(
                upload=SimpleUploadedFile("fw.bin", data),
                vendor="ChargeGrid",
                model="SimCharger AC",
                version=version,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                signature=sign(key, data),
                signing_certificate=certificate,
            )
            from apps.stations.models import Station

            chosen = Station.objects.filter(site__in=[here, away], model="SimCharger AC")
            campaign = services.campaign_create(
                name=f"Rollout {tag}",
                image=image,
                stations=chosen,
                canary_count=2,
                wave_percents=[10, 50],
                concurrency=40,
                failure_threshold_percent=20,
                max_attempts=2,
                retry_backoff_seconds=1,
                window_start=(now - dt.timedelta(hours=2)).time(),  # open here, closed away
                window_end=(now + dt.timedelta(hours=2)).time(),
            )
            targets = list(CampaignTarget.objects.filter(campaign=campaign))
        waves = {t.station_id: t.wave for t in targets if t.status == TargetStatus.PENDING}
        assert len(targets) == STATIONS and len(waves) == 180  # 20 already on the version
        assert sorted(waves.values()).count(0) == 2
        # wave 2 fails in every documented way; one wave-1 station has a session running
        wave2 = [pk for pk, wave in waves.items() if wave == 2]
        failing = {}
        for (failure, count), start in zip(FAILING.items(), range(0, 20, 5), strict=True):
            for pk in wave2[start : start + count]:
                by_pk[pk].config.firmware_failure = failure
                failing[pk] = failure
        busy_pk = next(pk for pk, wave in waves.items() if wave == 1)
        busy = by_pk[busy_pk]
        from apps.charging.services import token_create
        from apps.simulator.physics import Vehicle

        with tenant_context(tenant):
            token_create(uid=f"FW{tag}")
        loop.run(busy.plug_in(1, Vehicle(soc=20)))
        loop.run(busy.start_session(1, f"FW{tag}"))

        def tick(at=None):
            with tenant_context(tenant):
                result = services.campaign_tick(campaign_id=campaign.pk, now=at)
                in_flight = CampaignTarget.objects.filter(
                    campaign=campaign, status__in=OPEN[1:]
                ).count()
            assert in_flight <= 40, f"{in_flight} updates in flight"
            return result

        def run_until(predicate, timeout=240, at=None):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                result = tick(at)
                if predicate(result):
                    return result
                time.sleep(0.3)
            raise AssertionError(f"campaign stuck: {result}")

        with tenant_context(tenant):
            services.campaign_start(campaign=campaign)
        started = time.perf_counter()

        def wave1_waits_for_the_session(result) -> bool:
            with tenant_context(tenant):
                others = CampaignTarget.objects.filter(campaign=campaign, wave__lte=1).exclude(
                    station_id=busy_pk
                )
                return (
                    result.waiting_session > 0
                    and not others.exclude(
                        status__in=[TargetStatus.UPGRADED, TargetStatus.SKIPPED]
                    ).exists()
                )

        # canary, then wave 1 go through; the station with a session waits for it to end
        run_until(wave1_waits_for_the_session)
        with tenant_context(tenant):
            waiting = CampaignTarget.objects.get(campaign=campaign, station_id=busy_pk)
            assert waiting.status == TargetStatus.PENDING and waiting.attempts == 0
            assert not CampaignTarget.objects.filter(campaign=campaign, wave=2, attempts__gt=0)
        loop.run(busy.stop_session(1))
        run_until(lambda r: r.status == CampaignStatus.PAUSED)
        with tenant_context(tenant):
            campaign.refresh_from_db()
            assert campaign.pause_reason.startswith("Wave 2:"), (
                campaign.pause_reason,
                campaign_report(campaign=campaign).failure_reasons,
            )
            rows = {t.station_id: t for t in CampaignTarget.objects.filter(campaign=campaign)}
        # canary and wave 1 all through, the busy station too once its session ended
        assert all(rows[pk].status == TargetStatus.UPGRADED for pk, w in waves.items() if w < 2)
        # the away site is outside its window: none of its stations was touched
        away_pks = {station.pk for station in stations[180:]}
        away_rows = [t for t in rows.values() if t.station_id in away_pks]
        assert all(t.attempts == 0 for t in away_rows)

        # the operator fixes the cause and resumes
        for pk in failing:
            by_pk[pk].config.firmware_failure = ""
        with tenant_context(tenant):
            services.campaign_resume(campaign=campaign)

        def only_away_left(result) -> bool:
            with tenant_context(tenant):
                return (
                    result.wave == 3
                    and not CampaignTarget.objects.filter(
                        campaign=campaign, station__site=here, status__in=OPEN
                    ).exists()
                )

        last = run_until(only_away_left)
        assert last.waiting_window > 0
        with tenant_context(tenant):
            assert not CampaignTarget.objects.filter(
                campaign=campaign, station__site=away, attempts__gt=0
            ).exists()
        # the away site's window opens 12 hours later (their 02:00 is our 02:00 UTC + 12 h)
        later = timezone.now() + dt.timedelta(hours=12)
        done = run_until(lambda r: r.status == CampaignStatus.COMPLETED, at=later)
        elapsed = time.perf_counter() - started
        assert done.status == CampaignStatus.COMPLETED

        with tenant_context(tenant):
            campaign.refresh_from_db()
            report = campaign_report(campaign=campaign)
            upgraded = list(
                CampaignTarget.objects.filter(
                    campaign=campaign, status=TargetStatus.UPGRADED
                ).select_related("station")
            )
        counts = report.counts
        print(f"\n200 stations: {counts} in {elapsed:.1f} s; failures: {report.failure_reasons}")
        assert counts.get(TargetStatus.SKIPPED) == 20
        assert counts.get(TargetStatus.UPGRADED, 0) + counts.get(TargetStatus.FAILED, 0) == 180
        assert counts.get(TargetStatus.FAILED, 0) >= 15  # > 20 % of wave 2 (71) paused it
        assert 0 < report.progress <= 100
        assert all(t.progress == 100 for t in upgraded)
        reasons = " ".join(report.failure_reasons)
        for words in ("download failed", "signature is invalid", "installation failed"):
            assert words in reasons.lower(), reasons
        for target in upgraded:
            assert target.station.firmware_version == version == target.to_version
            assert by_pk[target.station_id].firmware_version == version
        for pk in failing:
            if rows[pk].status == TargetStatus.FAILED:
                assert by_pk[pk].firmware_version != version
    finally:

        async def close_all():
            await asyncio.gather(*(sim.close() for sim in simulated), return_exceptions=True)

        loop.run(close_all(), timeout=120)
        loop.stop()
