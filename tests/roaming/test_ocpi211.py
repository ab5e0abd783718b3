"""A partner that only speaks OCPI 2.1.1 (the peer in its 2.1.1 mode): the version negotiation
picks 2.1.1, and what it pulls and what we push to it has 2.1.1's shapes."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings

from apps.charging.services import session_start
from apps.roaming import services, shapes211
from apps.roaming.models import Partner, Push
from apps.stations.models import Site, Station
from apps.stations.services import site_create, station_register
from apps.tenants.models import StationIdentity
from tests.live import unique_identity

from .conftest import ALPHA_HOST


def test_a_211_partner_gets_211_locations_and_sessions(live_alpha, peer_211, monkeypatch):
    monkeypatch.setattr(services, "_send", lambda entries: None)  # attempted here, not queued
    invited = services.partner_invite(name="Old eMSP")
    registered = peer_211.control(
        "register",
        {"versions_url": f"http://{ALPHA_HOST}/ocpi/versions", "token": invited.incoming_token},
    )
    assert registered["ok"], registered
    partner = Partner.objects.get(pk=invited.pk)
    assert partner.version == "2.1.1" and (partner.country_code, partner.party_id) == (
        "NL",
        "EMS",
    )
    assert peer_211.state()["cpo_versions_url"].endswith("/ocpi/versions")
    identity = unique_identity()
    site = site_create(name=f"Old {identity}", timezone="America/Montreal")
    station = station_register(identity=identity, password=None, site=site)
    try:
        pulled = peer_211.control(
            "call", {"method": "GET", "url": f"http://{ALPHA_HOST}/ocpi/2.1.1/locations"}
        )
        assert pulled["status"] == 200, pulled
        location = next(loc for loc in pulled["body"]["data"] if loc["id"] == f"LOC{site.pk}")
        assert location["type"] == "UNKNOWN" and "country_code" not in location
        connector = location["evses"][0]["connectors"][0]
        assert connector["voltage"] and connector["amperage"]
        assert "max_voltage" not in connector and "max_electric_power" not in connector

        services.token_store(
            partner=partner,
            data={"auth_id": "NL-EMS-OLD1", "issuer": "Old", "valid": True,
                  "allow_whitelist": "ALWAYS"},
            country_code="NL",
            party_id="EMS",
            uid="OLD-CARD",
        )  # fmt: skip
        session, _ = session_start(
            station_id=station.pk,
            evse_id=1,
            id_token="OLD-CARD",
            meter_start_wh=0,
            started_at=dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC),
        )
        push = Push.objects.get(module="sessions", partner=partner)
        assert "cdr_token" in push.body  # stored in 2.2.1, converted when sent
        with override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True):
            assert services.push_attempt(push_id=push.pk).status == "succeeded"
        (put,) = [r for r in peer_211.state()["received"] if "/sessions/" in r["path"]]
        assert put["path"] == f"/ocpi/2.1.1/sessions/CA/ALP/{session.pk}"
        body = put["body"]
        assert body["auth_id"] == "NL-EMS-OLD1" and body["start_datetime"] == "2026-12-01T12:00:00Z"
        assert "cdr_token" not in body and "location_id" not in body
        assert body["location"]["id"] == f"LOC{site.pk}" and body["location"]["type"] == "UNKNOWN"
        assert [e["uid"] for e in body["location"]["evses"]] == [f"{station.pk}-1"]
    finally:
        Push.objects.all().delete()
        from apps.charging.models import ChargingSession

        ChargingSession.objects.filter(station_id=station.pk).delete()
        Station.objects.filter(pk=station.pk).delete()
        Site.objects.filter(pk=site.pk).delete()
        StationIdentity.objects.filter(identity=identity).delete()


def test_cdr_and_tariff_in_211():
    cdr = {
        "country_code": "CA",
        "party_id": "ALP",
        "id": "R-1",
        "start_date_time": "2026-03-02T20:00:00Z",
        "end_date_time": "2026-03-02T21:00:00Z",
        "session_id": "7",
        "cdr_token": {"uid": "C1", "type": "RFID", "contract_id": "NL-EMS-C1"},
        "auth_method": "AUTH_REQUEST",
        "cdr_location": {"id": "LOC1", "name": "Lot", "address": "1 rue", "city": "Montréal",
                         "country": "CAN", "evse_uid": "3-1", "evse_id": "CA*ALP*E3*1",
                         "connector_id": "1", "connector_standard": "IEC_62196_T2",
                         "connector_format": "SOCKET", "connector_power_type": "AC_3_PHASE"},
        "currency": "CAD",
        "charging_periods": [{"start_date_time": "2026-03-02T20:00:00Z", "tariff_id": "4-1",
                              "dimensions": [{"type": "ENERGY", "volume": 20.5}]}],
        "tariffs": [{"country_code": "CA", "party_id": "ALP", "id": "4-1", "currency": "CAD",
                     "type": "REGULAR", "elements": [], "last_updated": "2026-01-01T00:00:00Z"}],
        "total_cost": {"excl_vat": 6.13, "incl_vat": 6.44},
        "total_energy": 20.5,
        "total_time": 1.0,
        "total_parking_time": 0,
        "last_updated": "2026-03-02T21:05:00Z",
    }  # fmt: skip
    old = shapes211.cdr(cdr)
    assert old["stop_date_time"] == "2026-03-02T21:00:00Z" and old["total_cost"] == 6.44
    assert old["auth_id"] == "NL-EMS-C1" and "cdr_token" not in old
    assert old["location"]["evses"][0]["uid"] == "3-1"
    assert old["location"]["evses"][0]["connectors"][0]["standard"] == "IEC_62196_T2"
    assert "tariff_id" not in old["charging_periods"][0]
    assert old["tariffs"] == [
        {"id": "4-1", "currency": "CAD", "elements": [], "last_updated": "2026-01-01T00:00:00Z"}
    ]
