"""Poisoned values in otherwise valid frames, both versions: NUL characters and lone UTF-16
surrogates (sent as the JSON escapes ``\\u0000`` / ``\\ud800``), integers of 10^30, negative
ids, meter values no meter produces and numbers that overflow a double, in message ids,
payload strings, meter values, tokens and vendor fields.  Every frame is answered with a
proper CallResult or the CallError the spec names (never InternalError), the connection
stays up, and every frame in and out reaches the message log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

import pytest
from django.db.models import Count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from apps.ocpp.models import MessageLog
from tests.live import basic_auth, wait_until
from tests.ocpp.clients import in_db

HUGE_FLOAT = "__1e400__"  # written into the frame text as 1e400 (json.dumps cannot)
TS = "2026-01-01T00:00:00Z"

VALID = {
    "1.6": [
        ["Heartbeat", {}],
        [
            "BootNotification",
            {
                "chargePointVendor": "V",
                "chargePointModel": "M",
                "firmwareVersion": "1.0",
                "chargePointSerialNumber": "S",
            },
        ],
        [
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Available",
                "info": "fine",
                "vendorErrorCode": "E0",
            },
        ],
        ["Authorize", {"idTag": "FUZZ"}],
        [
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": 7,
                "meterValue": [
                    {
                        "timestamp": TS,
                        "sampledValue": [
                            {
                                "value": "12",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "kWh",
                            },
                            {"value": "7000", "measurand": "Power.Active.Import"},
                        ],
                    }
                ],
            },
        ],
        [
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "FUZZ",
                "meterStart": 0,
                "timestamp": TS,
                "reservationId": 3,
            },
        ],
        [
            "StopTransaction",
            {
                "transactionId": 99,
                "meterStop": 10,
                "timestamp": TS,
                "idTag": "FUZZ",
                "transactionData": [{"timestamp": TS, "sampledValue": [{"value": "10"}]}],
            },
        ],
        ["DataTransfer", {"vendorId": "com.example", "messageId": "m", "data": "d"}],
        ["SecurityEventNotification", {"type": "T", "timestamp": TS, "techInfo": "i"}],
    ],
    "2.0.1": [
        ["Heartbeat", {}],
        [
            "BootNotification",
            {
                "chargingStation": {
                    "model": "M",
                    "vendorName": "V",
                    "serialNumber": "S",
                    "firmwareVersion": "1",
                    "modem": {"iccid": "I", "imsi": "J"},
                },
                "reason": "PowerUp",
            },
        ],
        [
            "StatusNotification",
            {"timestamp": TS, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
        ],
        ["Authorize", {"idToken": {"idToken": "FUZZ", "type": "ISO14443"}}],
        [
            "MeterValues",
            {
                "evseId": 1,
                "meterValue": [
                    {
                        "timestamp": TS,
                        "sampledValue": [
                            {
                                "value": 12.5,
                                "measurand": "Energy.Active.Import.Register",
                                "unitOfMeasure": {"unit": "kWh", "multiplier": 0},
                            },
                            {"value": 7000, "measurand": "Power.Active.Import"},
                        ],
                    }
                ],
            },
        ],
        [
            "TransactionEvent",
            {
                "eventType": "Updated",
                "timestamp": TS,
                "triggerReason": "MeterValuePeriodic",
                "seqNo": 1,
                "transactionInfo": {"transactionId": "fuzz-tx"},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": "FUZZ", "type": "ISO14443"},
                "meterValue": [{"timestamp": TS, "sampledValue": [{"value": 3}]}],
            },
        ],
        [
            "DataTransfer",
            {"vendorId": "com.example", "messageId": "m", "data": {"nested": ["x", 1]}},
        ],
        [
            "NotifyEvent",
            {
                "generatedAt": TS,
                "seqNo": 0,
                "eventData": [
                    {
                        "eventId": 1,
                        "timestamp": TS,
                        "trigger": "Alerting",
                        "actualValue": "v",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "C"},
                        "variable": {"name": "V"},
                    }
                ],
            },
        ],
        ["SecurityEventNotification", {"type": "T", "timestamp": TS, "techInfo": "i"}],
    ],
}

POISON_TEXT = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d", "ok\x00\ud800"]
POISON_NUMBER = [10**30, -(10**30), -1, 2**31, -(2**31) - 1, 2**63, HUGE_FLOAT]
POISON_METER_TEXT = ["1e30", "-1e30", "1e999999999", "12\x00", "\ud800"]  # 1.6 values are text
POISON_METER_NUMBER = [1e30, -1e30, 10**30, HUGE_FLOAT]

# What a station may get back for a poisoned frame: a CallResult or one of these.
SPEC_CODES = {
    "PropertyConstraintViolation",
    "TypeConstraintViolation",
    "OccurenceConstraintViolation",
    "OccurrenceConstraintViolation",
    "FormationViolation",
    "FormatViolation",
    "ProtocolError",
    "RpcFrameworkError",
}


def leaves(value, path=()):
    """Paths to every scalar in a payload."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def put(payload, path, new):
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new


