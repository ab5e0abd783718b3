"""Connection supervision against the test CSMS: a CSMS shedding load answers the websocket
upgrade with 503 and a Retry-After, and the station waits that long before it tries again."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from apps.simulator.connection import retry_after_seconds
from apps.simulator.scenario import Fleet
from apps.simulator.state import HandshakeRefused


def attempts(csms, station) -> list[float]:
    return [at for identity, at in csms.handshakes if identity == station.identity]


async def test_a_503_refusal_carries_its_retry_after(make_station, csms, version):
    station = make_station(version)
    csms.refusals = [(503, "2")]
    with pytest.raises(HandshakeRefused) as refused:
        await station.connect()
    assert (refused.value.status_code, refused.value.retry_after) == (503, 2.0)
    assert await station.connect() == "Accepted"


async def test_after_a_drop_the_station_waits_the_retry_after_of_a_refusing_csms(
    make_station, csms, version
):
    # The back-off alone would try again after about 0.1 s (0.05 s doubled, +-20 %).
    station = make_station(version, auto_reconnect=True, reconnect_delay=0.05)
    await station.connect()
    csms.refusals = [(503, "1")]
    csms.drop(station.identity)
    await station.wait_until(lambda: station.boot_count == 2 and station.online, timeout=5)
    first, refused, accepted = attempts(csms, station)
    assert 1.0 <= accepted - refused < 1.5
    assert len(csms.received(station.identity, "BootNotification")) == 2


async def test_without_retry_after_the_back_off_stays_short(make_station, csms):
    station = make_station("1.6", auto_reconnect=True, reconnect_delay=0.05)
    await station.connect()
    csms.refusals = [(503, None), (503, None)]
    csms.drop(station.identity)
    await station.wait_until(lambda: station.boot_count == 2 and station.online, timeout=5)
    _, *reconnecting = attempts(csms, station)
    assert len(reconnecting) == 3  # refused, refused, accepted
    gaps = [later - earlier for earlier, later in itertools.pairwise(reconnecting)]
    assert all(gap < 0.5 for gap in gaps)


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 0 ") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= retry_after_seconds(in_a_minute) <= 60
    long_ago = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert retry_after_seconds(long_ago) == 0.0


async def test_a_fleet_station_honours_retry_after_on_its_first_connection(make_station, csms):
    # The fleet's own first back-off is 1 s +-20 %: the CSMS asks for 2.
    station = make_station("1.6")
    csms.refusals = [(503, "2")]
    stop = asyncio.Event()
    run = asyncio.ensure_future(Fleet(stations=[station]).run(stop))
    await station.wait_until(lambda: station.online, timeout=5)
    stop.set()
    await run
    refused, accepted = attempts(csms, station)
    assert 2.0 <= accepted - refused < 2.5
