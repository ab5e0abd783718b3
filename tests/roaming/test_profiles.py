"""Charging profiles (OCPI 2.2.1 chargingprofiles, CPO as receiver): a partner caps, reads
and clears the current of its driver's session; power management applies it (the core's
SESSION_CURRENT_CAP / SESSION_CURRENT policies) and the result goes to its response_url."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client, override_settings

from apps.charging.models import ChargingSession
from apps.charging.services import session_start
from apps.power.models import SessionPower
from apps.roaming import services
from apps.roaming.models import Partner, Push
from apps.stations.models import Site, Station
from apps.stations.services import site_create, station_register
from apps.tenants.models import StationIdentity
from tests.live import unique_identity

from .conftest import ALPHA_HOST
from .factories import PartnerFactory

W_11040 = {
    "charging_rate_unit": "W",
    "charging_profile_period": [{"start_period": 0, "limit": 11040}],
}


def _session_of(partner, uid="SMART-1"):
    services.token_store(
        partner=partner,
        data={"contract_id": "NL-EMS-S1", "issuer": "Peer", "valid": True, "whitelist": "ALWAYS"},
        country_code=partner.country_code,
        party_id=partner.party_id,
        uid=uid,
    )
    identity = unique_identity()
    site = site_create(name=f"Smart {identity}", timezone="America/Montreal")
    station = station_register(identity=identity, password=None, site=site)
    session, _ = session_start(
        station_id=station.pk,
        evse_id=1,
        id_token=uid,
        meter_start_wh=0,
        started_at=dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC),
    )
    return session, station, identity


@pytest.fixture
def ocpi(alpha):
    partner = PartnerFactory()
    auth = "Token " + base64.b64encode(partner.incoming_token.encode()).decode()
    return partner, Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=auth)


def test_set_get_and_clear_a_sessions_profile(ocpi):
    partner, client = ocpi
    session, _, _ = _session_of(partner)
    url = f"/ocpi/2.2.1/chargingprofiles/{session.pk}"
    respond = "https://emsp.example/ocpi/profiles/result/1"

    def result(answer):
        assert answer.status_code == 200, answer.content
        return answer.json()["data"]["result"]

    # power does not manage this session (yet): not supported
    body = {"charging_profile": W_11040, "response_url": respond}
    assert result(client.put(url, body, content_type="application/json")) == "NOT_SUPPORTED"
    power = SessionPower.objects.create(session=session)

    assert result(client.put(url, body, content_type="application/json")) == "ACCEPTED"
    power.refresh_from_db()
    assert power.max_current_a == Decimal("16.0")  # 11,040 W / (230 V × 3 phases)
    (answered,) = Push.objects.filter(path=respond)
    assert answered.body == {"result": "ACCEPTED"} and answered.method == "POST"

    reading = "https://emsp.example/ocpi/profiles/result/2"
    assert result(client.get(f"{url}?response_url={reading}")) == "ACCEPTED"
    active = Push.objects.get(path=reading).body
    assert active["result"] == "ACCEPTED"
    assert active["profile"]["charging_profile"] == {
        "charging_rate_unit": "A",
        "charging_profile_period": [{"start_period": 0, "limit": 16}],
    }

    clearing = "https://emsp.example/ocpi/profiles/result/3"
    assert result(client.delete(f"{url}?response_url={clearing}")) == "ACCEPTED"
    power.refresh_from_db()
    assert power.max_current_a is None
    assert Push.objects.get(path=clearing).body == {"result": "ACCEPTED"}

    amps = {
        "charging_rate_unit": "A",
        "charging_profile_period": [{"start_period": 0, "limit": 10}],
    }
    answer = client.put(
        url, {"charging_profile": amps, "response_url": respond}, "application/json"
    )
    assert result(answer) == "ACCEPTED"
    power.refresh_from_db()
    assert power.max_current_a == Decimal("10.0")

    bad = client.put(
        url,
        {"charging_profile": {"charging_rate_unit": "kW"}, "response_url": respond},
        content_type="application/json",
    )
    assert bad.json()["status_code"] == 2001
    assert result(client.put("/ocpi/2.2.1/chargingprofiles/999999", body, "application/json")) == (
        "UNKNOWN_SESSION"
    )
    # another partner's driver's session is not theirs to shape
    other = PartnerFactory()
    auth = "Token " + base64.b64encode(other.incoming_token.encode()).decode()
    stranger = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=auth)
    assert result(stranger.put(url, body, content_type="application/json")) == "UNKNOWN_SESSION"
    endpoints = client.get("/ocpi/2.2.1").json()["data"]["endpoints"]
    assert {"identifier": "chargingprofiles", "role": "RECEIVER"} in [
        {k: e[k] for k in ("identifier", "role")} for e in endpoints
    ]


def test_the_peer_sets_a_profile_and_gets_the_result(live_alpha, peer, monkeypatch):
    monkeypatch.setattr(services, "_send", lambda entries: None)  # attempted here, not queued
    invited = services.partner_invite(name="Smart eMSP")
    registered = peer.control(
        "register",
        {"versions_url": f"http://{ALPHA_HOST}/ocpi/versions", "token": invited.incoming_token},
    )
    assert registered["ok"], registered
    partner = Partner.objects.get(pk=invited.pk)
    session, station, identity = _session_of(partner, uid="SMART-LIVE")
    try:
        SessionPower.objects.get_or_create(session=session)
        response_url = f"{peer.url}/ocpi/2.2.1/chargingprofiles/result/p-1"
        answer = peer.control(
            "call",
            {
                "method": "PUT",
                "url": f"http://{ALPHA_HOST}/ocpi/2.2.1/chargingprofiles/{session.pk}",
                "body": {"charging_profile": W_11040, "response_url": response_url},
            },
        )
        assert answer["body"]["data"]["result"] == "ACCEPTED", answer
        assert SessionPower.objects.get(session=session).max_current_a == Decimal("16.0")
        push = Push.objects.get(path=response_url)
        with override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True):
            assert services.push_attempt(push_id=push.pk).status == "succeeded"
        (posted,) = [r for r in peer.state()["received"] if r["path"].endswith("/p-1")]
        assert posted["method"] == "POST" and posted["body"] == {"result": "ACCEPTED"}
    finally:
        Push.objects.all().delete()
        ChargingSession.objects.filter(station_id=station.pk).delete()
        Station.objects.filter(pk=station.pk).delete()
        Site.objects.filter(pk=station.site_id).delete()
        StationIdentity.objects.filter(identity=identity).delete()
