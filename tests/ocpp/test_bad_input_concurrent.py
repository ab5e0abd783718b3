"""Stations of both versions at once through a real server, one of each version sending
garbage (NUL, lone surrogates, huge and negative numbers, impossible meter values, broken
replies) between the others' valid frames: the good stations lose nothing.  Every frame of
theirs is in the message log and every meter value they sent is stored exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from decimal import Decimal

import pytest
from websockets.asyncio.client import connect

from apps.charging.models import MeterValue
from apps.ocpp.models import MessageLog
from tests.live import basic_auth, wait_until
from tests.ocpp.clients import in_db

pytestmark = pytest.mark.slow

REPORTS = 15  # MeterValues per good station, two samples each
START = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)

GARBAGE_CALLS = {
    "1.6": [
        r'[2, "g-nul-id\u0000", "Heartbeat", {}]',
        r'[2, "g-sur-id\ud800", "Heartbeat", {}]',
        r'[2, "g1", "Authorize", {"idTag": "T\u0000"}]',
        r'[2, "g2", "Authorize", {"idTag": "T\udfff"}]',
        r'[2, "g3", "DataTransfer", {"vendorId": "V\u0000", "data": "\ud83d"}]',
        r'[2, "g4", "BootNotification", {"chargePointVendor": "V\ud800", "chargePointModel": "M"}]',
        r'[2, "g5", "StatusNotification", {"connectorId": 1000000000000000000000000000000,'
        r' "errorCode": "NoError", "status": "Available"}]',
        r'[2, "g6", "StatusNotification", {"connectorId": -1, "errorCode": "NoError",'
        r' "status": "Available", "info": "\u0000"}]',
        r'[2, "g7", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp":'
        r' "2026-02-01T00:00:00Z", "sampledValue": [{"value": "5"}, {"value": "1e30"}]}]}]',
        r'[2, "g8", "MeterValues", {"connectorId": -5, "meterValue": [{"timestamp":'
        r' "2026-02-01T00:00:00Z", "sampledValue": [{"value": "5"}]}]}]',
        r'[2, "g9", "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart":'
        r' 1000000000000000000000000000000, "timestamp": "2026-02-01T00:00:00Z"}]',
    ],
    "2.0.1": [
        r'[2, "g-nul-id\u0000", "Heartbeat", {}]',
        r'[2, "g1", "Authorize", {"idToken": {"idToken": "T\u0000", "type": "ISO14443"}}]',
        r'[2, "g2", "DataTransfer", {"vendorId": "V", "data": {"k\ud800": ["\u0000"]}}]',
        r'[2, "g3", "BootNotification", {"chargingStation": {"model": "M\udfff",'
        r' "vendorName": "V"}, "reason": "PowerUp"}]',
        r'[2, "g4", "StatusNotification", {"timestamp": "2026-02-01T00:00:00Z",'
        r' "connectorStatus": "Available", "evseId": -1, "connectorId": 1}]',
        r'[2, "g5", "MeterValues", {"evseId": 1000000000000000000000000000000, "meterValue":'
        r' [{"timestamp": "2026-02-01T00:00:00Z", "sampledValue": [{"value": 5}]}]}]',
        r'[2, "g6", "MeterValues", {"evseId": 1, "meterValue": [{"timestamp":'
        r' "2026-02-01T00:00:00Z", "sampledValue": [{"value": 5}, {"value": 1e400}]}]}]',
        r'[2, "g7", "MeterValues", {"evseId": 1, "meterValue": [{"timestamp":'
        r' "2026-02-01T00:00:00Z", "sampledValue": [{"value": 1, "unitOfMeasure":'
        r' {"multiplier": 30}}]}]}]',
        r'[2, "g8", "TransactionEvent", {"eventType": "Started", "timestamp":'
        r' "2026-02-01T00:00:00Z", "triggerReason": "Authorized", "seqNo": 0,'
        r' "transactionInfo": {"transactionId": "t\u0000"}, "evse": {"id": -2}}]',
    ],
}
GARBAGE_REPLIES = ['[3, "r1"]', '[4, "r2", 7]', '[3, "r3", {"x": "\\u0000"}, 1]', "[3, NaN"]
SPEC_CODES = {
    "PropertyConstraintViolation",
    "TypeConstraintViolation",
    "FormationViolation",
    "FormatViolation",
}


def _connect(server, identity, password, version):
    return connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=[f"ocpp{version}"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    )


async def _call(ws, message_id: str, action: str, payload: dict) -> list:
    await ws.send(json.dumps([2, message_id, action, payload]))
    return json.loads(await asyncio.wait_for(ws.recv(), 30))


def _meter_payload(version: str, n: int) -> tuple[dict, list[tuple]]:
    """A report and the (timestamp, measurand, value) rows it must store."""
    at = START + dt.timedelta(seconds=n)
    register, power = 10_000 + 25 * n, 7_000 + n
    stamp = at.isoformat().replace("+00:00", "Z")
    rows = [
        (at, "Energy.Active.Import.Register", Decimal(register)),
        (at, "Power.Active.Import", Decimal(power)),
    ]
    if version == "1.6":
        samples = [
            {"value": str(register), "measurand": "Energy.Active.Import.Register"},
            {"value": str(power), "measurand": "Power.Active.Import"},
        ]
        return {
            "connectorId": 1,
            "meterValue": [{"timestamp": stamp, "sampledValue": samples}],
        }, rows
    samples = [
        {"value": register, "measurand": "Energy.Active.Import.Register"},
        {"value": power, "measurand": "Power.Active.Import"},
    ]
    return {"evseId": 1, "meterValue": [{"timestamp": stamp, "sampledValue": samples}]}, rows


async def _good_station(server, identity, password, version) -> tuple[set[str], list[tuple]]:
    """Boot, status and meter values; returns the message ids sent and the rows expected."""
    sent, expected = set(), []
    boot = (
        {"chargePointVendor": "V", "chargePointModel": "M"}
        if version == "1.6"
        else {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
    )
    async with _connect(server, identity, password, version) as ws:
        calls = [("boot", "BootNotification", boot)]
        for n in range(REPORTS):
            payload, rows = _meter_payload(version, n)
            expected.extend(rows)
            calls.append((f"mv-{n}", "MeterValues", payload))
            if n % 5 == 0:
                status = (
                    {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
                    if version == "1.6"
                    else {
                        "timestamp": "2026-02-01T00:00:00Z",
                        "connectorStatus": "Available",
                        "evseId": 1,
                        "connectorId": 1,
                    }
                )
                calls.append((f"st-{n}", "StatusNotification", status))
        for message_id, action, payload in calls:
            reply = await _call(ws, message_id, action, payload)
            assert reply[:2] == [3, message_id], reply
            sent.add(message_id)
            await asyncio.sleep(0)  # let the garbage in between
    return sent, expected


async def _bad_station(server, identity, password, version, stop: asyncio.Event) -> int:
    """Garbage until the good stations are done; returns how many frames it sent."""
    frames = 0
    async with _connect(server, identity, password, version) as ws:
        while not stop.is_set() or frames < 40:
            for text in GARBAGE_CALLS[version]:
                await ws.send(text)
                reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                assert reply[1] == json.loads(text)[1], (text, reply)
                if "-id" in reply[1]:  # an odd message id is answered as any other
                    assert reply[0] == 3, (text, reply)
                else:
                    assert reply[0] == 4 and reply[2] in SPEC_CODES, (text, reply)
                frames += 1
            for text in GARBAGE_REPLIES:
                await ws.send(text)  # never answered
                frames += 1
        alive = await _call(ws, "alive", "Heartbeat", {})
        assert alive[:2] == [3, "alive"]
    return frames + 1


async def test_garbage_from_one_station_costs_the_others_nothing(server, make_station, live_alpha):
    good = [(make_station(), version) for version in ("1.6", "1.6", "2.0.1", "2.0.1")]
    bad = [(make_station(), version) for version in ("1.6", "2.0.1")]
    stop = asyncio.Event()

    async def all_good():
        try:
            return await asyncio.gather(
                *(_good_station(server, ident, pw, v) for (_, ident, pw), v in good)
            )
        finally:
            stop.set()

    results, *bad_frames = await asyncio.gather(
        all_good(), *(_bad_station(server, ident, pw, v, stop) for (_, ident, pw), v in bad)
    )

    def log_of(station_id):
        return set(
            MessageLog.objects.filter(station_id=station_id).values_list("direction", "unique_id")
        )

    def log_count(station_id):
        return MessageLog.objects.filter(station_id=station_id, direction="in").count()

    wanted = {
        station.pk: {(d, i) for i in sent for d in ("in", "out")}
        for ((station, _, _), _), (sent, _) in zip(good, results, strict=True)
    }

    async def all_logged():
        for station_id, rows in wanted.items():
            if not rows <= await in_db(live_alpha, lambda s=station_id: log_of(s)):
                return False
        for ((station, _, _), _), frames in zip(bad, bad_frames, strict=True):
            if await in_db(live_alpha, lambda s=station.pk: log_count(s)) < frames:
                return False
        return True

    with contextlib.suppress(AssertionError):
        await wait_until(all_logged, timeout=20, interval=0.5)
    for station_id, rows in wanted.items():
        assert rows <= await in_db(live_alpha, lambda s=station_id: log_of(s)), station_id
    for ((station, _, _), _), frames in zip(bad, bad_frames, strict=True):
        # the garbage is kept too, escaped where PostgreSQL cannot store it
        assert await in_db(live_alpha, lambda s=station.pk: log_count(s)) == frames

    for ((station, _, _), _), (_, expected) in zip(good, results, strict=True):
        stored = await in_db(
            live_alpha,
            lambda s=station.pk: list(
                MeterValue.objects.filter(station_id=s).values_list(
                    "timestamp", "measurand", "value"
                )
            ),
        )
        assert sorted(stored) == sorted(expected)  # every value, exactly once
