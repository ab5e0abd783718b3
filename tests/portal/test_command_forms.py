"""The further command forms of the station page: reservations, power limits and the
composite schedule, the local list, firmware and logs, screen messages and vendor data.
Each form sends through the one command service (``apps.ocpp.commands``) in the station's
version (payloads checked against the OCPP schemas), shows the answer in the operator's words,
and writes the audit entry; ``stations.command`` on the station's site."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEntry

HTMX = {"HTTP_HX_REQUEST": "true"}
SCHEDULE_START = "2026-12-08T15:00:00Z"  # 10:00 in Montréal


@pytest.fixture
def station_calls(monkeypatch):
    """The OCPP command service's transport, answering like a station."""
    from apps.ocpp import commands

    sent: list[tuple[str, str, dict]] = []
    answers = {
        "ReserveNow": {"status": "Accepted"},
        "CancelReservation": {"status": "Accepted"},
        "SetChargingProfile": {"status": "Accepted"},
        "ClearChargingProfile": {"status": "Accepted"},
        "GetLocalListVersion": {"listVersion": 41},
        "SendLocalList": {"status": "Accepted"},
        "GetDiagnostics": {"fileName": "diag.zip"},
        "GetLog": {"status": "Accepted", "filename": "log.zip"},
        "UpdateFirmware": {"status": "Accepted"},
        "SetDisplayMessage": {"status": "Accepted"},
        "GetDisplayMessages": {"status": "Accepted"},
        "ClearDisplayMessage": {"status": "Unknown"},
        "DataTransfer": {"status": "Accepted", "data": "pong"},
        "GetBaseReport": {"status": "Accepted"},
        "GetConfiguration": {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        },
    }

    def station_call(station, action, payload, *, timeout=None, validate=True):
        commands.validate_action_payload(station.ocpp_version, action, payload)
        sent.append((station.identity, action, payload))
        if action == "GetCompositeSchedule":
            periods = [{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 1800, "limit": 8.5}]
            if station.ocpp_version == "1.6":
                return {
                    "status": "Accepted",
                    "connectorId": payload["connectorId"],
                    "scheduleStart": SCHEDULE_START,
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": periods,
                    },
                }
            return {
                "status": "Accepted",
                "schedule": {
                    "evseId": payload["evseId"],
                    "duration": payload["duration"],
                    "scheduleStart": SCHEDULE_START,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": periods,
                },
            }
        return answers[action]

    monkeypatch.setattr(commands, "station_call", station_call)
    return sent


def post(client, name, station, data):
    return client.post(reverse(f"stations:station_{name}", args=[station.pk]), data, **HTMX)


def last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("id")


def test_the_station_page_offers_the_commands_of_its_version(network, personas, client_for):
    client = client_for(personas.owner)
    v16 = client.get(reverse("stations:station_detail", args=[network.a1_station.pk]))
    page = v16.content.decode()
    for name in (
        "reserve",
        "charging_profile_set",
        "charging_profile_clear",
        "composite_schedule",
        "local_list_send",
        "logs_upload",
        "firmware_update",
        "data_transfer",
    ):
        assert f'data-command="{name}"' in page, name
    assert "No reservation is running on this station" in page
    assert 'data-command="display_message"' not in page  # 2.0.1 only
    v201 = client.get(reverse("stations:station_detail", args=[network.a2_station.pk]))
    assert 'data-command="display_message"' in v201.content.decode()
    # Without stations.command: none of them (the fleet manager only looks).
    viewer = client_for(personas.fleet_manager).get(
        reverse("stations:station_detail", args=[network.a1_station.pk])
    )
    if viewer.status_code == 200:
        assert 'data-command="reserve"' not in viewer.content.decode()


