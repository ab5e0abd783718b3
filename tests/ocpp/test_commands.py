"""Every command a CSMS sends, through the command service, answered by a real client; and
commands reaching a station held by another server process."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django_tenants.utils import tenant_context
from ocpp.v16 import call as call16

from apps.charging.models import ChargingSession
from apps.ocpp import commands
from apps.stations.models import Station
from tests.ocpp.clients import Connected, in_db

COMMANDS_16 = [
    ("Reset", {"type": "Soft"}, "status", "Accepted"),
    ("UnlockConnector", {"connectorId": 1}, "status", "Unlocked"),
    ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, "status", "Accepted"),
    (
        "GetConfiguration",
        {"key": ["HeartbeatInterval"]},
        "configurationKey",
        [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
    ),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}, "status", "Accepted"),
    (
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
        "status",
        "Accepted",
    ),
    (
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 7,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                },
            },
        },
        "status",
        "Accepted",
    ),
    ("ClearChargingProfile", {"id": 7}, "status", "Accepted"),
    ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600}, "status", "Accepted"),
    (
        "ReserveNow",
        {
            "connectorId": 1,
            "expiryDate": "2030-01-01T00:00:00Z",
            "idTag": "ABC",
            "reservationId": 5,
        },
        "status",
        "Accepted",
    ),
    ("CancelReservation", {"reservationId": 5}, "status", "Accepted"),
    (
        "SendLocalList",
        {
            "listVersion": 4,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "ABC", "idTagInfo": {"status": "Accepted"}}],
        },
        "status",
        "Accepted",
    ),
    ("GetLocalListVersion", {}, "listVersion", 3),
    (
        "UpdateFirmware",
        {"location": "https://fw.example/x.bin", "retrieveDate": "2030-01-01T00:00:00Z"},
        None,
        None,
    ),
    ("GetDiagnostics", {"location": "ftp://diag.example/"}, "fileName", "diag.zip"),
    ("DataTransfer", {"vendorId": "com.example", "messageId": "ping"}, "data", "pong"),
]

COMMANDS_201 = [
    ("Reset", {"type": "Immediate"}, "status", "Accepted"),
    ("UnlockConnector", {"evseId": 1, "connectorId": 1}, "status", "Unlocked"),
    (
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1}},
        "status",
        "Accepted",
    ),
    (
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
        "getVariableResult",
        None,
    ),
    (
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": "120",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
        "setVariableResult",
        None,
    ),
    ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, "status", "Accepted"),
    ("TriggerMessage", {"requestedMessage": "StatusNotification"}, "status", "Accepted"),
    (
        "SetChargingProfile",
        {
            "evseId": 1,
            "chargingProfile": {
                "id": 3,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400}],
                    }
                ],
            },
        },
        "status",
        "Accepted",
    ),
    ("ClearChargingProfile", {"chargingProfileId": 3}, "status", "Accepted"),
    ("GetCompositeSchedule", {"duration": 600, "evseId": 1}, "status", "Accepted"),
    (
        "ReserveNow",
        {
            "id": 9,
            "expiryDateTime": "2030-01-01T00:00:00Z",
            "idToken": {"idToken": "ABC", "type": "ISO14443"},
        },
        "status",
        "Accepted",
    ),
    ("CancelReservation", {"reservationId": 9}, "status", "Accepted"),
    ("SendLocalList", {"versionNumber": 2, "updateType": "Full"}, "status", "Accepted"),
    ("GetLocalListVersion", {}, "versionNumber", 3),
    (
        "UpdateFirmware",
        {
            "requestId": 4,
            "firmware": {
                "location": "https://fw.example/x.bin",
                "retrieveDateTime": "2030-01-01T00:00:00Z",
            },
        },
        "status",
        "Accepted",
    ),
    (
        "GetLog",
        {
            "logType": "DiagnosticsLog",
            "requestId": 5,
            "log": {"remoteLocation": "https://logs.example/"},
        },
        "filename",
        "log.tgz",
    ),
    (
        "SetDisplayMessage",
        {
            "message": {
                "id": 1,
                "priority": "NormalCycle",
                "message": {"format": "UTF8", "content": "0.35 $/kWh"},
            }
        },
        "status",
        "Accepted",
    ),
    ("DataTransfer", {"vendorId": "com.example"}, "status", "Accepted"),
]


def _call(tenant, identity, action, payload, **kwargs):
    with tenant_context(tenant):
        station = Station.objects.get(identity=identity)
        return commands.station_call(station, action, payload, **kwargs)


@pytest.mark.parametrize("version,table", [("1.6", COMMANDS_16), ("2.0.1", COMMANDS_201)])
async def test_every_command_reaches_the_station_and_returns_its_answer(
    server, make_station, live_alpha, version, table
):
    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, version) as cp:
        for action, payload, key, expected in table:
            answer = await sync_to_async(_call, thread_sensitive=False)(
                live_alpha, identity, action, payload
            )
            if key is not None:
                assert key in answer, (action, answer)
                if expected is not None:
                    assert answer[key] == expected, (action, answer)
        assert [action for action, _ in cp.received] == [row[0] for row in table]


async def test_invalid_payload_is_refused_before_sending(server, make_station, live_alpha):
    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        with pytest.raises(commands.InvalidPayload) as error:
            await sync_to_async(_call, thread_sensitive=False)(
                live_alpha, identity, "Reset", {"type": "Gentle"}
            )
        assert "Gentle" in str(error.value)
        with pytest.raises(commands.InvalidPayload):
            await sync_to_async(_call, thread_sensitive=False)(
                live_alpha, identity, "RequestStartTransaction", {}
            )
        assert cp.received == []


async def test_offline_station_fails_fast(server, make_station, live_alpha):
    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, "1.6"):
        pass
    with pytest.raises(commands.StationOffline):
        await sync_to_async(_call, thread_sensitive=False)(
            live_alpha, identity, "Reset", {"type": "Soft"}
        )


async def test_station_that_never_answers_times_out(server, make_station, live_alpha):
    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        del cp.route_map["Reset"]  # the client now answers NotImplemented...

        async def silent(*args, **kwargs):  # ...and here not at all
            return None

        cp.route_message = silent
        started = asyncio.get_running_loop().time()
        with pytest.raises(commands.CommandTimeout):
            await sync_to_async(_call, thread_sensitive=False)(
                live_alpha, identity, "Reset", {"type": "Soft"}, timeout=1.5
            )
        assert asyncio.get_running_loop().time() - started < 10


async def test_station_call_error_is_reported(server, make_station, live_alpha):
    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, "1.6") as cp:
        del cp.route_map["Reset"]
        with pytest.raises(commands.CommandRejected) as error:
            await sync_to_async(_call, thread_sensitive=False)(
                live_alpha, identity, "Reset", {"type": "Hard"}
            )
        assert error.value.code in ("NotImplemented", "NotSupported")


def _remote_start(tenant, identity, evse_id, token):
    from apps.core.scoping import SystemActor

    with tenant_context(tenant):
        station = Station.objects.get(identity=identity)
        return commands.session_remote_start(
            requester=commands.Requester(actor=SystemActor(), source="system"),
            station=station,
            evse_id=evse_id,
            id_token=token,
        )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_remote_start_answers_at_once_and_its_entry_gains_the_session(
    server, make_station, make_token, live_alpha, version
):
    """The reply is the station's acceptance; the session the station starts afterwards is
    recorded on the command's audit entry by the station's own report (nobody waits)."""
    station, identity, password = make_station()
    token = make_token()
    async with Connected(server.ws, identity, password, version) as cp:
        reply = await sync_to_async(_remote_start, thread_sensitive=False)(
            live_alpha, identity, 2, token.uid
        )
        assert reply.status == "Accepted" and reply.ok
        assert reply.audit_id is not None
        action, payload = cp.received[0]
        if version == "1.6":
            assert reply.remote_start_id is None
            await cp.call(
                call16.StartTransaction(
                    connector_id=2,
                    id_tag=payload["id_tag"],
                    meter_start=0,
                    timestamp="2026-11-20T10:00:00Z",
                )
            )
        else:
            from ocpp.v201 import call as call201

            assert payload["remote_start_id"] == reply.remote_start_id
            await cp.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp="2026-11-20T10:00:00Z",
                    trigger_reason="RemoteStart",
                    seq_no=0,
                    transaction_info={
                        "transactionId": "RS-1",
                        "remoteStartId": payload["remote_start_id"],
                    },
                    id_token=payload["id_token"],
                    evse={"id": 2, "connectorId": 1},
                )
            )

    def check():
        from apps.audit.models import AuditEntry

        entry = AuditEntry.objects.get(pk=reply.audit_id)
        assert entry.action == "session.remote_start" and entry.succeeded
        assert entry.changes["state"] == "answered"
        session = ChargingSession.objects.get(pk=entry.changes["session"]["session_id"])
        assert session.station_id == station.pk and session.evse.evse_id == 2
        assert session.transaction_id == entry.changes["session"]["transaction_id"]
        assert session.id_token == token.uid

    await in_db(live_alpha, check)


async def test_command_from_another_process_reaches_the_station(
    server, server_b, make_station, live_alpha
):
    """The station holds its socket on server B; the command is issued through server A's
    process (a Django shell there) and through this test process; both get B's answer."""
    import os
    import subprocess
    import sys

    from django.conf import settings
    from django.db import connection

    from config.embedded import with_database

    station, identity, password = make_station()
    async with Connected(server_b.ws, identity, password, "2.0.1") as cp:
        answer = await sync_to_async(_call, thread_sensitive=False)(
            live_alpha, identity, "TriggerMessage", {"requestedMessage": "Heartbeat"}
        )
        assert answer["status"] == "Accepted"
        script = (
            "from django_tenants.utils import tenant_context;"
            "from apps.tenants.models import Tenant;from apps.stations.models import Station;"
            "from apps.ocpp.commands import station_call;"
            f"t=Tenant.objects.get(slug='alpha')\nwith tenant_context(t): print(station_call("
            f"Station.objects.get(identity='{identity}'), 'Reset', {{'type': 'OnIdle'}}))"
        )
        env = {
            **os.environ,
            "DATABASE_URL": with_database(
                os.environ["DATABASE_URL"], connection.settings_dict["NAME"]
            ),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
        }
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "'status': 'Accepted'" in result.stdout
    assert [a for a, _ in cp.received] == ["TriggerMessage", "Reset"]
