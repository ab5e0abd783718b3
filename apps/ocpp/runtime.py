"""What every connected station's handlers share: its tenant and how to run ORM work.

ORM work runs on a dedicated pool of threads, each owning one PostgreSQL connection for its
lifetime (reopened only when it breaks).  We do not use ``database_sync_to_async``: its single shared thread
serialises every station's DB work, and with ``thread_sensitive=False`` asgiref carries the
caller's context (and so its connection object) from thread to thread and into tasks spawned
from it, so two threads could end up in one transaction.  ``run_in_executor`` copies no
context, so Django's connection handler sees each worker thread on its own.  Every job sets
its tenant first: a thread's connection keeps whatever schema the previous job left.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from apps.core import broadcast

logger = logging.getLogger(__name__)
T = TypeVar("T")

_executor: concurrent.futures.ThreadPoolExecutor | None = None


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.OCPP_DB_THREADS, thread_name_prefix="ocpp-db"
        )
    return _executor


def _in_tenant(tenant, func: Callable[..., T], kwargs: dict[str, Any]) -> T:
    # The thread keeps its connection between jobs (nothing here ends a "request"); drop it
    # only when it broke, so the next query reconnects.
    if connection.connection is not None and connection.errors_occurred:
        if not connection.is_usable():
            connection.close()
        connection.errors_occurred = False
    # Switch schema only when the tenant changes: django-tenants re-issues ``SET search_path``
    # after every set_tenant/set_schema, one round trip per job (a fifth of the OCPP pool's
    # time under load).  Keeping the schema is safe because django-tenants forgets the path
    # it set whenever a rollback (or savepoint rollback) could have reverted it.
    if tenant is None:
        if connection.schema_name != get_public_schema_name():
            connection.set_schema_to_public()
    elif connection.schema_name != tenant.schema_name:
        connection.set_tenant(tenant)
    else:
        connection.tenant = tenant
    return func(**kwargs)


async def run_in_tenant(tenant, func: Callable[..., T], /, **kwargs: Any) -> T:
    """Run sync ORM code for ``tenant`` (None: the public schema) off the event loop."""
    loop = asyncio.get_running_loop()
    if broadcast._loop is not loop:
        broadcast.register_loop(loop)
    return await loop.run_in_executor(_pool(), functools.partial(_in_tenant, tenant, func, kwargs))


@dataclass
class StationLink:
    tenant: Any
    station_id: int
    identity: str
    version: str
    connection_id: str
    lax: bool = False
    registration_status: str = "Accepted"
    last_touch: float = field(default_factory=time.monotonic)

    async def db(self, func: Callable[..., T], /, **kwargs: Any) -> T:
        return await run_in_tenant(self.tenant, func, **kwargs)

    async def meter_values(self, report) -> int:
        """Store a MeterValues report (group-committed with other stations')."""
        return await meter_batcher.submit(self.tenant, report)

    async def seen(self) -> None:
        """Record liveness (group-committed with other stations')."""
        await seen_batcher.submit(self.tenant, (self.station_id, self.connection_id))


# --- The OCPP message log: buffered per process, written in batches -------------------------


class MessageLogBuffer:
    """Logging every frame with one INSERT each would halve throughput; frames are queued and
    written once a second (or every 500 frames) per tenant with one bulk insert."""

    def __init__(self, interval: float = 1.0, batch: int = 500) -> None:
        self.interval = interval
        self.batch = batch
        self._rows: dict[Any, list[dict]] = defaultdict(list)
        self._task: asyncio.Task | None = None
        self._size = 0

    def add(
        self,
        link: StationLink,
        direction: str,
        message_type: int,
        unique_id: str,
        action: str,
        payload: Any,
    ) -> None:
        self._rows[link.tenant].append(
            {
                "station_id": link.station_id,
                "direction": direction,
                "message_type": message_type,
                "unique_id": unique_id[:64],
                "action": action[:64],
                "payload": payload,
                "created_at": dt.datetime.now(dt.UTC),  # timezone.now() reads settings: slower
            }
        )
        self._size += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._size:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def flush(self) -> None:
        pending, self._rows, self._size = self._rows, defaultdict(list), 0
        for tenant, rows in pending.items():
            try:
                await run_in_tenant(tenant, write_log, rows=rows)
            except Exception:  # the log must never take a station down
                logger.exception("Could not write %d OCPP log rows", len(rows))


_LOG_COLUMNS = ("station_id", "direction", "message_type", "unique_id", "action", "payload")


def write_log(*, rows: list[dict]) -> int:
    """Store log rows; returns how many were stored.  No row can make another disappear:
    what PostgreSQL cannot store is escaped first (``storable_row``), and a batch that still
    fails (a station deleted meanwhile, ...) is split in halves down to single rows, so only
    a row that cannot be stored at all is lost, and logged.  Each part is its own COPY in
    its own transaction."""
    ready = []
    for row in rows:
        try:
            ready.append(storable_row(row))
        except Exception:
            logger.exception("Could not serialise an OCPP log row: %.500r", row)
    return _write_halving(ready)


def _write_halving(rows: list[dict]) -> int:
    if not rows:
        return 0
    try:
        _copy_log(rows)
    except Exception:
        if len(rows) == 1:
            logger.exception("Could not write an OCPP log row: %.500r", rows[0])
            return 0
        half = len(rows) // 2
        return _write_halving(rows[:half]) + _write_halving(rows[half:])
    return len(rows)


def _copy_log(rows: list[dict]) -> None:
    """COPY the rows in (a tenth of the cost of building model instances for bulk_create)."""
    from .models import MessageLog

    table = connection.ops.quote_name(MessageLog._meta.db_table)
    columns = ", ".join((*_LOG_COLUMNS, "created_at"))
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (
                        row["station_id"],
                        row["direction"],
                        row["message_type"],
                        row["unique_id"],
                        row["action"],
                        row["payload_json"],
                        row["created_at"],
                    )
                )