@pytest.mark.parametrize("which", ["a1_station", "a2_station"])
def test_reserve_then_cancel_from_the_list_of_running_reservations(
    network, personas, client_for, station_calls, which
):
    station = getattr(network, which)
    client = client_for(personas.owner)
    before = timezone.now()
    shown = post(
        client,
        "reserve",
        station,
        {"reserve-evse_id": "1", "reserve-id_token": "CARD-7", "reserve-minutes": "60"},
    )
    assert shown.status_code == 200 and 'data-status="Accepted"' in shown.content.decode()
    (_, action, payload) = station_calls[-1]
    assert action == "ReserveNow"
    token = payload.get("idTag") or payload["idToken"]["idToken"]
    assert token == "CARD-7"
    entry = last_entry("station.reserve_now")
    reservation_id = entry.changes["input"]["reservation_id"]
    expires = dt.datetime.fromisoformat(entry.changes["input"]["expires_at"].replace("Z", "+00:00"))
    assert dt.timedelta(minutes=59) < expires - before < dt.timedelta(minutes=61)

    # The cancel form now names it by port, token and end, not by a number to remember.
    page = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    assert "Port 1 for CARD-7 until" in page
    cancelled = post(
        client, "cancel_reservation", station, {"cancel_reservation-reservation_id": reservation_id}
    )
    assert 'data-status="Accepted"' in cancelled.content.decode()
    assert station_calls[-1][1:] == ("CancelReservation", {"reservationId": reservation_id})
    page = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    assert "Port 1 for CARD-7 until" not in page
    refused = post(client, "cancel_reservation", station, {"cancel_reservation-reservation_id": 1})
    assert "The command was not sent" in refused.content.decode()


def test_power_limits_set_and_clear(network, personas, client_for, station_calls):
    client = client_for(personas.owner)
    v16, v201 = network.a1_station, network.a2_station
    base = {
        "charging_profile_set-purpose": "station_max",
        "charging_profile_set-evse_id": "0",
        "charging_profile_set-limit": "20",
        "charging_profile_set-unit": "A",
        "charging_profile_set-hours": "4",
    }
    shown = post(client, "charging_profile_set", v16, base)
    assert 'data-status="Accepted"' in shown.content.decode()
    (_, action, payload) = station_calls[-1]
    profile = payload["csChargingProfiles"]
    assert action == "SetChargingProfile" and payload["connectorId"] == 0
    assert profile["chargingProfilePurpose"] == "ChargePointMaxProfile"
    periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods[0] == {"startPeriod": 0, "limit": 20.0} and periods[1]["startPeriod"] == 14400

    post(
        client,
        "charging_profile_set",
        v201,
        {**base, "charging_profile_set-purpose": "tx_default", "charging_profile_set-evse_id": "1"},
    )
    (_, action, payload) = station_calls[-1]
    assert payload["evseId"] == 1
    assert payload["chargingProfile"]["chargingProfilePurpose"] == "TxDefaultProfile"

    count = len(station_calls)
    wrong_port = post(
        client, "charging_profile_set", v16, {**base, "charging_profile_set-evse_id": "1"}
    )
    assert "whole station" in wrong_port.content.decode()
    too_low = post(client, "charging_profile_set", v16, {**base, "charging_profile_set-limit": "3"})
    assert "at least 6 A" in too_low.content.decode()
    assert len(station_calls) == count  # nothing sent

    post(
        client,
        "charging_profile_clear",
        v201,
        {"charging_profile_clear-purpose": "tx_default", "charging_profile_clear-evse_id": "1"},
    )
    assert station_calls[-1][1:] == (
        "ClearChargingProfile",
        {"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"}},
    )
    post(client, "charging_profile_clear", v16, {"charging_profile_clear-purpose": ""})
    assert station_calls[-1][1:] == ("ClearChargingProfile", {})
    assert last_entry("station.charging_profile_clear").succeeded


