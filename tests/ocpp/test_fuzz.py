"""Thousands of random and mutated frames: no crash, every frame answered or ignored as the
spec says, the connection alive throughout."""

import asyncio
import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from tests.live import basic_auth

VALID = [
    [2, "h", "Heartbeat", {}],
    [2, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}],
    [
        2,
        "s",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    ],
    [2, "a", "Authorize", {"idTag": "FUZZ"}],
    [
        2,
        "m",
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "12"}]}
            ],
        },
    ],
    [
        2,
        "st",
        "StartTransaction",
        {"connectorId": 1, "idTag": "FUZZ", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"},
    ],
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def mutate(frame: list, rng: random.Random) -> str:
    frame = json.loads(json.dumps(frame))
    choice = rng.randrange(7)
    if choice == 0:
        frame[0] = rng.choice([0, 1, 5, "2", None, 2.5])
    elif choice == 1:
        frame[1] = rng.choice([None, 7, "", "x" * 40, ["id"]])
    elif choice == 2 and len(frame) > 2:
        frame[2] = rng.choice(["", "Hearbeat", "RemoteStartTransaction", 3, None])
    elif choice == 3 and isinstance(frame[-1], dict) and frame[-1]:
        key = rng.choice(sorted(frame[-1]))
        frame[-1][key] = rng.choice([None, -1, "", [], {}, "2026-13-45T99:99:99Z", 1e308])
    elif choice == 4:
        frame = frame[: rng.randrange(len(frame) + 1)]
    elif choice == 5:
        text = json.dumps(frame)
        cut = rng.randrange(len(text) + 1)
        return text[:cut]
    else:
        frame.append({"extra": True})
    return json.dumps(frame)


async def exchange_all(url, identity, password, frames) -> int:
    """Send every frame, then a Heartbeat; the consumer answers in order, so every reply
    before the Heartbeat's is a reply to a fuzz frame.  Returns how many were answered."""
    async with connect(
        url,
        subprotocols=["ocpp1.6"],
        additional_headers={"Authorization": basic_auth(identity, password)},
        max_size=None,
    ) as ws:
        for frame in frames:
            await ws.send(frame)
        await ws.send('[2, "alive", "Heartbeat", {}]')
        answered = 0
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert isinstance(reply, list) and reply[0] in (3, 4), reply
            if reply[0] == 4:
                assert isinstance(reply[2], str) and reply[2], reply
            if reply[1] == "alive":
                assert reply[0] == 3
                return answered
            answered += 1


def test_random_and_mutated_frames_never_break_the_connection(server, make_station):
    station, identity, password = make_station()
    rng = random.Random(20261124)
    frames = []

    @settings(
        max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(value=json_values)
    def collect(value):
        frames.append(json.dumps(value))
        frames.append(mutate(rng.choice(VALID), rng))

    collect()
    answered = asyncio.run(exchange_all(f"{server.ws}/ocpp/{identity}", identity, password, frames))
    assert len(frames) >= 3000
    # Replies to replies are never sent; everything else gets an answer.
    assert len(frames) // 2 <= answered <= len(frames)
