"""Requests to us: the routing headers a hub forwards with (OCPI-from-* names the party it
forwards for, OCPI-to-* names us) are checked, and 2.1.1 commands have 2.1.1's shapes."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from apps.roaming import commands, remote, services
from apps.roaming.models import Push, RemoteCommand, RemoteToken
from apps.stations.services import station_register
from tests.factories import SiteFactory
from tests.live import unique_identity

from .factories import PartnerFactory

TOKEN = {
    "uid": "CARD-H",
    "type": "RFID",
    "contract_id": "NL-EMS-C00000009",
    "issuer": "Peer eMSP",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2026-12-07T12:00:00Z",
}


def _client(partner, **headers) -> Client:
    auth = "Token " + base64.b64encode(partner.incoming_token.encode()).decode()
    return Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=auth, **headers)


def _routed(sender: str, to: str | None = None) -> dict[str, str]:
    headers = {
        "HTTP_OCPI_FROM_COUNTRY_CODE": sender[:2],
        "HTTP_OCPI_FROM_PARTY_ID": sender[2:],
    }
    if to:
        headers.update(HTTP_OCPI_TO_COUNTRY_CODE=to[:2], HTTP_OCPI_TO_PARTY_ID=to[2:])
    return headers


@pytest.fixture
def ours(alpha):
    profile = services.profile_get()
    return profile.country_code + profile.party_id


def test_a_hub_must_say_whom_it_forwards_for(ours):
    hub = PartnerFactory(roles=["HUB"], country_code="DE", party_id="HUB")
    url = "/ocpi/2.2.1/tokens/NL/EMS/CARD-H"

    def put(**headers):
        answer = _client(hub, **headers).put(url, TOKEN, content_type="application/json")
        return answer.status_code, answer.json()["status_code"]

    assert put() == (400, 2001)  # no OCPI-from-*
    assert put(HTTP_OCPI_FROM_COUNTRY_CODE="NL") == (400, 2001)  # half of it
    assert put(**_routed("NLE!S")) == (400, 2001)  # malformed
    assert put(**_routed(ours)) == (400, 2001)  # from us
    assert put(**_routed("NLEMS", to="FRXYZ")) == (400, 2001)  # to another party
    assert put(**_routed("BEOTH")) == (403, 2000)  # the token is not the sender's
    assert not RemoteToken.objects.exists()
    assert put(**_routed("NLEMS", to=ours)) == (200, 1000)
    stored = RemoteToken.objects.get()
    assert (stored.partner, stored.country_code, stored.party_id) == (hub, "NL", "EMS")
    # the GET of locations needs the sender too
    assert _client(hub).get("/ocpi/2.2.1/locations").json()["status_code"] == 2001
    assert _client(hub, **_routed("NLEMS")).get("/ocpi/2.2.1/locations").status_code == 200


def test_a_direct_partner_may_name_only_itself(ours):
    emsp = PartnerFactory(country_code="NL", party_id="EMD")
    url = "/ocpi/2.2.1/tokens/NL/EMD/CARD-D"

    def put(**headers):
        answer = _client(emsp, **headers).put(url, TOKEN, content_type="application/json")
        return answer.status_code, answer.json()["status_code"]

    assert put(**_routed("NLOTH")) == (403, 2000)
    assert put(**_routed("NLEMD", to="FRXYZ")) == (400, 2001)
    assert put(**_routed("NLEMD", to=ours)) == (200, 1000)
    assert put() == (200, 1000)  # the headers are optional without a hub
    other = "/ocpi/2.2.1/tokens/NL/OTH/CARD-D"
    assert _client(emsp).put(other, TOKEN, content_type="application/json").status_code == 403


def test_a_hub_command_result_goes_back_to_its_sender(ours, monkeypatch):
    hub = PartnerFactory(roles=["HUB"], country_code="DE", party_id="HUB")
    station = station_register(identity=unique_identity(), password=None, site=SiteFactory())
    monkeypatch.setattr(commands, "unlock", lambda **kw: (True, "Unlocked"))
    body = {
        "response_url": "https://hub.example/ocpi/commands/UNLOCK/1",
        "location_id": f"LOC{station.site_id}",
        "evse_uid": f"{station.pk}-1",
        "connector_id": "1",
    }
    answer = _client(hub, **_routed("NLEMS")).post(
        "/ocpi/2.2.1/commands/UNLOCK_CONNECTOR", body, content_type="application/json"
    )
    assert answer.json()["data"]["result"] == "ACCEPTED"
    queued = RemoteCommand.objects.get()
    assert (queued.sender, queued.version) == ("NLEMS", "2.2.1")
    remote.command_run(command_id=queued.pk)
    push = Push.objects.get(partner=hub)
    assert push.route_to == "NLEMS" and push.body == {"result": "ACCEPTED"}


def test_211_commands_have_their_own_shapes(alpha, monkeypatch):
    partner = PartnerFactory(version="2.1.1")
    station = station_register(identity=unique_identity(), password=None, site=SiteFactory())
    client = _client(partner)

    def send(command, body):
        answer = client.post(
            f"/ocpi/2.1.1/commands/{command}", body, content_type="application/json"
        )
        assert answer.status_code == 200 and answer.json()["status_code"] == 1000
        return answer.json()["data"]

    respond = {"response_url": "https://emsp.example/ocpi/211/commands/R/1"}
    # no CANCEL_RESERVATION in 2.1.1; the response is the result alone
    assert send("CANCEL_RESERVATION", {**respond, "reservation_id": 5}) == {
        "result": "NOT_SUPPORTED"
    }
    later = (timezone.now() + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reserve = {
        **respond,
        "token": TOKEN,  # 2.1.1's Token: auth_id or contract_id, no party
        "expiry_date": later,
        "reservation_id": 0,  # an int in 2.1.1: 0 is an id
        "location_id": f"LOC{station.site_id}",
        "evse_uid": f"{station.pk}-1",
    }
    assert send("RESERVE_NOW", reserve) == {"result": "ACCEPTED"}
    queued = RemoteCommand.objects.get()
    assert (queued.reservation_id, queued.version) == ("0", "2.1.1")
    monkeypatch.setattr(commands, "reserve_now", lambda **kw: (False, "Occupied"))
    assert remote.command_run(command_id=queued.pk).result == "EVSE_OCCUPIED"
    # 2.1.1 has no CommandResult: a CommandResponse, whose type has no EVSE_OCCUPIED
    assert Push.objects.get(partner=partner).body == {"result": "REJECTED"}
    # 2.2.1's sync answer keeps its timeout and message
    answer = _client(partner).post(
        "/ocpi/2.2.1/commands/FLY", respond, content_type="application/json"
    )
    assert set(answer.json()["data"]) == {"result", "timeout", "message"}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("ACCEPTED", "ACCEPTED"),
        ("TIMEOUT", "TIMEOUT"),
        ("FAILED", "REJECTED"),
        ("CANCELED_RESERVATION", "REJECTED"),
        ("NOT_SUPPORTED", "NOT_SUPPORTED"),
    ],
)
def test_211_results_map_to_command_response_types(result, expected):
    assert remote.result_body(result, "2.1.1") == {"result": expected}
    assert remote.result_body(result, "2.2.1") == {"result": result}
