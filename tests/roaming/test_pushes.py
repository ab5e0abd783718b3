"""EVSE status pushed to partners through the outbox: the push row is written in the
transaction that changed the status, queued after commit, claimed before sending, retried with
back-off; a partner that is down gets it later, exactly once."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from apps.roaming import services
from apps.roaming.choices import PartnerStatus, PushStatus
from apps.roaming.models import Push
from apps.stations.models import Evse, Site, Station
from apps.stations.services import evse_set_status, station_register
from apps.tenants.models import StationIdentity
from tests.factories import SiteFactory
from tests.live import unique_identity
from tests.workers import WorkerProcess

from .conftest import ALPHA_HOST
from .factories import PartnerFactory


@pytest.fixture
def online_evse(alpha):
    station = station_register(identity=unique_identity(), password=None, site=SiteFactory())
    Station.objects.filter(pk=station.pk).update(is_online=True)
    return Evse.objects.select_related("station").get(station=station, evse_id=1)


def test_a_status_change_writes_one_push_per_receiving_partner(online_evse):
    receiving = PartnerFactory()
    PartnerFactory(endpoints=[])  # receives no locations
    PartnerFactory(status=PartnerStatus.INVITED)
    with transaction.atomic():
        evse_set_status(evse=online_evse, status="Charging", at=timezone.now())
    (push,) = Push.objects.all()
    station = online_evse.station
    assert push.partner == receiving and push.method == "PATCH" and push.module == "locations"
    assert push.path == f"/CA/ALP/LOC{station.site_id}/{station.pk}-1"
    assert push.body["status"] == "CHARGING" and push.body["last_updated"].endswith("Z")


def test_a_rolled_back_status_change_pushes_nothing(online_evse):
    PartnerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        evse_set_status(evse=online_evse, status="Faulted", at=timezone.now())
        raise RuntimeError("the status change fails")
    assert not Push.objects.exists()


def test_a_claimed_push_is_not_sent_again(online_evse):
    partner = PartnerFactory(status=PartnerStatus.SUSPENDED)
    (push,) = services.push_enqueue(
        partners=[partner], module="locations", method="PATCH", path="/x", body={}
    )
    first = services.push_attempt(push_id=push.pk)
    assert first.status == PushStatus.FAILED  # not connected: given up, nothing sent
    assert services.push_attempt(push_id=push.pk) is None


@pytest.fixture
def worker(django_db_setup):
    process = WorkerProcess(
        "roaming",
        settings={"ROAMING_ALLOW_PRIVATE_NETWORKS": True, "ROAMING_RETRY_BASE_SECONDS": 0.3},
    )
    process.start()
    yield process
    process.stop()


@pytest.mark.slow
def test_partner_outage_pushes_delivered_later_exactly_once(live_alpha, peer, worker):
    invited = services.partner_invite(name="Peer eMSP")
    registered = peer.control(
        "register",
        {"versions_url": f"http://{ALPHA_HOST}/ocpi/versions", "token": invited.incoming_token},
    )
    assert registered["ok"], registered
    identity = unique_identity()
    station = station_register(
        identity=identity, password=None, site=SiteFactory(name=f"Site {identity}")
    )
    try:
        Station.objects.filter(pk=station.pk).update(is_online=True)
        evse = Evse.objects.select_related("station").get(station=station, evse_id=1)
        peer.control("set", {"down": True})
        with override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True):
            with transaction.atomic():
                evse_set_status(evse=evse, status="Charging", at=timezone.now())
            push = Push.objects.get()

            def wait_for(predicate, timeout=20.0):
                deadline = time.monotonic() + timeout
                while not predicate():
                    assert time.monotonic() < deadline, worker.log()
                    time.sleep(0.05)

            wait_for(lambda: len(peer.state()["rejected"]) >= 2)
            peer.control("set", {"down": False})
            wait_for(lambda: Push.objects.get(pk=push.pk).status == PushStatus.SUCCEEDED)
            push.refresh_from_db()
            # a late duplicate of the task finds the push already claimed and sent
            assert services.push_attempt(push_id=push.pk) is None
            time.sleep(0.5)
        state = peer.state()
        path = f"/ocpi/2.2.1/locations/CA/ALP/LOC{station.site_id}/{station.pk}-1"
        patches = [r for r in state["received"] if r["path"] == path]
        assert len(patches) == 1, state["received"]
        assert patches[0]["method"] == "PATCH" and patches[0]["body"]["status"] == "CHARGING"
        assert push.attempts >= 3 and push.response_status == 200 and push.ocpi_status == 1000
        assert len([r for r in state["rejected"] if r["path"] == path]) == push.attempts - 1
    finally:
        Station.objects.filter(pk=station.pk).delete()
        Site.objects.filter(pk=station.site_id).delete()
        StationIdentity.objects.filter(identity=identity).delete()
