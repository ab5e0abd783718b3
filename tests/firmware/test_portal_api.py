"""The firmware pages and API: upload, create a campaign from a filter, start it, follow it."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from apps.firmware.models import Campaign, CampaignTarget
from apps.stations.models import Station
from tests.api.conftest import api_client, results

from .fleet import image_bytes


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_upload_create_start_and_follow_through_the_api(alpha, personas, alpha_sites):
    from apps.stations.services import station_register

    a1, a2 = alpha_sites
    for index, site in enumerate([a1, a1, a2]):
        station = station_register(identity=f"FWAPI-{index}", password=None, site=site)
        Station.objects.filter(pk=station.pk).update(
            vendor="ACME", model="X1", firmware_version="1.0" if index < 2 else "2.0"
        )
    owner = api_client(alpha, user=personas.owner)
    data = image_bytes()
    uploaded = owner.post(
        "/api/v1/firmware/images/",
        {
            "file": SimpleUploadedFile("x.bin", data),
            "vendor": "ACME",
            "model": "X1",
            "version": "2.0",
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    bad = owner.post(
        "/api/v1/firmware/images/",
        {
            "file": SimpleUploadedFile("x.bin", data),
            "vendor": "ACME",
            "model": "X1",
            "version": "2.1",
            "sha256": "a" * 64,
        },
        format="multipart",
    )
    assert bad.status_code == 400
    created = owner.post(
        "/api/v1/firmware/campaigns/",
        {"name": "Spring", "image": uploaded.json()["id"], "sites": [a1.pk], "canary_count": 1},
        format="json",
    )
    assert created.status_code == 201, created.content
    campaign = Campaign.objects.get(pk=created.json()["id"])
    assert CampaignTarget.objects.filter(campaign=campaign).count() == 2  # A1's two
    started = owner.post(
        "/api/v1/firmware/campaigns/transition/",
        {"campaign": campaign.pk, "action": "start"},
        format="json",
    )
    assert started.status_code == 200 and started.json()["status"] == "running"
    rows = results(owner.get("/api/v1/firmware/campaigns/"))
    assert rows[0]["counts"] == {"pending": 2} and rows[0]["progress"] == 0
    again = owner.post(
        "/api/v1/firmware/campaigns/transition/",
        {"campaign": campaign.pk, "action": "start"},
        format="json",
    )
    assert again.status_code == 400


@pytest.fixture
def back_to_default_language():
    """A French request leaves French active in this thread: later tests expect the default."""
    yield
    translation.deactivate()


def test_the_campaign_pages(alpha, personas, client_for, settings, back_to_default_language):
    from apps.firmware import services
    from apps.stations.services import station_register

    data = image_bytes()
    image = services.firmware_image_upload(
        upload=SimpleUploadedFile("x.bin", data),
        vendor="ACME",
        model="X1",
        version="3.0",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    station = station_register(identity="FWPAGE-1", password=None)
    campaign = services.campaign_create(
        name="Autumn", image=image, stations=Station.objects.filter(pk=station.pk)
    )
    client = client_for(personas.owner)
    assert "Autumn" in client.get(reverse("firmware:campaign_list")).content.decode()
    page = client.get(reverse("firmware:campaign_detail", args=[campaign.pk])).content.decode()
    assert "FWPAGE-1" in page and 'role="progressbar"' in page
    response = client.post(reverse("firmware:campaign_action", args=[campaign.pk, "start"]))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "running"
    assert client_for(personas.delegate).get(reverse("firmware:campaign_list")).status_code == 403
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("firmware:campaign_detail", args=[campaign.pk])).content.decode()
    assert "Mises à jour" in french or "Progression" in french


def test_the_portal_uploads_an_image_and_creates_a_campaign(
    alpha, personas, alpha_sites, client_for, settings, back_to_default_language
):
    from apps.firmware.models import FirmwareImage
    from apps.stations.services import station_register

    a1, a2 = alpha_sites
    for index, (site, version) in enumerate([(a1, "1.0"), (a1, "4.0"), (a2, "1.0"), (a1, "0.9")]):
        station = station_register(identity=f"FWFORM-{index}", password=None, site=site)
        Station.objects.filter(pk=station.pk).update(
            vendor="ACME", model="X1", firmware_version=version
        )
    client = client_for(personas.owner)
    assert client.get(reverse("firmware:firmwareimage_upload")).status_code == 200
    data = image_bytes()
    wrong = client.post(
        reverse("firmware:firmwareimage_upload"),
        {
            "file": SimpleUploadedFile("x.bin", data),
            "vendor": "ACME",
            "model": "X1",
            "version": "4.0",
            "sha256": "b" * 64,
        },
    )
    assert wrong.status_code == 400 and hashlib.sha256(data).hexdigest() in wrong.content.decode()
    uploaded = client.post(
        reverse("firmware:firmwareimage_upload"),
        {
            "file": SimpleUploadedFile("x.bin", data),
            "vendor": "ACME",
            "model": "X1",
            "version": "4.0",
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert uploaded.status_code == 302
    image = FirmwareImage.objects.get(version="4.0")
    assert client.get(reverse("firmware:campaign_create")).status_code == 200
    bad = client.post(
        reverse("firmware:campaign_create"),
        {
            "name": "Bad",
            "image": image.pk,
            "canary_count": 1,
            "wave_percents": "10, 500",
            "concurrency": 5,
            "failure_threshold_percent": 20,
            "max_attempts": 3,
            "retry_backoff_seconds": 60,
        },
    )
    assert bad.status_code == 400 and "1 to 100" in bad.content.decode()
    created = client.post(
        reverse("firmware:campaign_create"),
        {
            "name": "Winter",
            "image": image.pk,
            "versions": "1.0, 4.0",
            "sites": [a1.pk],
            "canary_count": 1,
            "wave_percents": "50",
            "concurrency": 5,
            "failure_threshold_percent": 20,
            "max_attempts": 3,
            "retry_backoff_seconds": 60,
            "window_start": "01:00",
            "window_end": "05:00",
            "start": "on",
        },
    )
    assert created.status_code == 302, created.content.decode()[:3000]
    campaign = Campaign.objects.get(name="Winter")
    targets = dict(
        CampaignTarget.objects.filter(campaign=campaign).values_list("station__identity", "status")
    )
    # A1's stations on 1.0 or 4.0: FWFORM-0 to update, FWFORM-1 already there (skipped)
    assert targets == {"FWFORM-0": "pending", "FWFORM-1": "skipped"}
    assert campaign.status == "running" and campaign.window_start.hour == 1
    assert campaign.target_filter == {
        "model": "X1",
        "versions": ["1.0", "4.0"],
        "sites": [a1.pk],
        "tags": [],
    }
    forbidden = client_for(personas.delegate).get(reverse("firmware:campaign_create"))
    assert forbidden.status_code == 403
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("firmware:campaign_create")).content.decode()
    assert "Nouvelle campagne" in french and "Bornes canari" in french


def test_a_campaign_targets_stations_by_tags(alpha, personas, alpha_sites, client_for):
    """The tags criterion (API and portal form): only stations carrying every tag given."""
    from apps.firmware.models import FirmwareImage
    from apps.stations.services import station_register

    a1, a2 = alpha_sites
    tagged = {"FWTAG-0": ["fleet", "pilot"], "FWTAG-1": ["fleet"], "FWTAG-2": ["pilot", "fleet"]}
    for index, (identity, tags) in enumerate(tagged.items()):
        station = station_register(
            identity=identity, password=None, site=a1 if index < 2 else a2, tags=tags
        )
        Station.objects.filter(pk=station.pk).update(
            vendor="ACME", model="X1", firmware_version="1.0"
        )
    owner = api_client(alpha, user=personas.owner)
    data = image_bytes()
    image = owner.post(
        "/api/v1/firmware/images/",
        {
            "file": SimpleUploadedFile("x.bin", data),
            "vendor": "ACME",
            "model": "X1",
            "version": "2.0",
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        format="multipart",
    ).json()["id"]

    def targets(campaign_id):
        return set(
            CampaignTarget.objects.filter(campaign_id=campaign_id).values_list(
                "station__identity", flat=True
            )
        )

    created = owner.post(
        "/api/v1/firmware/campaigns/",
        {"name": "Pilots", "image": image, "tags": ["Pilot", "fleet"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert targets(created.json()["id"]) == {"FWTAG-0", "FWTAG-2"}
    campaign = Campaign.objects.get(pk=created.json()["id"])
    assert campaign.target_filter["tags"] == ["fleet", "pilot"]
    bad = owner.post(
        "/api/v1/firmware/campaigns/",
        {"name": "Bad", "image": image, "tags": ["not a tag"]},
        format="json",
    )
    assert bad.status_code == 400 and "tags" in bad.json()["error"]["details"]

    client = client_for(personas.owner)
    form = {
        "name": "Pilots on A1",
        "image": FirmwareImage.objects.get(pk=image).pk,
        "tags": "pilot",
        "sites": [a1.pk],
        "canary_count": 1,
        "wave_percents": "50",
        "concurrency": 5,
        "failure_threshold_percent": 20,
        "max_attempts": 3,
        "retry_backoff_seconds": 60,
    }
    made = client.post(reverse("firmware:campaign_create"), form)
    assert made.status_code == 302, made.content.decode()[:2000]
    assert targets(Campaign.objects.get(name="Pilots on A1").pk) == {"FWTAG-0"}
    refused = client.post(reverse("firmware:campaign_create"), {**form, "tags": "a/b"})
    assert refused.status_code == 400 and "tags" in refused.context["form"].errors
