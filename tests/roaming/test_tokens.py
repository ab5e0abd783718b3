"""Tokens (receiver interface) and authorisation through the core's AUTHORIZATION policy:
tokens pushed by partners, whitelist rules, real-time ``authorize`` at the driver's eMSP."""

from __future__ import annotations

import asyncio
import base64

import pytest
from django.test import Client, override_settings
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from apps.charging.models import ChargingSession
from apps.charging.services import authorize
from apps.roaming import services
from apps.roaming.models import RemoteToken
from apps.stations.models import Site, Station
from apps.stations.services import station_register
from apps.tenants.models import StationIdentity
from tests.factories import SiteFactory
from tests.live import unique_identity
from tests.ocpp.clients import Connected, in_db

from .conftest import ALPHA_HOST
from .factories import PartnerFactory

UNREACHABLE = [
    {"identifier": "tokens", "role": "SENDER", "url": "http://127.0.0.1:9/ocpi/tokens"},
]


def token_object(uid: str, whitelist: str = "ALWAYS", valid: bool = True) -> dict:
    return {
        "country_code": "NL",
        "party_id": "E01",
        "uid": uid,
        "type": "RFID",
        "contract_id": "NL-E01-C12345678-X",
        "issuer": "eMSP One",
        "valid": valid,
        "whitelist": whitelist,
        "last_updated": "2026-12-07T10:00:00Z",
    }


@pytest.fixture
def partner(alpha):
    return PartnerFactory(party_id="E01", endpoints=UNREACHABLE)


@pytest.fixture
def ocpi(partner):
    auth = "Token " + base64.b64encode(partner.incoming_token.encode()).decode()
    return Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=auth)


def test_partner_pushes_and_patches_a_token(ocpi, partner):
    url = "/ocpi/2.2.1/tokens/NL/E01/04A1B2C3"
    put = ocpi.put(url, token_object("04A1B2C3"), content_type="application/json")
    assert put.status_code == 200 and put.json()["status_code"] == 1000
    patch = ocpi.patch(
        url, {"valid": False, "last_updated": "2026-12-07T11:00:00Z"}, "application/json"
    )
    assert patch.json()["status_code"] == 1000
    token = RemoteToken.objects.get()
    assert (token.partner, token.uid, token.valid, token.whitelist) == (
        partner,
        "04A1B2C3",
        False,
        "ALWAYS",
    )
    assert ocpi.get(url).json()["data"]["valid"] is False
    unknown = ocpi.patch("/ocpi/2.2.1/tokens/NL/E01/NOPE", {"valid": True}, "application/json")
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 2004
    # a partner may only write its own party's tokens
    other = ocpi.put("/ocpi/2.2.1/tokens/DE/XYZ/1", token_object("1"), "application/json")
    assert other.status_code == 403
    bad = ocpi.put(url, {**token_object("04A1B2C3"), "whitelist": "SOMETIMES"}, "application/json")
    assert bad.json()["status_code"] == 2001


@pytest.fixture
def station(alpha):
    return station_register(identity=unique_identity(), password=None, site=SiteFactory())


@pytest.mark.parametrize(
    "whitelist, valid, expected",
    [
        ("ALWAYS", True, "Accepted"),
        ("ALWAYS", False, "Blocked"),
        ("ALLOWED", True, "Accepted"),
        # the eMSP must be asked; it cannot be reached: only ALLOWED_OFFLINE may charge
        ("ALLOWED_OFFLINE", True, "Accepted"),
        ("NEVER", True, "Invalid"),
    ],
)
@override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True, ROAMING_AUTHORIZE_TIMEOUT=1)
def test_whitelist_rules_with_the_emsp_unreachable(partner, station, whitelist, valid, expected):
    services.token_store(
        partner=partner,
        data=token_object("CARD1", whitelist, valid),
        country_code="NL",
        party_id="E01",
        uid="CARD1",
    )
    decision = authorize(uid="CARD1", station_id=station.pk, evse_id=1)
    assert decision.status == expected


def test_our_own_drivers_tokens_are_left_to_the_core(partner, station):
    from apps.charging.services import token_create

    token_create(uid="LOCAL1")
    assert authorize(uid="LOCAL1", station_id=station.pk).status == "Accepted"
    assert authorize(uid="NOBODY", station_id=station.pk).status == "Invalid"


