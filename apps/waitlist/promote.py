"""Promotion without the Celery hop: a freed port is claimed and its ReserveNow sent from the
ASGI process that received the StatusNotification.

Profile (bench/waitlist_promotion.py, 50 queues x 5 drivers, 20 ports/s, load average ~12 on
2 cores): of a p99 of 11.5 s from the StatusNotification to the ReserveNow at the station,
10.9 s passed before the driver was even claimed.  Each ``waitlist.port_freed`` task held a
prefork worker process for the whole ReserveNow round trip (0.8 - 1.7 s on that machine), so
eight processes promoted about five ports a second and the broker queue grew.  Here the claim
(a conditional UPDATE backed by the unique holds, unchanged) and the command service's
ReserveNow (unchanged: audit entry, payload, reply) run on a small pool of threads of the
server process: a thread waiting on a station costs no process, and there is no broker hop.
Outside a server process (Celery, management commands) the handler queues the task as before.

Each promotion runs in the pool through ``sync_to_async`` started on the server's event loop:
the command service's ``async_to_sync`` then sends the ReserveNow and awaits its answer on that
loop, with the server's channel-layer connections.  Called from a plain thread instead, every
``async_to_sync`` made a new thread with a new event loop and new Redis connections for its
one command (the profile at 1,000 queues: most of "claimed -> ReserveNow at the station").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging

from asgiref.sync import sync_to_async
from django.db import connection

from apps.core import broadcast

logger = logging.getLogger(__name__)
THREADS = 32  # promotions waiting on stations at once, per server process

_executor: concurrent.futures.ThreadPoolExecutor | None = None


def in_server() -> bool:
    """Whether this is an ASGI server process (its event loop is registered for broadcasts)."""
    loop = getattr(broadcast, "_loop", None)
    return loop is not None and loop.is_running()


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=THREADS, thread_name_prefix="waitlist-promote"
        )
    return _executor


def submit(*, station_id: int, evse_id: int) -> None:
    promote = sync_to_async(_promote, thread_sensitive=False, executor=_pool())
    asyncio.run_coroutine_threadsafe(
        promote(connection.tenant, station_id, evse_id), broadcast._loop
    )


def _promote(tenant, station_id: int, evse_id: int) -> str:
    from . import selectors, services, tasks

    try:
        if connection.connection is not None and not connection.is_usable():
            connection.close()
        connection.set_tenant(tenant)
        if selectors.group_of_station(station_id) is None:
            return "no queue"
        entry_id = services.port_freed(station_id=station_id, evse_id=evse_id)
        if entry_id is None:
            return "nobody"
        return services.hold_reserve(entry_id=entry_id)
    except Exception:  # the worker's task does the same work: let it try
        logger.exception("In-process promotion of %s/%s failed", station_id, evse_id)
        tasks.port_freed.delay(station_id, evse_id)
        return "queued"
