"""Video content through the API and the portal, the queueing of deliveries and re-deliveries
(Celery's ``delay`` recorded), and the retry's back-off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from apps.media import queue, services, tasks
from apps.media.choices import DeliveryStatus
from apps.media.models import MediaDelivery, MediaSchedule, Playlist, ScreenModel
from apps.stations.models import Station
from tests.api.conftest import api_client, results

from .files import mp4, png


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def queued(monkeypatch):
    """Deliveries queued for Celery (ids), instead of a broker."""
    sent: list[int] = []
    monkeypatch.setattr(queue, "delivery_send", sent.append)
    return sent


@pytest.fixture
def back_to_default_language():
    yield
    translation.deactivate()


def screens(alpha_sites):
    """Two stations on A1 (one with a screen), one on A2 with a screen."""
    from apps.stations.services import station_register

    ScreenModel.objects.create(vendor="ACME", model="Screen", formats=["mp4", "png"])
    a1, a2 = alpha_sites
    made = []
    for index, (site, model) in enumerate([(a1, "Screen"), (a1, "Plain"), (a2, "Screen")]):
        station = station_register(identity=f"MEDIA-{index}", password=None, site=site)
        Station.objects.filter(pk=station.pk).update(vendor="ACME", model=model)
        made.append(station)
    return made


def test_the_api_uploads_plans_schedules_and_changes(
    alpha, personas, alpha_sites, queued, django_capture_on_commit_callbacks
):
    with_screen, plain, other = screens(alpha_sites)
    a1, a2 = alpha_sites
    owner = api_client(alpha, user=personas.owner)
    video = owner.post(
        "/api/v1/media/assets/",
        {
            "name": "Spot",
            "file": SimpleUploadedFile("spot.mp4", mp4(1920, 1080)),
            "thumbnail": SimpleUploadedFile("poster.png", png(480, 270)),
        },
        format="multipart",
    )
    assert video.status_code == 201, video.content
    assert (video.json()["kind"], video.json()["width"]) == ("video", 1920)
    no_poster = owner.post(
        "/api/v1/media/assets/",
        {"name": "Spot", "file": SimpleUploadedFile("spot.mp4", mp4(1920, 1080))},
        format="multipart",
    )
    assert no_poster.status_code == 400 and "thumbnail" in no_poster.content.decode()
    gif = owner.post(
        "/api/v1/media/assets/",
        {"name": "Gif", "file": SimpleUploadedFile("a.gif", b"GIF89a" + b"\0" * 50)},
        format="multipart",
    )
    assert gif.status_code == 400 and "file" in gif.json()["error"]["details"]
    playlist = owner.post(
        "/api/v1/media/playlists/",
        {"name": "Winter", "items": [{"asset": video.json()["id"], "seconds": 0}]},
        format="json",
    )
    assert playlist.status_code == 201, playlist.content
    unknown = owner.post(
        "/api/v1/media/playlists/",
        {"name": "Bad", "items": [{"asset": 999999}]},
        format="json",
    )
    assert unknown.status_code == 400
    schedule_body = {
        "playlist": playlist.json()["id"],
        "sites": [a1.pk],
        "starts_on": "2026-12-01",
        "ends_on": "2027-01-31",
        "daily_start": "07:00",
        "daily_end": "22:00",
        "priority": 4,
    }
    backwards = owner.post(
        "/api/v1/media/schedules/", {**schedule_body, "ends_on": "2026-11-01"}, format="json"
    )
    assert backwards.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        created = owner.post("/api/v1/media/schedules/", schedule_body, format="json")
    assert created.status_code == 201, created.content
    schedule = MediaSchedule.objects.get(pk=created.json()["id"])
    deliveries = {d.station_id: d for d in MediaDelivery.objects.filter(schedule=schedule)}
    assert set(deliveries) == {with_screen.pk, plain.pk}  # A1 only
    assert deliveries[plain.pk].status == DeliveryStatus.REFUSED
    assert queued == [deliveries[with_screen.pk].pk]
    rows = results(owner.get("/api/v1/media/deliveries/", {"schedule": schedule.pk}))
    assert {row["status"] for row in rows} == {"pending", "refused"}
    # A change: a new revision, sent to A2's screen too once A2 is added.
    MediaDelivery.objects.filter(station=with_screen).update(status="confirmed", revision=1)
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changed = owner.patch(
            f"/api/v1/media/schedules/{schedule.pk}/",
            {"sites": [a1.pk, a2.pk], "priority": 7},
            format="json",
        )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["revision"], changed.json()["priority"]) == (2, 7)
    sent_to = set(MediaDelivery.objects.filter(pk__in=queued).values_list("station_id", flat=True))
    assert sent_to == {with_screen.pk, other.pk}
    screen = owner.post(
        "/api/v1/media/screens/",
        {"vendor": "ACME", "model": "Plain", "formats": ["png"], "max_width": 800},
        format="json",
    )
    assert screen.status_code == 201 and screen.json()["max_width"] == 800
    assert (
        owner.post(
            "/api/v1/media/screens/",
            {"vendor": "X", "model": "Y", "formats": ["gif"]},
            format="json",
        ).status_code
        == 400
    )


def test_a_station_back_online_is_queued_only_where_media_are_scheduled(
    alpha, alpha_sites, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.stations.services import station_connected

    with_screen, plain, other = screens(alpha_sites)
    redelivered = []
    monkeypatch.setattr(
        tasks.station_redeliver_task, "delay", lambda *args: redelivered.append(args)
    )
    playlist = Playlist.objects.create(name="P")
    schedule = MediaSchedule.objects.create(
        playlist=playlist,
        starts_on=timezone.now().date(),
        ends_on=timezone.now().date() + dt.timedelta(days=3),
        daily_start=dt.time(8),
        daily_end=dt.time(18),
    )
    schedule.sites.set([alpha_sites[0]])
    with django_capture_on_commit_callbacks(execute=True):
        station_connected(station_id=with_screen.pk, connection_id="c1", version="1.6")
        station_connected(station_id=other.pk, connection_id="c2", version="1.6")
    assert redelivered == [(with_screen.pk,)]  # A2 has no schedule: nothing queued
    schedule.ends_on = timezone.now().date() - dt.timedelta(days=5)
    schedule.save()
    assert not services.station_has_schedules(with_screen.pk)  # an ended schedule is not sent


def test_failed_deliveries_are_retried_after_their_back_off(alpha, alpha_sites, queued):
    with_screen, plain, other = screens(alpha_sites)
    Station.objects.filter(pk__in=[with_screen.pk, other.pk]).update(is_online=True)
    playlist = Playlist.objects.create(name="P")
    today = timezone.now().date()
    schedule = MediaSchedule.objects.create(
        playlist=playlist,
        starts_on=today,
        ends_on=today + dt.timedelta(days=3),
        daily_start=dt.time(8),
        daily_end=dt.time(18),
    )
    now = timezone.now()
    due = MediaDelivery.objects.create(
        schedule=schedule, station=with_screen, status="failed", attempts=2
    )
    waiting = MediaDelivery.objects.create(
        schedule=schedule, station=other, status="failed", attempts=3
    )
    stuck = MediaDelivery.objects.create(schedule=schedule, station=plain, status="sent")
    MediaDelivery.objects.filter(pk=due.pk).update(sent_at=now - dt.timedelta(minutes=11))
    MediaDelivery.objects.filter(pk=waiting.pk).update(sent_at=now - dt.timedelta(minutes=11))
    MediaDelivery.objects.filter(pk=stuck.pk).update(sent_at=now - dt.timedelta(minutes=20))
    assert services.retry_backoff(2) == dt.timedelta(minutes=10)
    assert services.retry_backoff(3) == dt.timedelta(minutes=20)
    assert services.deliveries_retry_due(now=now) == [due.pk]  # plain is offline
    assert queued == [due.pk]
    stuck.refresh_from_db()
    assert stuck.status == DeliveryStatus.FAILED  # its worker never answered


def test_the_portal_pages(
    alpha,
    personas,
    alpha_sites,
    client_for,
    queued,
    settings,
    back_to_default_language,
    django_capture_on_commit_callbacks,
):
    with_screen, plain, other = screens(alpha_sites)
    client = client_for(personas.owner)
    assert client.get(reverse("media:mediaasset_list")).status_code == 200
    uploaded = client.post(
        reverse("media:mediaasset_upload"),
        {"name": "Poster", "file": SimpleUploadedFile("p.png", png(800, 600))},
    )
    assert uploaded.status_code == 302
    refused = client.post(
        reverse("media:mediaasset_upload"),
        {"name": "Tiny", "file": SimpleUploadedFile("t.png", png(100, 100))},
    )
    assert refused.status_code == 400 and "320" in refused.content.decode()
    library = client.get(reverse("media:mediaasset_list")).content.decode()
    assert "Poster" in library and "ACME Screen" in library
    poster = services.MediaAsset.objects.get(name="Poster")
    thumbnail = client.get(reverse("media:mediaasset_thumbnail", args=[poster.pk]))
    assert b"".join(thumbnail.streaming_content) == png(800, 600)
    saved = client.post(
        reverse("media:screenmodel_save"),
        {
            "vendor": "ACME",
            "model": "Kiosk",
            "has_screen": "on",
            "max_width": 1280,
            "max_height": 720,
            "formats": ["png"],
        },
    )
    assert saved.status_code == 302 and ScreenModel.objects.filter(model="Kiosk").exists()
    assert client.get(reverse("media:playlist_create")).status_code == 200
    form = {
        "name": "Lobby",
        "form-TOTAL_FORMS": "6",
        "form-INITIAL_FORMS": "0",
        "form-0-asset": str(poster.pk),
        "form-0-seconds": "12",
    }
    assert client.post(reverse("media:playlist_create"), form).status_code == 302
    playlist = Playlist.objects.get(name="Lobby")
    assert [(i.asset_id, i.seconds) for i in playlist.items.all()] == [(poster.pk, 12)]
    assert "Lobby" in client.get(reverse("media:playlist_list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("media:mediaschedule_create"),
            {
                "playlist": playlist.pk,
                "sites": [alpha_sites[0].pk],
                "starts_on": "2026-12-01",
                "ends_on": "2026-12-31",
                "daily_start": "08:00",
                "daily_end": "20:00",
                "priority": "1",
                "text": "",
            },
        )
    assert created.status_code == 302, created.content.decode()[:2000]
    schedule = MediaSchedule.objects.get(playlist=playlist)
    assert len(queued) == 1
    detail = client.get(reverse("media:mediaschedule_detail", args=[schedule.pk])).content.decode()
    assert "MEDIA-0" in detail and "No screen on Plain" in detail
    listing = client.get(reverse("media:mediaschedule_list")).content.decode()
    assert "Lobby" in listing and "without a screen" in listing
    again = client.post(reverse("media:mediaschedule_publish", args=[schedule.pk]))
    assert again.status_code == 302
    assert client.get(reverse("media:mediaschedule_edit", args=[schedule.pk])).status_code == 200
    assert client_for(personas.delegate).get(reverse("media:mediaschedule_list")).status_code == 403
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("media:mediaschedule_list")).content.decode()
    assert "Contenu vidéo" in french and "sans écran" in french


def test_the_schedule_list_costs_the_same_queries_for_one_or_many(alpha, personas, alpha_sites):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    playlist = Playlist.objects.create(name="P")
    owner = api_client(alpha, user=personas.owner)

    def schedules(count):
        for _ in range(count):
            schedule = MediaSchedule.objects.create(
                playlist=playlist,
                starts_on=dt.date(2026, 12, 1),
                ends_on=dt.date(2026, 12, 31),
                daily_start=dt.time(8),
                daily_end=dt.time(18),
            )
            schedule.sites.set(alpha_sites)
        with CaptureQueriesContext(connection) as queries:
            assert owner.get("/api/v1/media/schedules/").status_code == 200
        return len(queries)

    assert schedules(1) == schedules(9)