def test_the_composite_schedule_is_a_table_in_the_sites_time_and_the_readers_locale(
    network, personas, client_for, station_calls, settings
):
    station = network.a1_station
    station.site.timezone = "America/Toronto"
    station.site.save()
    client = client_for(personas.owner)
    data = {
        "composite_schedule-evse_id": "1",
        "composite_schedule-hours": "6",
        "composite_schedule-unit": "A",
    }
    html = post(client, "composite_schedule", station, data).content.decode()
    assert station_calls[-1][1:] == (
        "GetCompositeSchedule",
        {"duration": 21600, "connectorId": 1, "chargingRateUnit": "A"},
    )
    assert "2026-12-08 10:00:00" in html and "2026-12-08 10:30:00" in html  # Montréal time
    assert "8.5 A" in html and '<meter min="0" max="16.0" value="8.5">' in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = post(client, "composite_schedule", network.a2_station, data).content.decode()
    assert "8,5 A" in french and "Au plus" in french


def test_local_list_version_and_send(network, personas, client_for, station_calls):
    client = client_for(personas.owner)
    station = network.a2_station  # 2.0.1
    asked = post(client, "local_list_version", station, {}).content.decode()
    assert "local list is at version 41" in asked
    sent = post(
        client,
        "local_list_send",
        station,
        {
            "local_list_send-full": "0",
            "local_list_send-tokens": "AA11, BB22\nAA11",
            "local_list_send-status": "Blocked",
            "local_list_send-list_version": "42",
        },
    )
    assert 'data-status="Accepted"' in sent.content.decode()
    (_, action, payload) = station_calls[-1]
    assert (action, payload["versionNumber"], payload["updateType"]) == (
        "SendLocalList",
        42,
        "Differential",
    )
    assert [row["idToken"]["idToken"] for row in payload["localAuthorizationList"]] == [
        "AA11",
        "BB22",
    ]
    assert {row["idTokenInfo"]["status"] for row in payload["localAuthorizationList"]} == {
        "Blocked"
    }
    empty = post(
        client,
        "local_list_send",
        station,
        {
            "local_list_send-full": "0",
            "local_list_send-tokens": "",
            "local_list_send-status": "Accepted",
            "local_list_send-list_version": "43",
        },
    )
    assert "Name the tokens" in empty.content.decode()


def test_firmware_logs_screen_and_vendor_data(network, personas, client_for, station_calls):
    client = client_for(personas.owner)
    v16, v201 = network.a1_station, network.a2_station
    post(
        client,
        "firmware_update",
        v16,
        {
            "firmware_update-location": "https://fw.example.com/acme-2.bin",
            "firmware_update-delay_minutes": "0",
            "firmware_update-retries": "2",
        },
    )
    (_, action, payload) = station_calls[-1]
    assert action == "UpdateFirmware" and payload["location"].endswith("acme-2.bin")
    assert payload["retries"] == 2

    post(
        client,
        "logs_upload",
        v16,
        {"logs_upload-location": "ftp://logs.example.com/in/", "logs_upload-hours": "24"},
    )
    (_, action, payload) = station_calls[-1]
    assert action == "GetDiagnostics" and "startTime" in payload
    post(
        client,
        "logs_upload",
        v201,
        {
            "logs_upload-location": "https://logs.example.com/in/",
            "logs_upload-hours": "0",
            "logs_upload-log_type": "SecurityLog",
        },
    )
    (_, action, payload) = station_calls[-1]
    assert action == "GetLog" and payload["logType"] == "SecurityLog"
    assert payload["log"] == {"remoteLocation": "https://logs.example.com/in/"}
    bad = post(client, "logs_upload", v16, {"logs_upload-location": "mailto:x@example.com"})
    assert "The command was not sent" in bad.content.decode()

    shown = post(
        client,
        "display_message",
        v201,
        {
            "display_message-text": "Closed for works on Friday",
            "display_message-priority": "InFront",
            "display_message-hours": "24",
            "display_message-message_id": "3",
        },
    )
    assert 'data-status="Accepted"' in shown.content.decode()
    (_, action, payload) = station_calls[-1]
    assert payload["message"]["message"]["content"] == "Closed for works on Friday"
    assert payload["message"]["priority"] == "InFront" and "endDateTime" in payload["message"]
    post(client, "display_messages_get", v201, {})
    assert station_calls[-1][1] == "GetDisplayMessages"
    cleared = post(client, "display_message_clear", v201, {"display_message_clear-message_id": "3"})
    assert station_calls[-1][1:] == ("ClearDisplayMessage", {"id": 3})
    assert 'data-status="Unknown"' in cleared.content.decode()
    # A 1.6 station has no screen messages: refused, nothing sent.
    count = len(station_calls)
    refused = post(
        client,
        "display_message",
        v16,
        {
            "display_message-text": "x",
            "display_message-priority": "InFront",
            "display_message-hours": "0",
            "display_message-message_id": "1",
        },
    )
    assert "has no such command" in refused.content.decode() and len(station_calls) == count

    post(
        client,
        "data_transfer",
        v16,
        {
            "data_transfer-vendor_id": "com.acme",
            "data_transfer-message_id": "ping",
            "data_transfer-data": "{}",
        },
    )
    assert station_calls[-1][1:] == (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "ping", "data": "{}"},
    )
    assert last_entry("station.data_transfer").user == personas.owner