def poisoned(version: str, rng: random.Random, number: int) -> tuple[str, str]:
    """One frame with one poisoned value; returns (message id, frame text)."""
    action, payload = rng.choice(VALID[version])
    payload = json.loads(json.dumps(payload))
    message_id = f"f{number}"
    spots = list(leaves(payload))
    where = rng.randrange(len(spots) + 1)
    if where == len(spots):  # the message id itself
        message_id += rng.choice(POISON_TEXT)
    else:
        path, value = spots[where]
        in_meter = "sampledValue" in path and path[-1] == "value"
        if in_meter:
            new = rng.choice(POISON_METER_TEXT if version == "1.6" else POISON_METER_NUMBER)
        elif isinstance(value, str):
            new = rng.choice(POISON_TEXT + [value + p for p in POISON_TEXT])
        else:
            new = rng.choice(POISON_NUMBER)
        put(payload, path, new)
    text = json.dumps([2, message_id, action, payload])  # ensure_ascii: \u0000, \ud800 escapes
    return message_id, text.replace(f'"{HUGE_FLOAT}"', "1e400")


async def exchange(url, identity, password, version, frames) -> list[list]:
    replies = []
    async with connect(
        url,
        subprotocols=[f"ocpp{version}"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        for message_id, text in frames:
            await ws.send(text)
            reply = json.loads(await asyncio.wait_for(ws.recv(), 20))
            while reply[0] == 2:  # the CSMS asks something of its own (a seqNo gap: 2.0.1 E)
                await ws.send(json.dumps([3, reply[1], {"messagesInQueue": False}]))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert reply[1] == message_id, (text, reply)
            replies.append(reply)
        await ws.send('[2, "alive", "Heartbeat", {}]')
        assert json.loads(await asyncio.wait_for(ws.recv(), 20))[:2] == [3, "alive"]
    return replies


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_poisoned_values_get_a_spec_answer_and_every_frame_is_logged(
    server, make_station, live_alpha, version
):
    station, identity, password = make_station()
    frames: list[tuple[str, str]] = []

    @settings(
        max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(seed=st.integers(min_value=0, max_value=2**32))
    def collect(seed):
        frames.append(poisoned(version, random.Random(seed), len(frames)))

    collect()
    replies = asyncio.run(
        exchange(f"{server.ws}/ocpp/{identity}", identity, password, version, frames)
    )

    codes = {reply[2] for reply in replies if reply[0] == 4}
    assert codes <= SPEC_CODES, codes - SPEC_CODES  # never InternalError
    assert {"PropertyConstraintViolation", "TypeConstraintViolation"} <= codes
    assert any(reply[0] == 3 for reply in replies)

    # Every frame in and out is in the log, the poisoned ones escaped (+1: the Heartbeat).
    def counts():
        rows = MessageLog.objects.filter(station_id=station.pk).values("direction")
        return {row["direction"]: row["n"] for row in rows.annotate(n=Count("id"))}

    expected = {"in": len(frames) + 1, "out": len(frames) + 1}

    async def logged():
        return await in_db(live_alpha, counts) == expected

    with contextlib.suppress(AssertionError):
        asyncio.run(wait_until(logged, timeout=15, interval=0.3))
    assert asyncio.run(in_db(live_alpha, counts)) == expected
