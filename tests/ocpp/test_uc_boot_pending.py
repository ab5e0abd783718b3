"""Issue 12, item 6: Boot Pending (OCPP 2.0.1 B02/B03, 1.6 §4.2), over a real server.

B02.FR.01: after a Pending answer the CSMS MAY read and change the configuration (B05-B08:
SetVariables, GetVariables, GetBaseReport, GetReport) and the station answers; it sends
nothing else (no display messages, price pushes, profiles).  The station sends nothing but
BootNotification unless the CSMS asks: the NotifyReport a GetBaseReport asks for and the
message a TriggerMessage asks for are answered, anything else gets a SecurityError."""

from __future__ import annotations

import asyncio

import pytest
from ocpp.v201 import call as call201

from apps.billing.services.display import station_price_display_push
from apps.ocpp.commands import StationNotAccepted, station_call
from apps.stations.models import Station
from apps.stations.services import station_update
from tests.ocpp.clients import Connected, in_db

NOW = "2026-12-07T12:00:00Z"


def _boot():
    return call201.BootNotification(
        charging_station={"vendor_name": "ACME", "model": "P1"}, reason="PowerUp"
    )


def _send(live_alpha, identity, action, payload):
    def run():
        return station_call(Station.objects.get(identity=identity), action, payload)

    return in_db(live_alpha, run)


async def test_201_pending_boot_allows_only_b02_messages(server, make_station, live_alpha):
    _, identity, password = make_station(status="Pending")
    async with Connected(server.ws, identity, password, "2.0.1") as cp:
        boot = await cp.call(_boot(), suppress=False)
        assert boot.status == "Pending"

        # B07 while Pending: the CSMS asks for the base report, the station sends it
        answer = await _send(
            live_alpha,
            identity,
            "GetBaseReport",
            {"requestId": 7, "reportBase": "ConfigurationInventory"},
        )
        assert answer["status"] == "Accepted"
        report = await cp.call(
            call201.NotifyReport(request_id=7, generated_at=NOW, seq_no=0, tbc=False),
            suppress=False,
        )
        assert report is not None  # answered, not a SecurityError

        # what was not asked for is refused with SecurityError
        with pytest.raises(Exception) as refused:
            await cp.call(call201.Heartbeat(), suppress=False)
        assert type(refused.value).__name__ == "SecurityError"

        # a triggered StatusNotification is answered (once)
        answer = await _send(
            live_alpha, identity, "TriggerMessage", {"requestedMessage": "StatusNotification"}
        )
        assert answer["status"] == "Accepted"
        await cp.call(
            call201.StatusNotification(
                timestamp=NOW, connector_status="Available", evse_id=1, connector_id=1
            ),
            suppress=False,
        )

        # nothing else goes out: neither a display message through the command path ...
        with pytest.raises(StationNotAccepted):
            await _send(
                live_alpha,
                identity,
                "SetDisplayMessage",
                {
                    "message": {
                        "id": 1,
                        "priority": "NormalCycle",
                        "message": {"format": "UTF8", "content": "hello"},
                    }
                },
            )
        # ... nor the price push once an admin accepts, while the station is still Pending
        await in_db(
            live_alpha,
            lambda: station_update(
                station=Station.objects.get(identity=identity), registration_status="Accepted"
            ),
        )
        outcome = await in_db(
            live_alpha,
            lambda: station_price_display_push(
                station_id=Station.objects.get(identity=identity).pk
            ),
        )
        assert outcome == "failed"
        await asyncio.sleep(0.3)
        sent = [action for action, _ in cp.received]
        assert sent == ["GetBaseReport", "TriggerMessage"]

        # a TriggerMessage for BootNotification brings it to Accepted; then the price goes
        answer = await _send(
            live_alpha, identity, "TriggerMessage", {"requestedMessage": "BootNotification"}
        )
        assert answer["status"] == "Accepted"
        boot = await cp.call(_boot(), suppress=False)
        assert boot.status == "Accepted"
        outcome = await in_db(
            live_alpha,
            lambda: station_price_display_push(
                station_id=Station.objects.get(identity=identity).pk
            ),
        )
        assert outcome == "Accepted"
        assert [action for action, _ in cp.received][-1] == "SetDisplayMessage"


async def test_16_pending_boot_allows_configuration_only(server, make_station, live_alpha):
    from ocpp.v16 import call as call16

    _, identity, password = make_station(status="Pending")
    async with Connected(server.ws, identity, password, "1.6") as cp:
        boot = await cp.call(
            call16.BootNotification(charge_point_vendor="ACME", charge_point_model="P16"),
            suppress=False,
        )
        assert boot.status == "Pending"
        answer = await _send(
            live_alpha,
            identity,
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": "60"},
        )
        assert answer["status"] == "Accepted"
        with pytest.raises(StationNotAccepted):
            await _send(
                live_alpha, identity, "RemoteStartTransaction", {"connectorId": 1, "idTag": "X"}
            )
        with pytest.raises(StationNotAccepted):
            await _send(
                live_alpha,
                identity,
                "SetChargingProfile",
                {
                    "connectorId": 0,
                    "csChargingProfiles": {
                        "chargingProfileId": 1,
                        "stackLevel": 0,
                        "chargingProfilePurpose": "TxDefaultProfile",
                        "chargingProfileKind": "Absolute",
                        "chargingSchedule": {
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
                        },
                    },
                },
            )
        await asyncio.sleep(0.3)
        assert [action for action, _ in cp.received] == ["ChangeConfiguration"]
