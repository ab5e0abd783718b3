"""Tariffs module (CPO, SENDER): billing's tariffs as OCPI Tariff objects through the core's
OCPI_TARIFFS policy, the paginated GET with date filters, and a PUT to every partner that
receives tariffs when billing changes one (outbox, exactly once, against the eMSP peer)."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.billing.models import DriverGroup, Tariff, TariffVersion
from apps.billing.ocpi import tariff_to_ocpi
from apps.billing.services import tariff_assign, tariff_create, tariff_version_add
from apps.roaming import services
from apps.roaming.models import Push
from apps.stations.services import station_register
from tests.factories import SiteFactory
from tests.live import unique_identity
from tests.workers import WorkerProcess

from .conftest import ALPHA_HOST
from .factories import PartnerFactory

ENERGY = {"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]}
DEARER = {"currency": "CAD", "session_fee": "1.00", "energy": [{"price_per_kwh": "0.31"}]}
RECEIVES_TARIFFS = [
    {"identifier": "tariffs", "role": "RECEIVER", "url": "https://emsp.example/ocpi/tariffs"},
]


def _client(partner) -> Client:
    auth = "Token " + base64.b64encode(partner.incoming_token.encode()).decode()
    return Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=auth)


def test_the_get_serves_billings_tariffs_paginated(alpha):
    partner = PartnerFactory()
    start = timezone.now() - dt.timedelta(days=2)
    tariff = tariff_create(name="Public", definition=ENERGY, effective_from=start)
    later = timezone.now() + dt.timedelta(days=3)
    tariff_version_add(tariff=tariff, definition=DEARER, effective_from=later)
    old = tariff_create(name="Old", definition=ENERGY, effective_from=start)
    tariff_version_add(tariff=old, definition=DEARER)  # the first version has ended
    Tariff.objects.filter(pk=tariff_create(name="Retired", definition=ENERGY).pk).update(
        is_active=False
    )
    client = _client(partner)

    answer = client.get("/ocpi/2.2.1/tariffs")
    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    data = answer.json()["data"]
    assert sorted(t["id"] for t in data) == sorted(
        [f"{tariff.pk}-1", f"{tariff.pk}-2", f"{old.pk}-2"]
    )
    assert answer["X-Total-Count"] == "3" and "Link" not in answer
    current = next(t for t in data if t["id"] == f"{tariff.pk}-1")
    first, second = TariffVersion.objects.filter(tariff=tariff).order_by("number")
    # the same object billing renders, ending where the next version starts
    expected = tariff_to_ocpi(
        first.parsed,
        tariff_id=f"{tariff.pk}-1",
        country_code="CA",
        party_id="ALP",
        last_updated=second.created_at,
        start_date_time=first.effective_from,
        end_date_time=second.effective_from,
    )
    assert current == {**expected, "elements": current["elements"]}
    assert current["elements"][0]["price_components"] == [
        {"type": "ENERGY", "price": 0.25, "step_size": 1}
    ]
    upcoming = next(t for t in data if t["id"] == f"{tariff.pk}-2")
    assert upcoming["start_date_time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "end_date_time" not in upcoming
    assert {"price_components": [{"type": "FLAT", "price": 1.0, "step_size": 1}]} in (
        upcoming["elements"]
    )

    page = client.get("/ocpi/2.2.1/tariffs?limit=2")
    assert len(page.json()["data"]) == 2 and page["X-Limit"] == "2"
    assert "offset=2" in page["Link"] and 'rel="next"' in page["Link"]
    rest = client.get("/ocpi/2.2.1/tariffs?limit=2&offset=2").json()["data"]
    assert len(rest) == 1
    assert {t["id"] for t in page.json()["data"]} | {rest[0]["id"]} == {t["id"] for t in data}

    since = (timezone.now() + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"/ocpi/2.2.1/tariffs?date_from={since}").json()["data"] == []
    assert len(client.get(f"/ocpi/2.2.1/tariffs?date_to={since}").json()["data"]) == 3

    versions = client.get("/ocpi/2.2.1").json()["data"]["endpoints"]
    assert {"identifier": "tariffs", "role": "SENDER"} in [
        {k: e[k] for k in ("identifier", "role")} for e in versions
    ]
    anonymous = Client(HTTP_HOST="alpha.localhost").get("/ocpi/2.2.1/tariffs")
    assert anonymous.status_code == 401


def test_a_tariff_change_is_put_to_partners_that_receive_tariffs(alpha):
    receiving = PartnerFactory(endpoints=RECEIVES_TARIFFS)
    PartnerFactory()  # no tariffs endpoint
    tariff = tariff_create(name="Public", definition=ENERGY)
    (created,) = Push.objects.all()
    assert (created.partner, created.module, created.method) == (receiving, "tariffs", "PUT")
    assert created.path == f"/CA/ALP/{tariff.pk}-1" and created.body["id"] == f"{tariff.pk}-1"
    Push.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        tariff_version_add(tariff=tariff, definition=DEARER)
        raise RuntimeError("the price change fails")
    assert not Push.objects.exists()

    later = timezone.now() + dt.timedelta(hours=1)
    tariff_version_add(tariff=tariff, definition=DEARER, effective_from=later)
    pushes = {push.path: push.body for push in Push.objects.filter(partner=receiving)}
    # the new version, and the current one (it now ends when the new one starts)
    assert set(pushes) == {f"/CA/ALP/{tariff.pk}-1", f"/CA/ALP/{tariff.pk}-2"}
    assert pushes[f"/CA/ALP/{tariff.pk}-1"]["end_date_time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def worker(django_db_setup):
    process = WorkerProcess(
        "roaming-tariffs",
        settings={"ROAMING_ALLOW_PRIVATE_NETWORKS": True, "ROAMING_RETRY_BASE_SECONDS": 0.3},
    )
    process.start()
    yield process
    process.stop()


@pytest.mark.slow
def test_the_peer_gets_a_price_change_and_pulls_the_same_tariffs(live_alpha, peer, worker):
    invited = services.partner_invite(name="Peer eMSP")
    registered = peer.control(
        "register",
        {"versions_url": f"http://{ALPHA_HOST}/ocpi/versions", "token": invited.incoming_token},
    )
    assert registered["ok"], registered
    tariff = tariff_create(name=f"Roaming {time.monotonic_ns()}", definition=ENERGY)
    try:
        tariff_version_add(
            tariff=tariff, definition=DEARER, effective_from=timezone.now() + dt.timedelta(hours=2)
        )
        path = f"/ocpi/2.2.1/tariffs/CA/ALP/{tariff.pk}-2"

        def received():
            return [r for r in peer.state()["received"] if r["path"] == path]

        deadline = time.monotonic() + 30
        while not received():
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.1)
        time.sleep(0.5)
        (put,) = received()  # once
        assert put["method"] == "PUT" and put["body"]["elements"]
        pulled = peer.control(
            "call", {"method": "GET", "url": f"http://{ALPHA_HOST}/ocpi/2.2.1/tariffs"}
        )
        assert pulled["status"] == 200, pulled
        served = {t["id"]: t for t in pulled["body"]["data"]}
        assert served[f"{tariff.pk}-2"] == put["body"]
        # the first version's PUT (it ends when the second starts) says the same as the GET
        first = [r for r in peer.state()["received"] if r["path"].endswith(f"/{tariff.pk}-1")][-1]
        assert served[f"{tariff.pk}-1"] == first["body"]
        assert first["body"]["end_date_time"] == put["body"]["start_date_time"]
    finally:
        Push.objects.all().delete()
        TariffVersion.objects.filter(tariff=tariff).delete()
        Tariff.objects.filter(pk=tariff.pk).delete()


def test_connectors_list_the_tariffs_a_roaming_driver_pays(alpha):
    """tariff_ids on connectors (billing answers OCPI_CONNECTOR_TARIFFS): the assignment that
    prices a driver without a driver group, station before site before the tenant's default;
    the version in force and those that follow."""
    past = timezone.now() - dt.timedelta(days=2)
    default = tariff_create(name="Default", definition=ENERGY, effective_from=past)
    tariff_version_add(
        tariff=default, definition=DEARER, effective_from=timezone.now() + dt.timedelta(days=3)
    )
    by_site = tariff_create(name="Site", definition=ENERGY, effective_from=past)
    by_station = tariff_create(name="Station", definition=DEARER, effective_from=past)
    members = tariff_create(name="Members", definition=ENERGY, effective_from=past)
    first_site, second_site = SiteFactory(), SiteFactory()

    def station(site):
        return station_register(identity=unique_identity(), password=None, site=site)

    at_first, at_second, special = station(first_site), station(second_site), station(second_site)
    tariff_assign(tariff=default)
    tariff_assign(tariff=by_site, site=first_site)
    tariff_assign(tariff=by_station, station=special)
    group = DriverGroup.objects.create(name=f"Residents {unique_identity()}")
    tariff_assign(tariff=members, site=second_site, driver_group=group, priority=1)
    client = _client(PartnerFactory())

    def tariff_ids(version, site, station):
        answer = client.get(f"/ocpi/{version}/locations/LOC{site.pk}/{station.pk}-1")
        assert answer.status_code == 200
        return [
            c.get("tariff_ids", c.get("tariff_id")) for c in answer.json()["data"]["connectors"]
        ]

    assert tariff_ids("2.2.1", first_site, at_first) == [[f"{by_site.pk}-1"]]
    assert tariff_ids("2.2.1", second_site, special) == [[f"{by_station.pk}-1"]]
    # the tenant's default (the members' tariff is not a roaming driver's): now, then next
    assert tariff_ids("2.2.1", second_site, at_second) == [[f"{default.pk}-1", f"{default.pk}-2"]]
    assert tariff_ids("2.1.1", second_site, at_second) == [f"{default.pk}-1"]  # 2.1.1: one
    # the paginated GET asks once per page and says the same
    listed = client.get("/ocpi/2.2.1/locations?limit=1000").json()["data"]
    evse = next(e for loc in listed for e in loc["evses"] if e["uid"] == f"{special.pk}-1")
    assert evse["connectors"][0]["tariff_ids"] == [f"{by_station.pk}-1"]
    # every connector the partners can pay at names a published tariff
    published = {t["id"] for t in client.get("/ocpi/2.2.1/tariffs?limit=1000").json()["data"]}
    assert {f"{by_site.pk}-1", f"{by_station.pk}-1", f"{default.pk}-2"} <= published
