"""Group commit: liveness written for many stations at once with the per-station rules kept,
and a failing item in a batch fails alone."""

from __future__ import annotations

import asyncio
import datetime as dt

from django.utils import timezone

from apps.ocpp.groupcommit import GroupCommit
from apps.stations.models import Station, StatusChange
from apps.stations.services import station_connected, station_disconnected, stations_seen


def test_stations_seen_updates_online_sockets_and_brings_back_quiet_ones(alpha):
    long_ago = timezone.now() - dt.timedelta(hours=1)
    online, quiet, gone = (
        Station.objects.create(identity=f"SEEN-{n}", heartbeat_interval=60) for n in range(3)
    )
    for station in (online, quiet, gone):
        station_connected(station_id=station.pk, connection_id=f"sock-{station.pk}", version="1.6")
    Station.objects.update(last_seen_at=long_ago)
    Station.objects.filter(pk=quiet.pk).update(is_online=False)  # the sweep found it silent
    station_disconnected(station_id=gone.pk, connection_id=f"sock-{gone.pk}")
    before = StatusChange.objects.filter(status="Online").count()

    stations_seen(
        links=[
            (online.pk, f"sock-{online.pk}"),
            (quiet.pk, f"sock-{quiet.pk}"),
            (gone.pk, f"sock-{gone.pk}"),  # a frame from a socket that closed
            (online.pk, "stale-socket"),  # an older socket of a station that reconnected
        ]
    )

    online.refresh_from_db(), quiet.refresh_from_db(), gone.refresh_from_db()
    assert online.is_online and online.last_seen_at > long_ago
    assert quiet.is_online and quiet.last_seen_at > long_ago
    assert not gone.is_online and gone.last_seen_at == long_ago
    assert StatusChange.objects.filter(status="Online").count() == before + 1  # quiet, once


async def test_a_failing_item_fails_alone_and_the_others_are_answered():
    batches: list[list[str]] = []

    def write(*, items: list[str]) -> list[str]:
        batches.append(list(items))
        if "bad" in items:
            raise ValueError("cannot store")
        return [item.upper() for item in items]

    commit = GroupCommit(write, writers_per_tenant=1)
    results = await asyncio.gather(
        *(commit.submit(None, item) for item in ("a", "bad", "c")), return_exceptions=True
    )

    assert results[0] == "A" and results[2] == "C"
    assert isinstance(results[1], RuntimeError)
    assert batches[0] == ["a", "bad", "c"]  # written together first
    assert sorted(map(tuple, batches[1:])) == [("a",), ("bad",), ("c",)]


async def test_items_arriving_during_a_write_go_together_in_the_next():
    started, release = asyncio.Event(), asyncio.Event()
    batches: list[list[int]] = []
    loop = asyncio.get_running_loop()

    def write(*, items: list[int]) -> list[int]:
        batches.append(list(items))
        if len(batches) == 1:
            loop.call_soon_threadsafe(started.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=10)
        return items

    commit = GroupCommit(write, writers_per_tenant=1)
    first = asyncio.ensure_future(commit.submit(None, 0))
    await started.wait()
    later = [asyncio.ensure_future(commit.submit(None, n)) for n in range(1, 6)]
    await asyncio.sleep(0.05)
    release.set()
    assert await asyncio.gather(first, *later) == [0, 1, 2, 3, 4, 5]
    assert batches == [[0], [1, 2, 3, 4, 5]]