def test_a_delegate_commands_their_site_only(network, personas, client_for, station_calls):
    client = client_for(personas.delegate)  # site A1 only
    data = {"reserve-evse_id": "1", "reserve-id_token": "CARD-7", "reserve-minutes": "15"}
    assert post(client, "reserve", network.a1_station, data).status_code == 200
    assert post(client, "reserve", network.a2_station, data).status_code == 404
    assert [call[0] for call in station_calls] == ["A1-CHARGER-1"]


def test_the_configuration_picker_offers_the_stations_own_settings(
    network, personas, client_for, station_calls
):
    """2.0.1: the settings of its latest report; 1.6: its latest full GetConfiguration."""
    from apps.ocpp.models import StationEvent
    from apps.ocpp.services import event_record

    client = client_for(personas.owner)
    v201, v16 = network.a2_station, network.a1_station
    detail = reverse("stations:station_detail", args=[v201.pk])
    assert 'list="station-settings-' not in client.get(detail).content.decode()
    asked = post(client, "report_request", v201, {})
    assert station_calls[-1][1] == "GetBaseReport"
    assert station_calls[-1][2]["reportBase"] == "FullInventory"
    assert 'data-status="Accepted"' in asked.content.decode()
    request_id = station_calls[-1][2]["requestId"]

    def item(component, variable, value, mutability="ReadWrite"):
        return {
            "component": {"name": component},
            "variable": {"name": variable},
            "variable_attribute": [{"type": "Actual", "value": value, "mutability": mutability}],
        }

    for seq_no, data in enumerate(
        [
            [item("OCPPCommCtrlr", "HeartbeatInterval", "300")],
            [
                item("TxCtrlr", "EVConnectionTimeOut", "60"),
                item("Identity", "Serial", "X", "ReadOnly"),
            ],
        ]
    ):
        event_record(
            station_id=v201.pk,
            kind=StationEvent.Kind.REPORT,
            action="NotifyReport",
            request_id=request_id,
            data={"seq_no": seq_no, "report_data": data},
        )
    page = client.get(detail).content.decode()
    assert f'list="station-settings-{v201.pk}"' in page
    assert '<option value="OCPPCommCtrlr/HeartbeatInterval">' in page
    assert "TxCtrlr/EVConnectionTimeOut = 60" in page
    assert "Identity/Serial" not in page  # read-only: not offered for a change

    post(client, "configuration_read", v16, {"configuration_read-keys": ""})
    page = client.get(reverse("stations:station_detail", args=[v16.pk])).content.decode()
    assert '<option value="HeartbeatInterval">HeartbeatInterval = 300</option>' in page
