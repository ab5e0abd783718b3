"""Commands from a partner: answered at once (CommandResponse), carried out through the core's
command service by a Celery worker, the result POSTed to the partner's response_url."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from ocpp.v16 import call as call16

from apps.charging.models import ChargingSession
from apps.roaming import commands, remote, services
from apps.roaming.models import Push, RemoteCommand
from apps.stations.models import Site, Station
from apps.stations.services import station_register
from apps.tenants.models import StationIdentity
from tests.factories import SiteFactory
from tests.live import unique_identity
from tests.ocpp.clients import Connected, in_db
from tests.workers import WorkerProcess

from .conftest import ALPHA_HOST
from .factories import PartnerFactory

TOKEN = {
    "country_code": "NL",
    "party_id": "EMS",
    "uid": "CARD",
    "type": "RFID",
    "contract_id": "NL-EMS-C00000001",
    "issuer": "Peer eMSP",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2026-12-07T12:00:00Z",
}


# Access keeps each station's local authorisation list in step (on boot, on changes): those
# calls are not the partner's commands.
LOCAL_LIST = {"GetConfiguration", "GetLocalListVersion", "SendLocalList", "ClearCache"}


def _commands(cp) -> list:
    return [message for message in cp.received if message[0] not in LOCAL_LIST]


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
    start = {**respond, "token": TOKEN, "location_id": f"LOC{station.site_id}"}
    assert send("FLY", respond) == "NOT_SUPPORTED"
    assert send("START_SESSION", {**start, "evse_uid": f"{station.pk}-7"}) == "REJECTED"
    assert send("START_SESSION", {**start, "location_id": "LOC0"}) == "REJECTED"
    assert send("START_SESSION", {**start, "token": {"uid": "CARD"}}) == "REJECTED"
    assert send("STOP_SESSION", {**respond, "session_id": "424242"}) == "UNKNOWN_SESSION"
    assert not RemoteCommand.objects.exists()
    with django_capture_on_commit_callbacks() as queued:
        assert send("START_SESSION", {**start, "evse_uid": f"{station.pk}-1"}) == "ACCEPTED"
    assert RemoteCommand.objects.get().command == "START_SESSION" and len(queued) == 1


def test_reservations_are_checked_and_keep_their_station_id(
    ocpi, django_capture_on_commit_callbacks
):
    partner, client = ocpi
    station = station_register(identity=unique_identity(), password=None, site=SiteFactory())
    url = "/ocpi/2.2.1/commands/"

    def send(command, body):
        answer = client.post(url + command, body, content_type="application/json")
        assert answer.status_code == 200 and answer.json()["status_code"] == 1000
        return answer.json()["data"]["result"]

    later = (timezone.now() + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reserve = {
        "response_url": "https://emsp.example/ocpi/commands/RESERVE_NOW/1",
        "token": {**TOKEN, "uid": "CARD-R"},
        "expiry_date": later,
        "reservation_id": "R-1",
        "location_id": f"LOC{station.site_id}",
        "evse_uid": f"{station.pk}-1",
    }
    cancel = {
        "response_url": "https://emsp.example/ocpi/commands/CANCEL/1",
        "reservation_id": "R-1",
    }
    assert send("RESERVE_NOW", {**reserve, "reservation_id": ""}) == "REJECTED"
    assert send("RESERVE_NOW", {**reserve, "expiry_date": "2020-01-01T00:00:00Z"}) == "REJECTED"
    assert send("RESERVE_NOW", {**reserve, "expiry_date": "soon"}) == "REJECTED"
    assert send("RESERVE_NOW", {**reserve, "evse_uid": f"{station.pk}-9"}) == "REJECTED"
    assert send("RESERVE_NOW", {**reserve, "token": {}}) == "REJECTED"
    # no evse_uid: an available EVSE of an online station (this one is offline)
    assert send("RESERVE_NOW", {**reserve, "evse_uid": None}) == "REJECTED"
    assert send("CANCEL_RESERVATION", cancel) == "REJECTED"  # nothing held yet
    assert not RemoteCommand.objects.exists()

    with django_capture_on_commit_callbacks() as queued:
        assert send("RESERVE_NOW", reserve) == "ACCEPTED"
    first = RemoteCommand.objects.get()
    assert (first.reservation_id, first.station_id) == ("R-1", station.pk)
    assert 0 < first.ocpp_reservation_id < 2**31 and len(queued) == 1
    # not accepted by the station yet: nothing to cancel
    assert send("CANCEL_RESERVATION", cancel) == "REJECTED"
    RemoteCommand.objects.filter(pk=first.pk).update(state="done", result="ACCEPTED")
    # the same reservation_id again replaces it: the station gets the same OCPP id
    assert send("RESERVE_NOW", reserve) == "ACCEPTED"
    again = RemoteCommand.objects.filter(command="RESERVE_NOW").exclude(pk=first.pk).get()
    assert again.ocpp_reservation_id == first.ocpp_reservation_id
    # another partner cannot cancel it
    other = PartnerFactory()
    assert remote.command_receive(partner=other, command="CANCEL_RESERVATION", body=cancel) == (
        "REJECTED",
        "Unknown reservation",
    )
    assert send("CANCEL_RESERVATION", cancel) == "ACCEPTED"
    cancelling = RemoteCommand.objects.get(command="CANCEL_RESERVATION")
    assert cancelling.ocpp_reservation_id == first.ocpp_reservation_id
    assert cancelling.station_id == station.pk
    cancelling.state, cancelling.result = "done", "CANCELED_RESERVATION"
    cancelling.save()
    RemoteCommand.objects.filter(pk=again.pk).update(state="done", result="ACCEPTED")
    assert send("CANCEL_RESERVATION", cancel) == "REJECTED"  # cancelled already


@pytest.mark.parametrize(
    ("answer", "result"),
    [
        (("RESERVE_NOW", True, "Accepted"), "ACCEPTED"),
        (("RESERVE_NOW", False, "Occupied"), "EVSE_OCCUPIED"),
        (("RESERVE_NOW", False, "Faulted"), "EVSE_INOPERATIVE"),
        (("RESERVE_NOW", False, "Unavailable"), "EVSE_INOPERATIVE"),
        (("RESERVE_NOW", False, "StationOffline"), "TIMEOUT"),
        (("CANCEL_RESERVATION", True, "Accepted"), "CANCELED_RESERVATION"),
        (("CANCEL_RESERVATION", False, "Rejected"), "UNKNOWN_RESERVATION"),
        (("CANCEL_RESERVATION", False, "CommandTimeout"), "TIMEOUT"),
    ],
)
def test_station_answers_become_command_results(alpha, monkeypatch, answer, result):
    command, ok, status = answer
    station = station_register(identity=unique_identity(), password=None, site=SiteFactory())
    partner = PartnerFactory()
    sent = []
    monkeypatch.setattr(
        commands, "reserve_now", lambda **kw: sent.append(("reserve", kw)) or (ok, status)
    )
    monkeypatch.setattr(
        commands, "cancel_reservation", lambda **kw: sent.append(("cancel", kw)) or (ok, status)
    )
    later = (timezone.now() + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    queued = RemoteCommand.objects.create(
        partner=partner,
        command=command,
        response_url="https://emsp.example/ocpi/commands/X/2",
        reservation_id="R-2",
        ocpp_reservation_id=77,
        station=station,
        body={
            "response_url": "https://emsp.example/ocpi/commands/X/2",
            "token": {**TOKEN, "uid": "CARD-R2"},
            "expiry_date": later,
            "reservation_id": "R-2",
            "location_id": f"LOC{station.site_id}",
            "evse_uid": f"{station.pk}-1",
        },
    )
    done = remote.command_run(command_id=queued.pk)
    assert done.result == result and done.station_status == status
    assert sent[0][1]["reservation_id"] == 77 and sent[0][1]["station"].pk == station.pk
    push = Push.objects.get(partner=partner)
    assert push.body == {"result": result} and push.path.endswith("/X/2")
    assert remote.command_run(command_id=queued.pk) is None  # claimed once


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
async def test_remote_commands_with_their_async_results(roaming_server, live_alpha, peer, worker):
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

    def cpo_command(name, body):
        return peer.control(
            "call",
            {
                "method": "POST",
                "url": f"http://{ALPHA_HOST}/ocpi/2.2.1/commands/{name}",
                "body": body,
            },
        )

    async def result_of(suffix):
        def posted():
            return [r for r in peer.state()["received"] if r["path"].endswith(suffix)]

        deadline = time.monotonic() + 30
        while not (found := await asyncio.to_thread(posted)):
            assert time.monotonic() < deadline, worker.log()
            await asyncio.sleep(0.1)
        return found

    try:
        async with Connected(roaming_server.ws, identity, password, "1.6") as cp:
            await cp.call(call16.BootNotification(charge_point_vendor="A", charge_point_model="B"))
            # RESERVE_NOW, then CANCEL_RESERVATION of it: both results reach the partner
            later = (timezone.now() + dt.timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
            answer = await asyncio.to_thread(
                cpo_command,
                "RESERVE_NOW",
                {
                    "response_url": f"{peer.url}/ocpi/2.2.1/commands/RESERVE_NOW/res-1",
                    "token": {
                        "country_code": "NL",
                        "party_id": "EMS",
                        "uid": "RESERVER-1",
                        "type": "RFID",
                        "contract_id": "NL-EMS-C00000043",
                        "issuer": "Peer eMSP",
                        "valid": True,
                        "whitelist": "ALLOWED",
                        "last_updated": "2026-12-07T12:00:00Z",
                    },
                    "expiry_date": later,
                    "reservation_id": "EMSP-RES-1",
                    "location_id": f"LOC{station.site_id}",
                    "evse_uid": f"{station.pk}-1",
                },
            )
            assert answer["body"]["data"]["result"] == "ACCEPTED", answer
            posted = await result_of("/res-1")
            assert posted[0]["body"] == {"result": "ACCEPTED"}
            reserve = await in_db(
                live_alpha, lambda: RemoteCommand.objects.get(command="RESERVE_NOW")
            )
            assert _commands(cp)[0] == (
                "ReserveNow",
                {"reservation_id": reserve.ocpp_reservation_id},
            )
            answer = await asyncio.to_thread(
                cpo_command,
                "CANCEL_RESERVATION",
                {
                    "response_url": f"{peer.url}/ocpi/2.2.1/commands/CANCEL_RESERVATION/can-1",
                    "reservation_id": "EMSP-RES-1",
                },
            )
            assert answer["body"]["data"]["result"] == "ACCEPTED", answer
            posted = await result_of("/can-1")
            assert posted[0]["body"] == {"result": "CANCELED_RESERVATION"}
            assert _commands(cp)[1] == (
                "CancelReservation",
                {"reservation_id": reserve.ocpp_reservation_id},
            )
            # a reservation cancelled is not held any more
            answer = await asyncio.to_thread(
                cpo_command,
                "CANCEL_RESERVATION",
                {
                    "response_url": f"{peer.url}/ocpi/2.2.1/commands/CANCEL_RESERVATION/can-2",
                    "reservation_id": "EMSP-RES-1",
                },
            )
            assert answer["body"]["data"]["result"] == "REJECTED", answer
            del cp.received[:]

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
            assert _commands(cp)[0][0] == "RemoteStartTransaction"
            assert _commands(cp)[0][1]["id_tag"] == "REMOTE-1"

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
        remote = await in_db(live_alpha, lambda: RemoteCommand.objects.get(command="START_SESSION"))
        assert (remote.result, remote.station_status) == ("ACCEPTED", "Accepted")
    finally:

        def cleanup():
            # the server may still be writing rows of the station (power's session row, the
            # message log) just after it went away: try again until they are all in
            for _attempt in range(20):
                try:
                    with transaction.atomic():
                        ChargingSession.objects.filter(station_id=station.pk).delete()
                        Station.objects.filter(pk=station.pk).delete()
                        Site.objects.filter(pk=station.site_id).delete()
                        StationIdentity.objects.filter(identity=identity).delete()
                    return
                except IntegrityError:
                    time.sleep(0.3)

        await in_db(live_alpha, cleanup)
