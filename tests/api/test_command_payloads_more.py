"""The builders of smart charging, local list, logs and display-message commands
(``apps.ocpp.payloads``), checked against the official OCPP 1.6 and 2.0.1 JSON schemas."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.ocpp import payloads
from apps.ocpp.commands import InvalidPayload, validate_action_payload

V16, V201 = payloads.V16, payloads.V201
START = "2026-12-08T10:00:00Z"


def valid(version: str, call: payloads.Call) -> payloads.Call:
    validate_action_payload(version, call.action, call.payload)
    return call


@pytest.mark.parametrize("version", [V16, V201])
def test_a_station_maximum_and_a_default_profile(version):
    cap = valid(
        version,
        payloads.charging_profile_set(
            version,
            profile_id=7,
            purpose="station_max",
            evse_id=0,
            stack_level=1,
            unit="A",
            periods=[(3600, 10.06), (0, 32)],
            start=START,
        ),
    )
    if version == V16:
        profile = cap.payload["csChargingProfiles"]
        assert profile["chargingProfilePurpose"] == "ChargePointMaxProfile"
        schedule = profile["chargingSchedule"]
        assert cap.payload["connectorId"] == 0 and schedule["startSchedule"] == START
    else:
        profile = cap.payload["chargingProfile"]
        assert profile["chargingProfilePurpose"] == "ChargingStationMaxProfile"
        (schedule,) = profile["chargingSchedule"]
        assert cap.payload["evseId"] == 0 and schedule["startSchedule"] == START
    # sorted, and limits rounded down to one decimal (never above what was asked)
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 32.0},
        {"startPeriod": 3600, "limit": 10.0},
    ]
    default = payloads.charging_profile_set(
        version,
        profile_id=8,
        purpose="tx_default",
        evse_id=2,
        stack_level=0,
        unit="W",
        periods=[(0, 7400)],
        start=START,
    )
    valid(version, default)
    with pytest.raises(ValueError):
        payloads.charging_profile_set(
            version,
            profile_id=1,
            purpose="station_max",
            evse_id=1,
            stack_level=0,
            unit="A",
            periods=[(0, 16)],
            start=START,
        )
    with pytest.raises(ValueError):
        payloads.charging_profile_set(
            version,
            profile_id=1,
            purpose="tx_default",
            evse_id=1,
            stack_level=0,
            unit="A",
            periods=[(60, 16)],
            start=START,
        )


def test_clear_charging_profiles_by_id_or_criteria():
    assert valid(V16, payloads.charging_profile_clear(V16, profile_id=3)).payload == {"id": 3}
    assert valid(
        V16, payloads.charging_profile_clear(V16, evse_id=0, purpose="station_max")
    ).payload == {"connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile"}
    assert valid(
        V201, payloads.charging_profile_clear(V201, evse_id=1, purpose="tx_default", stack_level=2)
    ).payload == {
        "chargingProfileCriteria": {
            "evseId": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "stackLevel": 2,
        }
    }
    assert valid(V201, payloads.charging_profile_clear(V201)).payload == {}


def test_the_composite_schedule_in_one_shape():
    call = valid(V16, payloads.composite_schedule_get(V16, evse_id=1, duration=3600, unit="A"))
    assert call.payload == {"duration": 3600, "connectorId": 1, "chargingRateUnit": "A"}
    call = valid(V201, payloads.composite_schedule_get(V201, evse_id=0, duration=600))
    assert call.payload == {"duration": 600, "evseId": 0}

    answer16 = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": START,
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16},
                {"startPeriod": 1800, "limit": 8.5},
            ],
        },
    }
    answer201 = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 3600,
            "scheduleStart": START,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16},
                {"startPeriod": 1800, "limit": 8.5},
            ],
        },
    }
    start = dt.datetime(2026, 12, 8, 10, tzinfo=dt.UTC)
    for version, answer in ((V16, answer16), (V201, answer201)):
        schedule = payloads.composite_schedule(version, answer)
        assert (schedule.status, schedule.unit, schedule.starts_at) == ("Accepted", "A", start)
        assert [(p.starts_at, p.limit) for p in schedule.periods] == [
            (start, 16.0),
            (start + dt.timedelta(minutes=30), 8.5),
        ]
    assert payloads.composite_schedule(V201, {"status": "Rejected"}).periods == []


@pytest.mark.parametrize("version", [V16, V201])
def test_local_list_version_and_send(version):
    valid(version, payloads.local_list_version(version))
    full = valid(
        version,
        payloads.send_local_list(
            version,
            list_version=4,
            full=True,
            entries=[
                payloads.LocalListEntry("AA11", "Accepted"),
                payloads.LocalListEntry("BB22", "Blocked"),
            ],
        ),
    )
    rows = full.payload["localAuthorizationList"]
    assert len(rows) == 2 and full.payload["updateType"] == "Full"
    removal = valid(
        version,
        payloads.send_local_list(
            version, list_version=5, full=False, entries=[payloads.LocalListEntry("AA11", None)]
        ),
    )
    (row,) = removal.payload["localAuthorizationList"]
    assert set(row) == ({"idTag"} if version == V16 else {"idToken"})
    valid(version, payloads.send_local_list(version, list_version=6, full=True, entries=[]))


@pytest.mark.parametrize("version", [V16, V201])
def test_logs_upload(version):
    call = valid(
        version,
        payloads.logs_upload(
            version,
            location="ftp://logs.example.com/in/",
            request_id=12,
            since="2026-12-01T00:00:00Z",
            until=START,
        ),
    )
    assert call.action == ("GetDiagnostics" if version == V16 else "GetLog")


def test_display_messages_are_201_only():
    valid(V201, payloads.display_messages_get(V201, request_id=3))
    assert valid(V201, payloads.display_message_clear(V201, message_id=9)).payload == {"id": 9}
    with pytest.raises(ValueError):
        payloads.display_message_clear(V16, message_id=9)
    with pytest.raises(InvalidPayload):
        validate_action_payload(V201, "ClearDisplayMessage", {"id": "nine"})