@pytest.mark.slow
async def test_foreign_token_authorised_in_real_time_charges_on_a_live_station(
    roaming_server, live_alpha, peer
):
    invited = await in_db(live_alpha, lambda: services.partner_invite(name="Peer eMSP"))
    registered = await asyncio.to_thread(
        peer.control,
        "register",
        {"versions_url": f"http://{ALPHA_HOST}/ocpi/versions", "token": invited.incoming_token},
    )
    assert registered["ok"], registered
    await asyncio.to_thread(
        peer.control, "set", {"authorize": {"ROAM-OK": "ALLOWED", "ROAM-NO": "BLOCKED"}}
    )
    identity, password = unique_identity(), "pw-roaming-0123456789"
    station = await in_db(
        live_alpha,
        lambda: station_register(
            identity=identity, password=password, site=SiteFactory(name=f"Site {identity}")
        ),
    )
    try:
        async with Connected(roaming_server.ws, identity, password, "1.6") as cp:
            await cp.call(call16.BootNotification(charge_point_vendor="A", charge_point_model="B"))
            ok = await cp.call(call16.Authorize(id_tag="ROAM-OK"))
            assert ok.id_tag_info["status"] == "Accepted"
            no = await cp.call(call16.Authorize(id_tag="ROAM-NO"))
            assert no.id_tag_info["status"] == "Blocked"
            unknown = await cp.call(call16.Authorize(id_tag="ROAM-WHO"))
            assert unknown.id_tag_info["status"] == "Invalid"
            start = await cp.call(
                call16.StartTransaction(
                    connector_id=1,
                    id_tag="ROAM-OK",
                    meter_start=1000,
                    timestamp="2026-12-07T12:00:00Z",
                ),
                suppress=False,
            )
            assert start.id_tag_info["status"] == "Accepted"
            await cp.call(
                call16.StopTransaction(
                    transaction_id=start.transaction_id,
                    meter_stop=8500,
                    timestamp="2026-12-07T12:30:00Z",
                    id_tag="ROAM-OK",
                ),
                suppress=False,
            )
        state = await asyncio.to_thread(peer.state)
        asks = [r for r in state["received"] if r["path"].endswith("/authorize")]
        assert [r["path"].split("/")[-2] for r in asks][:3] == ["ROAM-OK", "ROAM-NO", "ROAM-WHO"]
        assert asks[0]["body"]["location_id"] == f"LOC{station.site_id}"
        assert asks[0]["query"]["type"] == ["RFID"]
        session = await in_db(
            live_alpha, lambda: ChargingSession.objects.get(station_id=station.pk)
        )
        assert (session.id_token, session.energy_wh) == ("ROAM-OK", 7500)
        # the eMSP's answer left us its token (whitelist NEVER: always asked again)
        stored = await in_db(live_alpha, lambda: RemoteToken.objects.get(uid="ROAM-OK"))
        assert stored.whitelist == "NEVER" and stored.partner_id == invited.pk

        # the eMSP goes down: NEVER refuses; after it pushes ALLOWED_OFFLINE, we accept
        await asyncio.to_thread(peer.control, "set", {"down": True})
        async with Connected(roaming_server.ws, identity, password, "2.0.1") as cp:
            id_token = {"idToken": "ROAM-OK", "type": "ISO14443"}
            refused = await cp.call(call201.Authorize(id_token=id_token))
            assert refused.id_token_info["status"] == "Invalid"
            put = await asyncio.to_thread(
                peer.control,
                "call",
                {
                    "method": "PATCH",
                    "url": f"http://{ALPHA_HOST}/ocpi/2.2.1/tokens/NL/EMS/ROAM-OK",
                    "body": {
                        "whitelist": "ALLOWED_OFFLINE",
                        "last_updated": "2026-12-07T13:00:00Z",
                    },
                },
            )
            assert put["body"]["status_code"] == 1000, put
            offline = await cp.call(call201.Authorize(id_token=id_token))
            assert offline.id_token_info["status"] == "Accepted"
    finally:

        def cleanup():
            ChargingSession.objects.filter(station_id=station.pk).delete()
            Station.objects.filter(pk=station.pk).delete()
            Site.objects.filter(pk=station.site_id).delete()
            StationIdentity.objects.filter(identity=identity).delete()

        await in_db(live_alpha, cleanup)