# A \u0000 escape in JSON text: a backslash preceded by an even number of backslashes.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def storable_row(row: dict) -> dict:
    """The row with its payload as JSON text PostgreSQL can store (``payload_json``).

    PostgreSQL text and jsonb hold neither NUL nor a lone UTF-16 surrogate, and jsonb takes no
    ``NaN``/``Infinity`` (a ``1e400`` in a frame reads as infinity).  Such a row is kept
    whole, escaped reversibly: its payload becomes ``{"escaped": "<JSON text>"}``, the ASCII
    JSON text of ``{"unique_id": ..., "payload": ...}`` as the station sent them (every such
    character written as a ``\\uXXXX`` escape inside a string, which jsonb stores as plain
    text); ``json.loads(row.payload["escaped"])`` gives back exactly what was sent.  Its
    ``unique_id`` column shows the id with the same escapes, for reading and searching.
    A clean row (nearly all) costs one ``json.dumps`` and two scans of its text."""
    payload, unique_id = row["payload"], row["unique_id"]
    try:
        text = json.dumps(payload, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = None
    if (
        text is not None
        and _encodes(text)
        and not ("\\u0000" in text and _NUL_ESCAPE.search(text))  # the regex only if need be
        and "\x00" not in unique_id
        and _encodes(unique_id)
    ):
        return {**row, "payload_json": text}
    escaped = json.dumps({"unique_id": unique_id, "payload": payload}, default=str)
    return {
        **row,
        "unique_id": json.dumps(unique_id)[1:-1][:64],
        "payload_json": json.dumps({"escaped": escaped}),
    }


def _encodes(text: str) -> bool:
    """False when ``text`` holds a lone surrogate (UTF-8 cannot encode it)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


message_log = MessageLogBuffer()


# --- Group commit: many stations' writes in one transaction ------------------------------


class GroupCommit:
    """Writes of the same kind from many stations, committed together.  The items that arrive
    while a write is in flight go into the next one; under light load a batch is a single
    item, so nothing waits for a timer.  ``write(items=[...])`` runs in the tenant's schema on
    the OCPP pool and returns one result per item.  Each caller gets its result only after the
    commit, so nothing a station may discard on our answer is unsaved.  If a batch fails, its
    items are retried one by one, so one bad item fails alone (the handler raises and the
    station gets an InternalError CallError)."""

    def __init__(
        self, write: Callable[..., list], *, max_batch: int = 500, writers_per_tenant: int = 4
    ) -> None:
        self.write = write
        self.max_batch = max_batch
        self.writers_per_tenant = writers_per_tenant
        self._pending: dict[Any, list[tuple[Any, asyncio.Future]]] = defaultdict(list)
        self._writers: dict[Any, int] = defaultdict(int)

    async def submit(self, tenant, item) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._pending[tenant].append((item, future))
        if self._writers[tenant] < self.writers_per_tenant:
            self._writers[tenant] += 1
            asyncio.get_running_loop().create_task(self._drain(tenant))
        return await future

    async def _drain(self, tenant) -> None:
        try:
            while self._pending[tenant]:
                queue = self._pending[tenant]
                batch, self._pending[tenant] = queue[: self.max_batch], queue[self.max_batch :]
                await self._commit(tenant, batch)
        finally:
            self._writers[tenant] -= 1
            if not self._pending[tenant]:
                self._pending.pop(tenant, None)
                self._writers.pop(tenant, None)

    async def _commit(self, tenant, batch) -> None:
        try:
            results = await run_in_tenant(tenant, self.write, items=[item for item, _ in batch])
        except Exception:
            if len(batch) == 1:
                ((item, future),) = batch
                logger.exception("Could not store %r", item)
                if not future.done():
                    future.set_exception(RuntimeError("not stored"))
                return
            for one in batch:
                await self._commit(tenant, [one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _write_meter_values(*, items: list) -> list[int]:
    from apps.charging.services import meter_values_record_batch

    return meter_values_record_batch(reports=items)


def _write_seen(*, items: list[tuple[int, str]]) -> list[None]:
    from apps.stations.services import stations_seen

    stations_seen(links=items)
    return [None] * len(items)


meter_batcher = GroupCommit(_write_meter_values)
seen_batcher = GroupCommit(_write_seen)


def parse_time(value: str | None) -> dt.datetime:
    """OCPP timestamps (RFC 3339); a missing or unreadable one means 'now', and so does one
    that falls outside the years 1-9999 in UTC (``9999-12-31T23:00:00-05:00``)."""
    if not value or not isinstance(value, str):
        return timezone.now()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return timezone.now()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
