"""Station events committed by OCPP pool jobs are delivered in per-tenant batches
(apps/ocpp/coalesce.py): many stations' events in few handler calls, every station's events in
order, and a job returns only once the handlers of its events have run."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

import pytest

from apps.core import events
from apps.ocpp import coalesce
from apps.ocpp.dbpool import run_in_tenant


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(events, "_handlers", defaultdict(list))
    monkeypatch.setattr(events, "_in_transaction_handlers", defaultdict(list))
    monkeypatch.setattr(events, "_batch", set())
    monkeypatch.setattr(events, "_coalescer", events._coalescer)  # restored afterwards
    monkeypatch.setattr(coalesce.coalescer, "window", 0.1)


def _report(*, station_id: int, statuses: list[str]) -> None:
    """What a station's StatusNotifications do: each status in its own transaction."""
    from django.db import transaction

    for status in statuses:
        with transaction.atomic():
            events.emit(events.STATUS_CHANGED, station_id=station_id, evse_id=1, status=status)


def test_many_stations_events_come_in_few_batches_in_order(registry, live_alpha):
    tenant = live_alpha
    lock = threading.Lock()
    batches: list[list[tuple[str, dict]]] = []
    delivered: set[tuple[int, str]] = set()
    answered_before_delivery: list[int] = []

    def on_batch(*, entries, **_):
        with lock:
            batches.append(list(entries))
            delivered.update((p["station_id"], p["status"]) for _, p in entries)

    events.subscribe(events.STATUS_CHANGED, on_batch, batch=True)
    statuses = ["Available", "Preparing", "Charging", "Finishing", "Available"]

    async def station(station_id: int) -> None:
        await run_in_tenant(tenant, _report, station_id=station_id, statuses=statuses)
        with lock:
            if (station_id, statuses[-1]) not in delivered:
                answered_before_delivery.append(station_id)

    async def main() -> None:
        await asyncio.gather(*(station(n) for n in range(60)))

    asyncio.run(main())

    everything = [(p["station_id"], p["status"]) for batch in batches for _, p in batch]
    assert sorted(everything) == sorted((n, s) for n in range(60) for s in statuses)
    for n in range(60):  # each station's statuses in the order it reported them
        assert [s for station_id, s in everything if station_id == n] == statuses
    assert answered_before_delivery == []
    assert len(batches) < 60  # 300 events, coalesced


def test_events_outside_the_pool_are_delivered_at_once(registry, live_db):
    calls = []
    events.subscribe(events.STATUS_CHANGED, lambda **kw: calls.append(kw["entries"]), batch=True)
    events.set_coalescer(coalesce.coalescer)  # as in a server process

    # Autocommit (no transaction): delivered at the emit, on this (non-pool) thread.
    events.emit(events.STATUS_CHANGED, station_id=1, evse_id=1, status="Available")

    assert calls == [
        [(events.STATUS_CHANGED, {"station_id": 1, "evse_id": 1, "status": "Available"})]
    ]
