"""Who is connected to this process, and what a connect sets in motion.

Three small per-process pieces that keep a reconnect storm (a server restart: every station
at once) cheap and orderly:

``HandshakeGate``   a bound on handshakes in progress.  Over it, a station is refused at once
                    with 503 and ``Retry-After`` (it retries later) instead of queueing until
                    its open timeout expires and it retries anyway, piling on more work.
``LocalSockets``    the newest socket of each identity on this process.  A newer handshake
                    supersedes the older socket at any moment: before the older one is
                    accepted (it is then refused cleanly) or after (it is closed).  Other
                    processes hear of it over the channel layer (consumer.py).
``ConnectBatcher``  the consequences of a connect (station online, its status history, the
                    ``station.connected`` event and every feature's handler) run after the
                    socket is accepted, off the handshake path: all connects of a tenant that
                    arrive while a write is in flight go in the next one UPDATE, and their
                    events go to the tenant's event batches (coalesce.py), where every
                    feature's handler runs once per batch.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from .dbpool import run_in_tenant_nowait
from .groupcommit import GroupCommit

if TYPE_CHECKING:
    from .link import StationLink

logger = logging.getLogger(__name__)


class HandshakeGate:
    """At most ``limit`` handshakes in progress per process; ``try_enter`` never waits."""

    def __init__(self, limit: int | None = None) -> None:
        self._limit = limit
        self.pending = 0
        self.refused = 0

    @property
    def limit(self) -> int:
        return self._limit if self._limit is not None else settings.OCPP_MAX_PENDING_HANDSHAKES

    def try_enter(self) -> bool:
        if self.pending >= self.limit:
            self.refused += 1
            return False
        self.pending += 1
        return True

    def leave(self) -> None:
        self.pending -= 1


class LocalSockets:
    """identity → the newest authenticated consumer of that identity on this process.

    "Newest" is by arrival: ``arrived()`` numbers each handshake when it starts, ``claim()``
    is called once the station has authenticated (an impostor must not push a station off)."""

    def __init__(self) -> None:
        self._newest: dict[str, Any] = {}
        self._arrivals = 0

    def arrived(self) -> int:
        self._arrivals += 1
        return self._arrivals

    def claim(self, identity: str, consumer: Any) -> Any | None:
        """Make ``consumer`` the identity's socket unless a later arrival already is; returns
        the consumer that lost (the older one, or ``consumer`` itself), or ``None``."""
        current = self._newest.get(identity)
        if current is None or current is consumer:
            self._newest[identity] = consumer
            return None
        if current.arrival > consumer.arrival:
            return consumer
        self._newest[identity] = consumer
        return current

    def release(self, identity: str, consumer: Any) -> None:
        if self._newest.get(identity) is consumer:
            del self._newest[identity]

    def newest(self, identity: str) -> Any | None:
        return self._newest.get(identity)

    def __len__(self) -> int:
        return len(self._newest)


def _write_online(*, items: list[tuple[int, str, str]]) -> list[bool]:
    from apps.stations.services import stations_connected

    came_online = stations_connected(links=items)
    # A station listed twice came online once: the event goes with its last item.
    last = {station_id: index for index, (station_id, _, _) in enumerate(items)}
    return [
        station_id in came_online and last[station_id] == index
        for index, (station_id, _, _) in enumerate(items)
    ]


def _announce(*, items: list[int]) -> list[None]:
    from apps.stations.services import stations_came_online

    stations_came_online(station_ids=items)
    return [None] * len(items)


class ConnectBatcher:
    """Marks accepted sockets' stations online, many per transaction, off the handshake path;
    then emits ``station.connected`` for those that were offline, again in batches.

    ``connected(link)`` returns at once.  ``online(link)`` waits until the station is marked
    online (the consumer answers no frame before that: whoever sees an answer sees the
    station online); ``settled(link)`` until its events are emitted too (a disconnect is never
    written or announced before the connect it undoes: the tenant's event batches keep the
    order in which they were emitted)."""

    def __init__(self) -> None:
        self._online = GroupCommit(_write_online, max_batch=1000, writers_per_tenant=1)
        # Nobody waits for the handlers of a connect: its events are gathered for a window
        # with other stations' (coalesce.py); a later disconnect's events still come after.
        self._events = GroupCommit(
            _announce, max_batch=1000, writers_per_tenant=1, runner=run_in_tenant_nowait
        )
        self._written: dict[str, asyncio.Future] = {}
        self._settled: dict[str, asyncio.Task] = {}

    def connected(self, link: StationLink) -> None:
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        self._written[link.connection_id] = written
        task = loop.create_task(self._connect(link, written))
        self._settled[link.connection_id] = task
        task.add_done_callback(lambda done: self._done(link.connection_id, done))

    async def _connect(self, link: StationLink, written: asyncio.Future) -> None:
        item = (link.station_id, link.connection_id, link.version)
        try:
            came_online = await self._online.submit(link.tenant, item)
        finally:
            written.set_result(None)
        if came_online:
            await self._events.submit(link.tenant, link.station_id)

    def _done(self, connection_id: str, task: asyncio.Task) -> None:
        self._written.pop(connection_id, None)
        if self._settled.get(connection_id) is task:
            del self._settled[connection_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("Connect of %s not recorded: %s", connection_id, task.exception())

    async def online(self, link: StationLink) -> None:
        written = self._written.get(link.connection_id)
        if written is not None:
            await asyncio.shield(written)

    async def settled(self, link: StationLink) -> None:
        task = self._settled.get(link.connection_id)
        if task is not None:
            await asyncio.gather(asyncio.shield(task), return_exceptions=True)

    @property
    def pending(self) -> int:
        return len(self._settled)


# A superseded socket records its disconnect this much later, so that the newer socket's
# connect (batched, perhaps on another process) lands first and the station does not flap
# offline; if the newer socket never got in, the station is marked offline all the same.
SUPERSEDED_DISCONNECT_DELAY = 10.0

_later: set[asyncio.Task] = set()


def later(delay: float, coroutine) -> None:
    """Run ``coroutine`` after ``delay`` seconds, in the background."""

    async def run() -> None:
        await asyncio.sleep(delay)
        try:
            await coroutine
        except Exception:
            logger.exception("Delayed work failed")

    task = asyncio.get_running_loop().create_task(run())
    _later.add(task)
    task.add_done_callback(_later.discard)


gate = HandshakeGate()
sockets = LocalSockets()
connects = ConnectBatcher()
