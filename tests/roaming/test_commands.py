"""Commands from a partner: answered at once (CommandResponse), carried out through the core's
command service by a Celery worker, the result POSTed to the partner's response_url."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from django.test import Client
from ocpp.v16 import call as call16

from apps.charging.models import ChargingSession
from apps.roaming import services
from apps.roaming.models import RemoteCommand
from apps.stations.models import Site, Station
from apps.stations.services import station_register
from apps.tenants.models import StationIdentity
from tests.factories import SiteFactory
from tests.live import unique_identity
from tests.ocpp.clients import Connected, in_db
from tests.workers import WorkerProcess

from .conftest import ALPHA_HOST
from .factories import PartnerFactory


@pytest.fixture
def ocpi(alpha):
    partner = PartnerFactory()
    auth = "Token " + base64.b64encode(partner.incoming_token.encode()).decode()
    return partner, Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=auth)


def test_commands_are_checked_before_they_are_accepted(ocpi, django_capture_on_commit_callbacks):
    partner, client = ocpi
    station = station_register(identity=unique_identity(), password=None, site=SiteFactory())
    url = "/ocpi/2.2.1/commands/"

    def send(command, body):
        answer = client.post(url + command, body, content_type="application/json")
        assert answer.status_code == 200 and answer.json()["status_code"] == 1000
        return answer.json()["data"]["result"]

    respond = {"response_url": "https://emsp.example/ocpi/commands/X/1"}
    start = {**respond, "token": {"uid": "CARD"}, "location_id": f"LOC{station.site_id}"}
    assert send("RESERVE_NOW", respond) == "NOT_SUPPORTED"
    assert send("FLY", respond) == "NOT_SUPPORTED"
    assert send("START_SESSION", {**start, "evse_uid": f"{station.pk}-7"}) == "REJECTED"
    assert send("START_SESSION", {**start, "location_id": "LOC0"}) == "REJECTED"
    assert send("STOP_SESSION", {**respond, "session_id": "424242"}) == "UNKNOWN_SESSION"
    assert not RemoteCommand.objects.exists()
    with django_capture_on_commit_callbacks() as queued:
        assert send("START_SESSION", {**start, "evse_uid": f"{station.pk}-1"}) == "ACCEPTED"
    assert RemoteCommand.objects.get().command == "START_SESSION" and len(queued) == 1


@pytest.fixture
def worker(django_db_setup):
    process = WorkerProcess(
        "roaming-commands",
        settings={"ROAMING_ALLOW_PRIVATE_NETWORKS": True, "ROAMING_RETRY_BASE_SECONDS": 0.3},
    )
    process.start()
    yield process
    process.stop()


@pytest.mark.slow
async def test_remote_start_session_with_its_async_result(roaming_server, live_alpha, peer, worker):
    invited = await in_db(live_alpha, lambda: services.partner_invite(name="Peer eMSP"))
    registered = await asyncio.to_thread(
        peer.control,
        "register",
        {"versions_url": f"http://{ALPHA_HOST}/ocpi/versions", "token": invited.incoming_token},
    )
    assert registered["ok"], registered
    identity, password = unique_identity(), "pw-roaming-0123456789"
    station = await in_db(
        live_alpha,
        lambda: station_register(
            identity=identity, password=password, site=SiteFactory(name=f"Site {identity}")
        ),
    )
    response_url = f"{peer.url}/ocpi/2.2.1/commands/START_SESSION/cmd-1"
    try:
        async with Connected(roaming_server.ws, identity, password, "1.6") as cp:
            await cp.call(call16.BootNotification(charge_point_vendor="A", charge_point_model="B"))
            answer = await asyncio.to_thread(
                peer.control,
                "call",
                {
                    "method": "POST",
                    "url": f"http://{ALPHA_HOST}/ocpi/2.2.1/commands/START_SESSION",
                    "body": {
                        "response_url": response_url,
                        "token": {
                            "country_code": "NL",
                            "party_id": "EMS",
                            "uid": "REMOTE-1",
                            "type": "APP_USER",
                            "contract_id": "NL-EMS-C00000042",
                            "issuer": "Peer eMSP",
                            "valid": True,
                            "whitelist": "ALLOWED",
                            "last_updated": "2026-12-07T12:00:00Z",
                        },
                        "location_id": f"LOC{station.site_id}",
                        "evse_uid": f"{station.pk}-1",
                    },
                },
            )
            assert answer["body"]["data"]["result"] == "ACCEPTED", answer

            def result_posted():
                state = peer.state()
                return [r for r in state["received"] if r["path"].endswith("/cmd-1")]

            deadline = time.monotonic() + 30
            while not (posted := await asyncio.to_thread(result_posted)):
                assert time.monotonic() < deadline, worker.log()
                await asyncio.sleep(0.1)
            assert posted[0]["method"] == "POST" and posted[0]["body"] == {"result": "ACCEPTED"}
            assert cp.received[0][0] == "RemoteStartTransaction"
            assert cp.received[0][1]["id_tag"] == "REMOTE-1"

            # the station starts the session: the partner gets it (PUT), exactly once
            start = await cp.call(
                call16.StartTransaction(
                    connector_id=1,
                    id_tag="REMOTE-1",
                    meter_start=0,
                    timestamp="2026-12-07T12:00:05Z",
                ),
                suppress=False,
            )
            assert start.id_tag_info["status"] == "Accepted"

            def session_puts():
                state = peer.state()
                return [
                    r
                    for r in state["received"]
                    if r["method"] == "PUT" and "/sessions/" in r["path"]
                ]

            while not (puts := await asyncio.to_thread(session_puts)):
                assert time.monotonic() < deadline + 30, worker.log()
                await asyncio.sleep(0.1)
            assert puts[0]["body"]["cdr_token"]["uid"] == "REMOTE-1"
            assert puts[0]["body"]["status"] == "ACTIVE"
        remote = await in_db(live_alpha, lambda: RemoteCommand.objects.get())
        assert (remote.result, remote.station_status) == ("ACCEPTED", "Accepted")
    finally:

        def cleanup():
            ChargingSession.objects.filter(station_id=station.pk).delete()
            Station.objects.filter(pk=station.pk).delete()
            Site.objects.filter(pk=station.site_id).delete()
            StationIdentity.objects.filter(identity=identity).delete()

        await in_db(live_alpha, cleanup)
