"""The API side of the further commands: reservations, power limits and the composite
schedule, the local list, logs and firmware of one station, screen messages and vendor data.
Each endpoint calls the command service the portal's forms call (``apps.ocpp.commands``),
answers the station's word, refuses bad input with field errors, and is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.ocpp import commands
from tests.api.conftest import make_station


class FakeStation:
    """Stands in for ``commands.station_call``: records calls, answers from a script."""

    def __init__(self, answers: dict):
        self.calls: list[tuple[str, dict]] = []
        self.answers = answers

    def __call__(self, station, action, payload, *, timeout=None, validate=True):
        commands.validate_action_payload(station.ocpp_version, action, payload)
        self.calls.append((action, payload))
        return self.answers.get(action, {"status": "Accepted"})


@pytest.fixture
def fake(monkeypatch):
    station = FakeStation(
        {
            "GetLocalListVersion": {"listVersion": 12},
            "GetDiagnostics": {"fileName": "d.zip"},
            "GetCompositeSchedule": {
                "status": "Accepted",
                "schedule": {
                    "evseId": 1,
                    "duration": 600,
                    "scheduleStart": "2026-12-08T10:00:00Z",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400}],
                },
            },
        }
    )
    monkeypatch.setattr(commands, "station_call", station)
    return station


@pytest.fixture
def stations(alpha_sites):
    a1, a2 = alpha_sites
    return {
        "1.6": make_station(a1, "CMDF-16"),
        "2.0.1": make_station(a1, "CMDF-201", version="2.0.1"),
        "a2": make_station(a2, "CMDF-A2"),
    }


def url(station, command: str) -> str:
    return f"/api/v1/stations/{station.pk}/{command}/"


def test_reserve_and_cancel(personas, api_for, stations, fake):
    owner = api_for(personas.owner)
    station = stations["2.0.1"]
    until = timezone.now() + dt.timedelta(hours=1)
    held = owner.post(
        url(station, "reserve"),
        {"evse_id": 1, "id_token": "CARD-1", "expires_at": until.isoformat()},
        format="json",
    )
    assert held.status_code == 200, held.content
    body = held.json()
    assert body["status"] == "Accepted" and body["reservation_id"] > 0
    action, payload = fake.calls[-1]
    assert action == "ReserveNow" and payload["id"] == body["reservation_id"]
    assert payload["idToken"] == {"idToken": "CARD-1", "type": "ISO14443"}
    cancelled = owner.post(
        url(station, "cancel-reservation"),
        {"reservation_id": body["reservation_id"]},
        format="json",
    )
    assert cancelled.status_code == 200
    assert fake.calls[-1] == ("CancelReservation", {"reservationId": body["reservation_id"]})
    past = owner.post(
        url(station, "reserve"),
        {"evse_id": 9, "id_token": "CARD-1", "expires_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 400 and "expires_at" in past.json()["error"]["details"]
    no_port = owner.post(
        url(station, "reserve"),
        {"evse_id": 9, "id_token": "CARD-1", "expires_at": until.isoformat()},
        format="json",
    )
    assert no_port.status_code == 400 and "evse_id" in no_port.json()["error"]["details"]
    assert AuditEntry.objects.filter(action="station.reserve_now", source="api").count() == 1


def test_charging_profile_and_composite_schedule(personas, api_for, stations, fake):
    owner = api_for(personas.owner)
    station = stations["1.6"]
    sent = owner.post(
        url(station, "charging-profile"),
        {
            "purpose": "tx_default",
            "evse_id": 1,
            "unit": "A",
            "periods": [{"start_seconds": 0, "limit": "16"}, {"start_seconds": 600, "limit": "8"}],
        },
        format="json",
    )
    assert sent.status_code == 200, sent.content
    action, payload = fake.calls[-1]
    assert action == "SetChargingProfile" and payload["connectorId"] == 1
    assert payload["csChargingProfiles"]["chargingProfileId"] == commands.operator_profile_id(
        purpose="tx_default", evse_id=1
    )
    bad = owner.post(
        url(station, "charging-profile"),
        {
            "purpose": "station_max",
            "evse_id": 1,
            "unit": "A",
            "periods": [{"start_seconds": 5, "limit": 6}],
        },
        format="json",
    )
    assert bad.status_code == 400 and "evse_id" in bad.json()["error"]["details"]
    cleared = owner.post(
        url(station, "clear-charging-profile"), {"purpose": "tx_default"}, format="json"
    )
    assert cleared.status_code == 200
    assert fake.calls[-1] == (
        "ClearChargingProfile",
        {"chargingProfilePurpose": "TxDefaultProfile"},
    )

    schedule = owner.get(url(stations["2.0.1"], "composite-schedule") + "?evse_id=1&duration=600")
    assert schedule.status_code == 200, schedule.content
    (period,) = schedule.json()["periods"]
    assert period["limit"] == 7400 and period["unit"] == "W"
    assert period["starts_at"] == "2026-12-08T10:00:00Z"
    assert (
        owner.get(url(station, "composite-schedule") + "?evse_id=1&duration=0").status_code == 400
    )
    assert owner.get(url(stations["2.0.1"], "composite-schedule")).status_code == 200  # defaults


def test_local_list_logs_firmware(personas, api_for, stations, fake):
    owner = api_for(personas.owner)
    station = stations["1.6"]
    version = owner.get(url(station, "local-list-version"))
    assert version.status_code == 200 and version.json()["version"] == 12
    sent = owner.post(
        url(station, "local-list"),
        {
            "list_version": 13,
            "full": True,
            "entries": [{"id_token": "AA"}, {"id_token": "BB", "status": "Blocked"}],
        },
        format="json",
    )
    assert sent.status_code == 200
    action, payload = fake.calls[-1]
    assert payload["localAuthorizationList"][1] == {
        "idTag": "BB",
        "idTagInfo": {"status": "Blocked"},
    }
    nothing = owner.post(
        url(station, "local-list"), {"list_version": 14, "full": False}, format="json"
    )
    assert nothing.status_code == 400

    logs = owner.post(
        url(station, "upload-logs"), {"location": "ftp://logs.example.com/"}, format="json"
    )
    assert logs.status_code == 200 and fake.calls[-1][0] == "GetDiagnostics"
    firmware = owner.post(
        url(station, "update-firmware"), {"location": "https://fw.example.com/a.bin"}, format="json"
    )
    assert firmware.status_code == 200 and fake.calls[-1][0] == "UpdateFirmware"


def test_screen_messages_are_201_only_and_data_transfer(personas, api_for, stations, fake):
    owner = api_for(personas.owner)
    shown = owner.post(
        url(stations["2.0.1"], "display-message"),
        {"message_id": 2, "text": "Bonjour"},
        format="json",
    )
    assert shown.status_code == 200 and fake.calls[-1][0] == "SetDisplayMessage"
    assert owner.post(url(stations["2.0.1"], "display-messages")).status_code == 200
    cleared = owner.post(
        url(stations["2.0.1"], "clear-display-message"), {"message_id": 2}, format="json"
    )
    assert cleared.status_code == 200 and fake.calls[-1] == ("ClearDisplayMessage", {"id": 2})
    count = len(fake.calls)
    refused = owner.post(
        url(stations["1.6"], "display-message"), {"message_id": 2, "text": "x"}, format="json"
    )
    assert refused.status_code == 409 and len(fake.calls) == count
    data = owner.post(
        url(stations["1.6"], "data-transfer"),
        {"vendor_id": "com.acme", "data": "hi"},
        format="json",
    )
    assert data.status_code == 200
    assert fake.calls[-1] == (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "", "data": "hi"},
    )


def test_the_delegate_reaches_only_their_site(personas, api_for, stations, fake):
    delegate = api_for(personas.delegate)
    body = {"vendor_id": "com.acme"}
    assert (
        delegate.post(url(stations["1.6"], "data-transfer"), body, format="json").status_code == 200
    )
    assert (
        delegate.post(url(stations["a2"], "data-transfer"), body, format="json").status_code == 404
    )
