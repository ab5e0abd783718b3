"""Video content: validation, and a schedule delivered to simulated screen stations over
real websockets (1.6 and 2.0.1), confirmed by each, refused on a station without a screen."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.media import services
from apps.media.choices import AssetKind, DeliveryStatus
from apps.media.formats import sniff
from apps.media.models import ScreenModel
from apps.simulator.station import SimulatedStation, StationConfig
from tests.live import LoopThread, ServerProcess

from .files import mp4, png


def upload(name, data, thumbnail=None):
    return services.media_asset_upload(
        name=name,
        upload=SimpleUploadedFile(name, data),
        thumbnail=SimpleUploadedFile("t.png", thumbnail) if thumbnail else None,
    )


def test_formats_are_read_from_the_bytes():
    assert (sniff(png(640, 480)).format, sniff(png(640, 480)).width) == ("png", 640)
    info = sniff(mp4(1920, 1080))
    assert (info.kind, info.format, info.width, info.height) == ("video", "mp4", 1920, 1080)


def test_assets_are_validated(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = upload("poster.png", png(800, 600))
    assert image.kind == AssetKind.IMAGE and (image.width, image.height) == (800, 600)
    assert image.thumbnail.read() == png(800, 600)
    video = upload("spot.mp4", mp4(1280, 720), thumbnail=png(320, 240))
    assert video.kind == AssetKind.VIDEO and video.thumbnail.name.endswith(".png")
    with pytest.raises(ValidationError, match="thumbnail"):
        upload("spot.mp4", mp4(1280, 720))
    with pytest.raises(ValidationError, match="3840"):
        upload("huge.png", png(4000, 300))
    with pytest.raises(ValidationError, match="320"):
        upload("tiny.png", png(100, 100))
    with pytest.raises(ValidationError, match="MP4"):
        upload("doc.gif", b"GIF89a" + b"\x00" * 100)


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, media_root):
    with django_db_blocker.unblock():
        process = ServerProcess("media-live").start(CHARGEGRID_MEDIA_ROOT=str(media_root))
        yield process
        process.stop()


def test_a_schedule_reaches_screens_and_is_refused_elsewhere(
    server, django_db_blocker, settings, media_root
):
    from apps.stations.models import Site, Station
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import StationIdentity, Tenant

    settings.MEDIA_ROOT = str(media_root)
    settings.MEDIA_DOWNLOAD_BASE_URL = f"http://localhost:{server.port}"
    tag = uuid.uuid4().hex[:6].upper()
    password = f"pw-media-{tag.lower()}-0123456789"
    specs = [
        ("1.6", "SimScreen", True),
        ("2.0.1", "SimScreen", True),
        ("1.6", "SimCharger AC", False),
    ]
    loop = LoopThread()
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            site = site_create(name=f"Media {tag}", timezone="America/Vancouver")
            stations = [
                station_register(identity=f"MD-{tag}-{i}", password=password, site=site)
                for i in range(len(specs))
            ]
            ScreenModel.objects.get_or_create(
                vendor="ChargeGrid",
                model="SimScreen",
                defaults={"formats": ["mp4", "png", "jpeg"], "max_width": 1920, "max_height": 1080},
            )
        simulated = [
            SimulatedStation(
                StationConfig(
                    identity=station.identity,
                    url=f"{server.ws}/ocpp/",
                    password=password,
                    version=version,
                    model=model,
                    screen=screen,
                )
            )
            for station, (version, model, screen) in zip(stations, specs, strict=True)
        ]
        try:
            for sim in simulated:
                assert loop.run(sim.connect()) == "Accepted"
            with tenant_context(tenant):
                poster = upload("poster.png", png(1280, 720))
                spot = upload("spot.mp4", mp4(1920, 1080), thumbnail=png(480, 270))
                playlist = services.playlist_create(name="Winter", items=[(spot, 0), (poster, 8)])
                schedule = services.media_schedule_create(
                    playlist=playlist,
                    sites=[site],
                    starts_on=dt.date(2026, 12, 1),
                    ends_on=dt.date(2027, 2, 28),
                    daily_start=dt.time(7, 0),
                    daily_end=dt.time(22, 0),
                    priority=5,
                    text="Free coffee while you charge",
                )
                deliveries = services.schedule_deliver(schedule=schedule)
            by_station = {d.station_id: d for d in deliveries}
            screen16, screen201, plain = (by_station[s.pk] for s in stations)
            assert screen16.status == DeliveryStatus.CONFIRMED, screen16.detail
            assert screen201.status == DeliveryStatus.CONFIRMED, screen201.detail
            assert screen16.confirmed_digest == screen16.served_digest != ""
            assert plain.status == DeliveryStatus.REFUSED and "No screen" in plain.detail
            assert screen201.display_message_status == "Accepted"
            # what the stations themselves hold
            manifest = simulated[0].media_manifests[schedule.pk]
            assert manifest["timezone"] == "America/Vancouver" and manifest["priority"] == 5
            assert [item["format"] for item in manifest["items"]] == ["mp4", "png"]
            assert simulated[1].display_messages[schedule.pk]["message"]["content"] == (
                "Free coffee while you charge"
            )
            assert simulated[2].calls_received("DataTransfer") == []
        finally:
            for sim in simulated:
                loop.run(sim.close())
            loop.stop()
            with tenant_context(tenant):
                try:
                    Station.objects.filter(site=site).delete()
                    Site.objects.filter(pk=site.pk).delete()
                except Exception as error:
                    warnings.warn(f"media site {tag} left behind: {error}", stacklevel=1)
            StationIdentity.objects.filter(identity__startswith=f"MD-{tag}-").delete()


@pytest.mark.slow
def test_content_is_sent_again_to_a_station_that_was_offline_reboots_or_gets_a_change(
    server, django_db_blocker, settings, media_root, monkeypatch
):
    """A screen offline at publication is not delivered; when it connects it gets the
    schedule; after a reboot that wiped it, it gets it again; a change to the schedule is a new
    revision that every screen gets.  (Celery is replaced by sending in this process: the
    queueing itself is tested below.)"""
    from apps.stations.models import Site, Station
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import StationIdentity, Tenant

    monkeypatch.setattr(
        services, "_queue", lambda ids: [services.delivery_send(delivery_id=i) for i in ids]
    )
    settings.MEDIA_ROOT = str(media_root)
    settings.MEDIA_DOWNLOAD_BASE_URL = f"http://localhost:{server.port}"
    tag = uuid.uuid4().hex[:6].upper()
    password = f"pw-media-{tag.lower()}-0123456789"
    loop = LoopThread()
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        with tenant_context(tenant):
            site = site_create(name=f"Media again {tag}", timezone="Europe/Paris")
            station = station_register(identity=f"MR-{tag}", password=password, site=site)
            Station.objects.filter(pk=station.pk).update(vendor="ChargeGrid", model="SimScreen")
            ScreenModel.objects.get_or_create(
                vendor="ChargeGrid",
                model="SimScreen",
                defaults={"formats": ["mp4", "png", "jpeg"], "max_width": 1920, "max_height": 1080},
            )
            poster = upload("poster.png", png(1280, 720))
            playlist = services.playlist_create(name="Spring", items=[(poster, 8)])
            schedule = services.media_schedule_create(
                playlist=playlist,
                sites=[site],
                starts_on=dt.datetime.now(dt.UTC).date(),
                ends_on=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30),
                daily_start=dt.time(7, 0),
                daily_end=dt.time(22, 0),
                priority=3,
            )
            [offline] = services.schedule_deliver(schedule=schedule)
            assert offline.status == DeliveryStatus.FAILED and offline.attempts == 1
        sim = SimulatedStation(
            StationConfig(
                identity=f"MR-{tag}",
                url=f"{server.ws}/ocpp/",
                password=password,
                version="1.6",
                model="SimScreen",
                screen=True,
            )
        )
        try:
            assert loop.run(sim.connect()) == "Accepted"
            with tenant_context(tenant):
                assert services.station_has_schedules(station.pk)
                assert services.station_redeliver(station_id=station.pk) == [offline.pk]
                delivery = services.MediaDelivery.objects.get(pk=offline.pk)
                assert delivery.status == DeliveryStatus.CONFIRMED, delivery.detail
                assert (delivery.revision, delivery.attempts) == (1, 2)
                # connected again without a reboot: it holds the schedule, nothing is sent
                assert services.station_redeliver(station_id=station.pk) == []
                assert len(sim.calls_received("DataTransfer")) == 1
                # a reboot that wiped its storage: sent again
                sim.media_manifests.clear()
                assert services.station_redeliver(station_id=station.pk, rebooted=True) == [
                    offline.pk
                ]
                assert sim.media_manifests[schedule.pk]["priority"] == 3
                # a change: a new revision, on the screen with its new priority
                services.media_schedule_update(schedule=schedule, priority=9)
                delivery.refresh_from_db()
                assert (delivery.status, delivery.revision) == (DeliveryStatus.CONFIRMED, 2)
                assert sim.media_manifests[schedule.pk]["priority"] == 9
                assert len(sim.calls_received("DataTransfer")) == 3
        finally:
            loop.run(sim.close())
            loop.stop()
            with tenant_context(tenant):
                try:
                    Station.objects.filter(site=site).delete()
                    Site.objects.filter(pk=site.pk).delete()
                except Exception as error:
                    warnings.warn(f"media site {tag} left behind: {error}", stacklevel=1)
            StationIdentity.objects.filter(identity__startswith=f"MR-{tag}").delete()
