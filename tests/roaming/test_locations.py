"""Locations (sender interface): our sites, stations, EVSEs and connectors as OCPI Locations,
paginated with Link / X-Total-Count / X-Limit, filtered by last_updated; tokens in 2.2.1
(base64) and 2.1.1 (raw) form; the envelope on every answer."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.roaming.choices import PartnerStatus
from apps.stations.models import Evse
from apps.stations.services import station_register
from tests.factories import SiteFactory
from tests.live import unique_identity

from .factories import PartnerFactory


def b64(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


@pytest.fixture
def ocpi(alpha):
    partner = PartnerFactory()
    client = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=b64(partner.incoming_token))
    return partner, client


@pytest.fixture
def network(alpha):
    sites = [SiteFactory(name=f"Lot {n}", country="CA", postal_code="H2X 1Y4") for n in range(3)]
    for site in sites:
        station_register(identity=unique_identity(), password=None, site=site, evse_count=2)
    return sites


def test_paginated_get_follows_link_headers_to_the_end(ocpi, network):
    partner, client = ocpi
    seen, url, pages = [], "/ocpi/2.2.1/locations?limit=2", 0
    while url:
        answer = client.get(url)
        assert answer.status_code == 200
        body = answer.json()
        assert body["status_code"] == 1000 and body["timestamp"].endswith("Z")
        assert answer["X-Total-Count"] == "3" and answer["X-Limit"] == "2"
        seen += body["data"]
        pages += 1
        link = answer.get("Link")
        url = (
            re.match(r"<http://alpha\.localhost(.*)>; rel=\"next\"", link).group(1) if link else ""
        )
    assert pages == 2
    assert [loc["id"] for loc in seen] == [f"LOC{site.pk}" for site in network]
    location = seen[0]
    assert location["country"] == "CAN" and location["country_code"] == "CA"
    assert location["coordinates"]["latitude"] == str(network[0].latitude)
    assert len(location["evses"]) == 2
    evse = location["evses"][0]
    assert evse["status"] == "UNKNOWN"  # the station has never connected
    assert re.fullmatch(r"CA\*ALP\*E\d+\*1", evse["evse_id"])
    assert evse["connectors"][0] == {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 400,
        "max_amperage": 32,
        "max_electric_power": 22080,
        "last_updated": evse["last_updated"],
    }


def test_date_filters_select_recently_changed_locations(ocpi, network):
    partner, client = ocpi
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    evse = Evse.objects.filter(station__site=network[1]).first()
    Evse.objects.filter(pk=evse.pk).update(status_changed_at=later + dt.timedelta(minutes=5))
    stamp = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = client.get(f"/ocpi/2.2.1/locations?date_from={stamp}")
    assert [loc["id"] for loc in answer.json()["data"]] == [f"LOC{network[1].pk}"]
    answer = client.get(f"/ocpi/2.2.1/locations?date_to={stamp}")
    assert [loc["id"] for loc in answer.json()["data"]] == [
        f"LOC{network[0].pk}",
        f"LOC{network[2].pk}",
    ]


def test_query_count_does_not_grow_with_the_page(ocpi, network):
    partner, client = ocpi
    client.get("/ocpi/2.2.1/locations?limit=1")  # creates our party's profile once
    with CaptureQueriesContext(connection) as small:
        client.get("/ocpi/2.2.1/locations?limit=1")
    with CaptureQueriesContext(connection) as large:
        client.get("/ocpi/2.2.1/locations?limit=3")
    assert len(large) == len(small)


def test_single_location_evse_and_connector(ocpi, network):
    partner, client = ocpi
    site = network[0]
    station = site.stations.get()
    base = f"/ocpi/2.2.1/locations/LOC{site.pk}"
    assert client.get(base).json()["data"]["id"] == f"LOC{site.pk}"
    assert client.get(f"{base}/{station.pk}-2").json()["data"]["uid"] == f"{station.pk}-2"
    assert client.get(f"{base}/{station.pk}-2/1").json()["data"]["id"] == "1"
    missing = client.get(f"{base}/{station.pk}-9")
    assert missing.status_code == 404 and missing.json()["status_code"] == 2003
    assert client.get("/ocpi/2.2.1/locations/LOC999999").json()["status_code"] == 2003


def test_tokens_in_21_form_are_accepted_and_unknown_ones_refused(ocpi, network):
    partner, _ = ocpi
    raw = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {partner.incoming_token}")
    assert raw.get("/ocpi/2.1.1/locations").json()["status_code"] == 1000
    for header in (b64("nope"), "Token nope", "Bearer x", ""):
        answer = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=header).get(
            "/ocpi/2.2.1/locations"
        )
        assert answer.status_code == 401 and answer.json()["status_code"] == 2000


def test_an_invited_partner_sees_versions_but_not_modules(ocpi):
    partner, client = ocpi
    partner.status = PartnerStatus.INVITED
    partner.save()
    assert client.get("/ocpi/versions").status_code == 200
    assert client.get("/ocpi/2.2.1").json()["data"]["version"] == "2.2.1"
    assert client.get("/ocpi/2.2.1/locations").status_code == 403


def test_other_tenants_partner_token_opens_nothing_here(ocpi, beta):
    partner, _ = ocpi
    other = Client(HTTP_HOST="beta.localhost", HTTP_AUTHORIZATION=b64(partner.incoming_token))
    assert other.get("/ocpi/2.2.1/locations").status_code == 401
