"""The finder's shared state in Redis: the journal of stations that changed, and the last
snapshot of the network, so that many processes keep their copies current cheaply.

* **Journal**: every time a published station changes (its status, connection, sessions:
  the events the live feed already follows), ``record`` writes its fresh public row under
  the tenant (``HSET``) and the time it changed (``ZADD``).  A process that holds a snapshot
  asks ``changed_since(t)`` for the rows changed after ``t`` and replaces just those: one
  round trip instead of re-reading 10,000 stations.  Entries live ``JOURNAL_SECONDS``.
* **Shared snapshot**: the rows as the last full read left them, with the time that read
  began; a process that starts (or restarts) takes it and the journal since, instead of
  reading the whole network on a driver's request.

Redis being away is not an error here: the finder falls back on reading the database.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

JOURNAL_SECONDS = 600
SNAPSHOT_SECONDS = 600
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return _client


def _keys(schema: str) -> tuple[str, str, str]:
    base = f"chargegrid:drivers.finder:{schema}"
    return f"{base}:rows", f"{base}:changed", f"{base}:snapshot"


def _generation_key(schema: str) -> str:
    return f"chargegrid:drivers.finder:{schema}:generation"


def invalidate(schema: str) -> None:
    """What the network lists changed (a listing published, withdrawn, edited): every
    process reads the network again at its next look at the journal."""
    try:
        pipe = _redis().pipeline()
        pipe.incr(_generation_key(schema))
        pipe.delete(_keys(schema)[2])
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("finder snapshot not invalidated: %s", error)


def generation(schema: str) -> int | None:
    try:
        return int(_redis().get(_generation_key(schema)) or 0)
    except redis.RedisError:
        return None


def record(schema: str, row: dict[str, Any]) -> None:
    """A station's fresh public row, changed now."""
    record_many(schema, [row])


def record_many(schema: str, station_rows: list[dict[str, Any]]) -> None:
    """Stations' fresh public rows, changed now (one Redis round trip for a batch)."""
    if not station_rows:
        return
    rows, changed, _ = _keys(schema)
    now = time.time()
    try:
        pipe = _redis().pipeline()
        pipe.hset(
            rows,
            mapping={
                str(row["id"]): json.dumps(row, separators=(",", ":")) for row in station_rows
            },
        )
        pipe.zadd(changed, {str(row["id"]): now for row in station_rows})
        pipe.zremrangebyscore(changed, "-inf", now - JOURNAL_SECONDS)
        pipe.expire(rows, JOURNAL_SECONDS)
        pipe.expire(changed, JOURNAL_SECONDS)
        pipe.execute()
    except redis.RedisError as error:
        logger.warning("finder journal not written: %s", error)


def changed_since(schema: str, since: float) -> list[tuple[float, dict[str, Any]]] | None:
    """(time of change, row) of the stations changed after ``since``; None: Redis is away
    (the caller reads the database instead)."""
    rows, changed, _ = _keys(schema)
    try:
        found = _redis().zrangebyscore(changed, since, "+inf", withscores=True)
        if not found:
            return []
        values = _redis().hmget(rows, [member for member, _ in found])
    except redis.RedisError as error:
        logger.warning("finder journal not read: %s", error)
        return None
    return [
        (score, json.loads(value))
        for (_, score), value in zip(found, values, strict=True)
        if value is not None
    ]


def snapshot_store(schema: str, read_at: float, stations: list[dict[str, Any]]) -> None:
    _, _, key = _keys(schema)
    try:
        document = json.dumps({"read_at": read_at, "stations": stations}, separators=(",", ":"))
        _redis().set(key, document, ex=SNAPSHOT_SECONDS)
    except redis.RedisError as error:
        logger.warning("finder snapshot not shared: %s", error)


def snapshot_load(schema: str) -> tuple[float, list[dict[str, Any]]] | None:
    _, _, key = _keys(schema)
    try:
        data = _redis().get(key)
    except redis.RedisError as error:
        logger.warning("finder snapshot not read: %s", error)
        return None
    if not data:
        return None
    document = json.loads(data)
    return document["read_at"], document["stations"]
