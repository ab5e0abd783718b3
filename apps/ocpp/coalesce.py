"""The consequences of station events, coalesced per tenant (``apps.core.events``, "Batches").

When thousands of stations connect at once (a server restart), each connect, boot and status
report used to run every feature's handlers for that one station: the live dashboard's
snapshot, billing's price display, power, alerts, webhooks...  Here the station events a job
of the OCPP pool commits (``events.COALESCED``) are gathered per tenant and delivered as one
batch.  One tenant's batches run one at a time, in order, on the OCPP pool; what arrives
while a batch is delivered goes in the next one.  The first events after a quiet spell go out
at once; after that a tenant's batches start at most every ``WINDOW`` seconds, except that a
station waiting for its answer cuts the wait short:

The job that emitted the events waits (``dbpool.run_in_tenant``) until its batch has been
delivered, so a station's answer (to a BootNotification, a StatusNotification) still comes
after the consequences of what it reported; such answers are never held for the window (the
batch is then as large as what arrived during the previous one: a group commit).  Connects
and disconnects, which no answer waits for, are gathered for the window: a storm of
connects costs one batch per window per tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from apps.core import events

logger = logging.getLogger(__name__)

WINDOW = 0.15  # seconds between two batches of one tenant


@dataclass
class _Tenant:
    tenant: Any
    entries: list[events.Entry] = field(default_factory=list)
    accepted: int = 0  # sequence number of the last entry accepted
    delivered: int = 0  # ... and of the last one delivered
    waiters: list[tuple[int, asyncio.Future]] = field(default_factory=list)
    running: bool = False  # a delivery task is scheduled or running
    last_start: float = float("-inf")
    wake: asyncio.Event | None = None  # set when a station starts waiting for a delivery


class EventCoalescer:
    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._tenants: dict[str, _Tenant] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._local = threading.local()
        self.batches = 0
        self.entries = 0

    # --- the OCPP pool's side ------------------------------------------------------------

    def register_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not loop:
            with self._lock:
                self._loop = loop
                # Waiters of a loop that is gone can never be woken there.
                for state in self._tenants.values():
                    state.waiters.clear()
                    state.running = False
                    state.wake = None

    def job_started(self) -> None:
        """Called by the pool before each job: this thread may hand events over."""
        self._local.active = True
        self._local.marks = {}

    def job_finished(self) -> dict[str, int]:
        """Called by the pool after each job: {schema: sequence number} to wait for."""
        self._local.active = False
        marks, self._local.marks = getattr(self._local, "marks", {}), {}
        return marks

    def __call__(self, tenant, entries: list[events.Entry]) -> bool:
        """``events``' coalescer hook: take the entries of a commit on an OCPP pool job."""
        loop = self._loop
        if (
            tenant is None
            or not getattr(self._local, "active", False)
            or loop is None
            or loop.is_closed()
        ):
            return False
        schema = tenant.schema_name
        with self._lock:
            state = self._tenants.get(schema)
            if state is None:
                state = self._tenants[schema] = _Tenant(tenant)
            state.tenant = tenant
            state.entries.extend(entries)
            state.accepted += len(entries)
            self._local.marks[schema] = state.accepted
            start = not state.running
            state.running = True
        if start:
            loop.call_soon_threadsafe(self._start, schema)
        return True

    # --- the event loop's side -------------------------------------------------------------

    async def delivered(self, marks: dict[str, int]) -> None:
        """Wait until the entries up to each mark have been delivered."""
        loop = asyncio.get_running_loop()
        for schema, mark in marks.items():
            with self._lock:
                state = self._tenants.get(schema)
                if state is None or state.delivered >= mark:
                    continue
                future = loop.create_future()
                state.waiters.append((mark, future))
                if state.wake is not None:
                    state.wake.set()  # a station waits: no more gathering for this batch
            await future

    def _start(self, schema: str) -> None:
        asyncio.get_running_loop().create_task(self._run(schema))

    async def _run(self, schema: str) -> None:
        from .dbpool import run_in_pool

        while True:
            with self._lock:
                state = self._tenants[schema]
                delay = state.last_start + self.window - time.monotonic()
                waited_for = bool(state.waiters)
                if state.wake is None:
                    state.wake = asyncio.Event()
                state.wake.clear()
            if delay > 0 and not waited_for:  # gather what else arrives within the window
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.wake.wait(), delay)
            with self._lock:
                entries, state.entries = state.entries, []
                mark = state.accepted
                tenant = state.tenant
                if not entries:
                    state.running = False
                    return
                state.last_start = time.monotonic()
            try:
                await run_in_pool(tenant, events.deliver, tenant=tenant, entries=entries)
            except Exception:  # deliver isolates handlers; this is the pool itself failing
                logger.exception("Events of %s not delivered", schema)
            self.batches += 1
            self.entries += len(entries)
            with self._lock:
                state.delivered = mark
                ready = [future for wanted, future in state.waiters if wanted <= mark]
                state.waiters = [(w, f) for w, f in state.waiters if w > mark]
            for future in ready:
                if not future.done():
                    future.set_result(None)


coalescer = EventCoalescer()
