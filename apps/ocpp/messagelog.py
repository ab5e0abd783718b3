"""The OCPP message log: every frame in and out, buffered per process and written in batches
per tenant; nothing a station sends can make another frame's row disappear."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from .dbpool import run_in_tenant

if TYPE_CHECKING:
    from .link import StationLink

logger = logging.getLogger(__name__)


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
