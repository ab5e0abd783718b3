"""Every kind of bad frame gets the CallError the spec names, and the connection lives on."""

import json

import pytest
from websockets.asyncio.client import connect

from tests.live import basic_auth
from tests.ocpp.clients import raw_exchange

BOOT16 = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT201 = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}

CASES = [
    # (frame, expected code in 1.6, expected code in 2.0.1, expected message id)
    ("{not json", "FormationViolation", "RpcFrameworkError", "-1"),
    ('{"a": 1}', "FormationViolation", "RpcFrameworkError", "-1"),
    ("[2]", "FormationViolation", "RpcFrameworkError", "-1"),
    ('[7, "m7", "Heartbeat", {}]', "FormationViolation", "MessageTypeNotSupported", "m7"),
    ('[2, "m8", "Heartbeat"]', "FormationViolation", "FormatViolation", "m8"),
    ('[2, "m9", "Heartbeat", []]', "FormationViolation", "FormatViolation", "m9"),
    ('[2, "m10", "FlyToTheMoon", {}]', "NotImplemented", "NotImplemented", "m10"),
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_malformed_frames_get_the_named_error_and_the_socket_survives(
    server, make_station, version
):
    station, identity, password = make_station()
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=[f"ocpp{version}"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        for frame, code16, code201, message_id in CASES:
            reply = await raw_exchange(ws, frame)
            assert reply[0] == 4 and reply[1] == message_id, (frame, reply)
            assert reply[2] == (code16 if version == "1.6" else code201), (frame, reply)
        # an action the version defines for the other direction: recognised, not supported
        other_way = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
        reply = await raw_exchange(ws, json.dumps([2, "m11", other_way, {}]))
        assert reply[:3] == [4, "m11", "NotSupported"]
        # schema violations, as the library classifies them
        boot = BOOT16 if version == "1.6" else BOOT201
        missing = {k: v for k, v in boot.items() if k not in ("chargePointModel", "reason")}
        reply = await raw_exchange(ws, json.dumps([2, "m12", "BootNotification", missing]))
        assert reply[:3] == [4, "m12", "ProtocolError"]  # a required field is missing
        wrong_type = (
            {**boot, "chargePointVendor": 42} if version == "1.6" else {**boot, "reason": 42}
        )
        reply = await raw_exchange(ws, json.dumps([2, "m13", "BootNotification", wrong_type]))
        assert reply[:3] == [4, "m13", "TypeConstraintViolation"]
        extra = {**boot, "surprise": True}
        reply = await raw_exchange(ws, json.dumps([2, "m14", "BootNotification", extra]))
        assert reply[:3] == [
            4,
            "m14",
            "FormationViolation" if version == "1.6" else "FormatViolation",
        ]
        # oversized frame
        huge = json.dumps([2, "m15", "DataTransfer", {"vendorId": "x", "data": "y" * 70_000}])
        reply = await raw_exchange(ws, huge)
        assert reply[:3] == [
            4,
            "m15",
            "FormationViolation" if version == "1.6" else "FormatViolation",
        ]
        # a reply to nothing is ignored; binary frames are refused
        await ws.send('[3, "never-asked", {}]')
        await ws.send(b"\x00\x01")
        reply = json.loads(await ws.recv())
        assert reply[0] == 4 and reply[1] == "-1"
        # still alive: a good message is answered
        reply = await raw_exchange(ws, json.dumps([2, "ok1", "BootNotification", boot]))
        assert reply[0] == 3 and reply[1] == "ok1" and reply[2]["status"] == "Accepted"
        reply = await raw_exchange(ws, '[2, "ok2", "Heartbeat", {}]')
        assert reply[0] == 3 and "currentTime" in reply[2]


async def test_lax_station_is_accepted_despite_schema_breaches(server, make_station):
    station, identity, password = make_station(lax=True)
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=["ocpp1.6"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        reply = await raw_exchange(
            ws, json.dumps([2, "x1", "BootNotification", {**BOOT16, "vendorSpecific": 1}])
        )
        assert reply[0] == 3 and reply[2]["status"] == "Accepted"


async def test_two_calls_in_a_row_are_both_answered_in_order(server, make_station):
    station, identity, password = make_station()
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=["ocpp1.6"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        await ws.send('[2, "a", "Heartbeat", {}]')
        await ws.send('[2, "b", "Heartbeat", {}]')
        first, second = json.loads(await ws.recv()), json.loads(await ws.recv())
        assert (first[1], second[1]) == ("a", "b") and first[0] == second[0] == 3


MALFORMED_REPLIES = [
    '[3, "r1"]',  # a CallResult without its payload (was answered with a CallError)
    "[3]",
    "[4]",
    '[4, "r2"]',
    "[3, 5, {}]",
    '[3, "' + "x" * 40 + '", {}]',
    '[3, "r3", []]',
    '[3, "r4", {}, "extra"]',
    '[4, "r5", "GenericError"]',
    '[4, "r6", 7, "description", {}]',
    '[4, "r7", "GenericError", "description", {}, "extra"]',  # the library raised TypeError
    '[3, "r8", {"value": NaN}]',  # not JSON, but a reply by its head
    '[3, "r9", {"cut": ',
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_malformed_replies_are_never_answered(server, make_station, version):
    """OCPP-J (1.6 §4.2.3, 2.0.1 Part 4 §4.2.3): a CallError answers a CALL only, so a broken
    CallResult or CallError is logged and ignored; the next answer is the next CALL's."""
    station, identity, password = make_station()
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=[f"ocpp{version}"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        for frame in MALFORMED_REPLIES:
            await ws.send(frame)
            reply = await raw_exchange(ws, f'[2, "after-{len(frame)}", "Heartbeat", {{}}]')
            assert reply[:2] == [3, f"after-{len(frame)}"], (frame, reply)
        oversized = json.dumps([3, "big", {"data": "y" * 70_000}])
        await ws.send(oversized)
        reply = await raw_exchange(ws, '[2, "after-big", "Heartbeat", {}]')
        assert reply[:2] == [3, "after-big"]
