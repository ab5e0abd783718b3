"""Issue 12, item 3: batching limits (OCPP 2.0.1 B06-B08), over a real server.

The station's device-model report names DeviceDataCtrlr.ItemsPerMessage and BytesPerMessage
per request (GetVariables, SetVariables, GetReport); every request the CSMS sends through
its command service (API, portal, other apps) is split to fit, and the answers merged as if
it had been one.  A station's overrides in its settings win over what it reported."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.error
import urllib.request

from django.db import connection
from ocpp.v201 import call as call201

from apps.core.scoping import SystemActor
from apps.ocpp import commands, payloads
from apps.ocpp.models import StationMessageLimits
from apps.stations.models import Station
from tests.ocpp.clients import Connected, in_db

SYSTEM = commands.Requester(actor=SystemActor(), source="system")
NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


def owner_key() -> str:
    from apps.accounts.models import User
    from apps.roles.services import api_key_create

    owner = User.objects.get(email="owner@alpha.test")
    return api_key_create(name="uc3", created_by=owner, permissions=["*"], all_sites=True)[1]


def put_limits(server, tenant, key, station_pk, overrides) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.http}/api/v1/stations/{station_pk}/message-limits/",
        method="PUT",
        data=json.dumps({"overrides": overrides}).encode(),
        headers={
            "Host": tenant.get_primary_domain().domain,
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    finally:
        connection.close()


def limit(name: str, instance: str, value: int) -> dict:
    return {
        "component": {"name": "DeviceDataCtrlr"},
        "variable": {"name": name, "instance": instance},
        "variable_attribute": [{"type": "Actual", "value": str(value), "mutability": "ReadOnly"}],
        "variable_characteristics": {"data_type": "integer", "supports_monitoring": False},
    }


async def test_201_requests_are_split_to_the_reported_and_overridden_limits(
    server, make_station, live_alpha
):
    station, identity, password = make_station()
    keys = [f"Ctrlr{n}/Variable{n}" for n in range(1, 6)]
    async with Connected(server.ws, identity, password, "2.0.1") as cp:
        await cp.call(
            call201.BootNotification(
                charging_station={"vendor_name": "ACME", "model": "B"}, reason="PowerUp"
            ),
            suppress=False,
        )
        await cp.call(
            call201.NotifyReport(
                request_id=1,
                generated_at=NOW,
                seq_no=0,
                tbc=False,
                report_data=[
                    limit("ItemsPerMessage", "GetVariables", 2),
                    limit("ItemsPerMessage", "SetVariables", 2),
                    limit("BytesPerMessage", "SetVariables", 100_000),
                ],
            ),
            suppress=False,
        )

        def read():
            return commands.station_configuration_read(
                requester=SYSTEM, station=Station.objects.get(pk=station.pk), keys=keys
            )

        reply = await in_db(live_alpha, read)
        sent = [p["data"] for a, p in cp.received if a == "GetVariables"]
        assert [len(batch) for batch in sent] == [2, 2, 1]
        assert reply.ok and [row["key"] for row in reply.rows] == keys
        assert len(reply.payload["getVariableResult"]) == 5  # merged, as one answer

        # an internal read that does not go through the command service (power management
        # asking a station's smart-charging abilities: three variables) is split the same way
        cp.received.clear()

        def abilities():
            from apps.power import profiles

            action, payload = profiles.capabilities_request("2.0.1")
            return commands.station_call(Station.objects.get(pk=station.pk), action, payload)

        answer = await in_db(live_alpha, abilities)
        sent = [p["data"] for a, p in cp.received if a == "GetVariables"]
        assert [len(batch) for batch in sent] == [2, 1]
        assert [r["variable"]["name"] for r in answer["getVariableResult"]] == [
            "ProfileStackLevel",
            "RateUnit",
            "PeriodsPerSchedule",
        ]

        # limits read with GetVariables count as the report's do (the test station answers 300)
        def read_limit():
            commands.station_configuration_read(
                requester=SYSTEM,
                station=Station.objects.get(pk=station.pk),
                keys=["DeviceDataCtrlr/ItemsPerMessage/GetReport"],
            )
            return StationMessageLimits.objects.get(station_id=station.pk).reported

        reported = await in_db(live_alpha, read_limit)
        assert reported["ItemsPerMessage/GetReport"] == 300
        assert reported["ItemsPerMessage/GetVariables"] == 2  # the report's stays

        # the station's settings override what it reported: 3 items, and at most 330 bytes
        status, body = await asyncio.to_thread(
            put_limits,
            server,
            live_alpha,
            await in_db(live_alpha, owner_key),
            station.pk,
            {"ItemsPerMessage/SetVariables": 3, "BytesPerMessage/SetVariables": 330},
        )
        assert status == 200, body
        assert body["reported"]["ItemsPerMessage/SetVariables"] == 2
        assert body["effective"]["ItemsPerMessage/SetVariables"] == 3
        cp.received.clear()

        def change():
            return commands.station_configuration_change(
                requester=SYSTEM,
                station=Station.objects.get(pk=station.pk),
                changes=[{"key": key, "value": "x" * 20} for key in keys],
            )

        reply = await in_db(live_alpha, change)
        batches = [p["data"] for a, p in cp.received if a == "SetVariables"]
        assert sum(len(b) for b in batches) == 5 and all(len(b) <= 3 for b in batches)
        for batch in batches:
            frame = {
                "setVariableData": [
                    {
                        "attributeValue": item["attribute_value"],
                        "component": item["component"],
                        "variable": item["variable"],
                    }
                    for item in batch
                ]
            }
            assert payloads.frame_bytes("SetVariables", frame) <= 330
        assert len(batches) >= 2
        assert reply.rows == [{"key": key, "status": "Accepted"} for key in keys]


def test_batching_rule_items_bytes_and_report_request_ids():
    call = payloads.Call(
        "GetReport",
        {
            "requestId": 10,
            "componentVariable": [{"component": {"name": f"C{n}"}} for n in range(7)],
        },
    )
    parts = payloads.batched(call, items=3, max_bytes=None)
    assert [len(p.payload["componentVariable"]) for p in parts] == [3, 3, 1]
    assert [p.payload["requestId"] for p in parts] == [10, 11, 12]
    one = payloads.frame_bytes(
        "GetReport",
        {**call.payload, "componentVariable": parts[0].payload["componentVariable"][:1]},
    )
    parts = payloads.batched(call, items=None, max_bytes=one)
    assert [len(p.payload["componentVariable"]) for p in parts] == [1] * 7
    assert payloads.batched(call, items=None, max_bytes=None) == [call]
