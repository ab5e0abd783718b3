"""Station tags: set through the API and the portal form (one service), normalised and
validated, filtered on (API and portal, within scope), and a firmware campaign's criterion."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.stations.models import Station
from apps.stations.tags import normalize_tags
from tests.api.conftest import make_station, results


def test_tags_are_normalised_and_validated():
    assert normalize_tags(" Fleet, garage-b  fleet,PILOT_2027 ") == [
        "fleet",
        "garage-b",
        "pilot_2027",
    ]
    assert normalize_tags(["b", "a", "b"]) == ["a", "b"]
    with pytest.raises(ValidationError) as error:
        normalize_tags(["ok", "not a/slug", "x" * 33])
    assert len(error.value.messages) == 2
    with pytest.raises(ValidationError):
        normalize_tags([f"t{n}" for n in range(21)])


def test_patch_sets_tags_and_bad_tags_are_field_errors(personas, api_for, alpha_sites):
    a1, _ = alpha_sites
    station = make_station(a1, "TAG-API-1")
    owner = api_for(personas.owner)
    changed = owner.patch(
        f"/api/v1/stations/{station.pk}/", {"tags": ["Garage-B", "fleet"]}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["tags"] == ["fleet", "garage-b"]
    station.refresh_from_db()
    assert station.tags == ["fleet", "garage-b"]
    detail = owner.get(f"/api/v1/stations/{station.pk}/").json()
    assert detail["tags"] == ["fleet", "garage-b"]

    bad = owner.patch(
        f"/api/v1/stations/{station.pk}/", {"tags": ["fine", "no spaces!"]}, format="json"
    )
    assert bad.status_code == 400
    assert "tags" in bad.json()["error"]["details"], bad.json()
    station.refresh_from_db()
    assert station.tags == ["fleet", "garage-b"]  # unchanged
    cleared = owner.patch(f"/api/v1/stations/{station.pk}/", {"tags": []}, format="json")
    assert cleared.status_code == 200 and cleared.json()["tags"] == []


def test_register_with_tags_through_the_api(personas, api_for, alpha_sites):
    a1, _ = alpha_sites
    created = api_for(personas.owner).post(
        "/api/v1/stations/",
        {"identity": "TAG-NEW-1", "site": a1.pk, "tags": ["Depot"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert Station.objects.get(identity="TAG-NEW-1").tags == ["depot"]


def test_tag_filter_in_the_api_requires_every_tag_and_stays_in_scope(
    personas, api_for, alpha_sites
):
    a1, a2 = alpha_sites
    Station.objects.filter(
        pk__in=[make_station(a1, "TAG-F-1").pk, make_station(a2, "TAG-F-3").pk]
    ).update(tags=["fleet", "garage-b"])
    Station.objects.filter(pk=make_station(a1, "TAG-F-2").pk).update(tags=["fleet"])
    make_station(a1, "TAG-F-4")

    owner = api_for(personas.owner)

    def identities(client, query):
        response = client.get(f"/api/v1/stations/?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["identity"] for row in results(response))

    assert identities(owner, "tag=fleet") == ["TAG-F-1", "TAG-F-2", "TAG-F-3"]
    assert identities(owner, "tag=fleet&tag=garage-b") == ["TAG-F-1", "TAG-F-3"]
    assert identities(owner, "tag=Garage-B,fleet") == ["TAG-F-1", "TAG-F-3"]
    assert identities(owner, "tag=nothing") == []
    # the delegate holds A1 only
    assert identities(api_for(personas.delegate), "tag=garage-b") == ["TAG-F-1"]
    bad = owner.get("/api/v1/stations/?tag=bad tag!")
    assert bad.status_code == 400


def test_the_portal_edits_tags_and_filters_the_list(personas, client_for, alpha_sites):
    a1, _ = alpha_sites
    station = make_station(a1, "TAG-P-1")
    other = make_station(a1, "TAG-P-2")
    client = client_for(personas.owner)
    url = reverse("stations:station_edit", args=[station.pk])
    form = {
        "name": "Tagged",
        "site": a1.pk,
        "tags": "Garage-B, fleet",
        "registration_status": "Accepted",
        "heartbeat_interval": 300,
        "security_profile": 1,
    }
    saved = client.post(url, form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    station.refresh_from_db()
    assert station.tags == ["fleet", "garage-b"]
    # the edit form shows them back as one line
    assert 'value="fleet, garage-b"' in client.get(url).content.decode()

    refused = client.post(url, {**form, "tags": "fine, no/slash"})
    assert refused.status_code == 400
    assert "tags" in refused.context["form"].errors
    station.refresh_from_db()
    assert station.tags == ["fleet", "garage-b"]

    listing = client.get(reverse("stations:station_list") + "?tag=garage-b")
    page = listing.content.decode()
    assert listing.status_code == 200
    assert "TAG-P-1" in page and other.identity not in page
    assert '<option value="garage-b">' in page  # the tag suggestions
    detail = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    assert "?tag=garage-b" in detail
