"""Hubs: what we send through a hub names the party it is for (OCPI-to-*: the token's eMSP,
else the hub itself) and us (OCPI-from-*); nothing of the kind goes to a plain eMSP."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings

from apps.charging.services import session_start
from apps.roaming import services
from apps.roaming.choices import PartnerStatus
from apps.roaming.models import Partner, Push
from apps.stations.services import site_create, station_register
from tests.live import unique_identity

from .factories import PartnerFactory


def test_a_session_of_a_hub_token_is_routed_to_its_emsp(alpha):
    hub = PartnerFactory(
        roles=["HUB"],
        endpoints=[
            {"identifier": "sessions", "role": "RECEIVER", "url": "https://hub.example/sessions"}
        ],
    )
    services.token_store(
        partner=hub,
        data={"contract_id": "DE-ABC-C1", "issuer": "ABC", "valid": True, "whitelist": "ALWAYS"},
        country_code="DE",
        party_id="ABC",
        uid="HUB-CARD",
    )
    site = site_create(name=f"Hub {unique_identity()}", timezone="America/Montreal")
    station = station_register(identity=unique_identity(), password=None, site=site)
    session_start(
        station_id=station.pk,
        evse_id=1,
        id_token="HUB-CARD",
        meter_start_wh=0,
        started_at=dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC),
    )
    push = Push.objects.get(module="sessions")
    assert push.partner == hub and push.route_to == "DEABC"


def test_the_routing_headers_reach_the_peer(live_alpha, peer, monkeypatch):
    monkeypatch.setattr(services, "_send", lambda entries: None)  # attempted here, not queued
    peer.control("set", {"issued_token": "token-for-the-hub"})
    base = f"{peer.url}/ocpi/2.2.1"

    def partner(roles, party_id):
        return Partner.objects.create(
            name=f"Partner {party_id}",
            country_code="DE",
            party_id=party_id,
            roles=roles,
            status=PartnerStatus.CONNECTED,
            version="2.2.1",
            incoming_token=f"in-{party_id}-{unique_identity()}",
            outgoing_token="token-for-the-hub",
            endpoints=[{"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/sessions"}],
        )

    hub, emsp = partner(["HUB"], "HUB"), partner(["EMSP"], "EMP")
    profile = services.profile_get()
    sent = [
        services.push_enqueue(
            partners=[to], party=party, module="sessions", method="PUT", path=path, body={}
        )[0]
        for to, party, path in (
            (hub, ("NL", "EMS"), "/for-emsp"),
            (hub, None, "/for-the-hub"),
            (emsp, ("NL", "EMS"), "/direct"),
        )
    ]
    with override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True):
        for push in sent:
            assert services.push_attempt(push_id=push.pk).status == "succeeded"
    received = {r["path"].rsplit("/", 1)[-1]: r for r in peer.state()["received"]}
    ours = [profile.country_code, profile.party_id]
    assert received["for-emsp"]["to"] == ["NL", "EMS"] and received["for-emsp"]["from"] == ours
    assert received["for-the-hub"]["to"] == ["DE", "HUB"]
    assert received["direct"]["to"] == [None, None] and received["direct"]["from"] == [None, None]
