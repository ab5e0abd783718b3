"""Event handlers that could not reach the broker, run again once it is back.

Most reactions to a domain event only queue Celery work (``task.delay``) or touch the Redis
cache.  While Redis is down (a restart, a failover, a network cut) that raises a broker error,
and before this module the work was logged and lost: a session's pricing waited for billing's
hourly safety net, a site's power rebalance for the next 30 s beat.  Now ``events`` hands such a
handler call here instead, and a background thread of the process calls it again with back-off
(1 s doubling to 30 s) until the broker answers, oldest first, each call once:

- identical calls (same handler, tenant, event and payload: a burst of the same meter value
  event) are coalesced while they wait;
- at most ``MAX_PENDING`` calls wait; beyond that the oldest is dropped and counted (the
  periodic safety nets of billing and power cover what is dropped, and a killed process);
- a call that fails for another reason is logged and dropped, as in ``events``.

The retry runs in the handler's tenant, in this module's own thread (its own database
connection, closed when the queue is empty).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.db import connection, connections

logger = logging.getLogger(__name__)

BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,  # Celery could not publish
    redis.exceptions.ConnectionError,  # the cache or the channel layer could not connect
    redis.exceptions.TimeoutError,
)
MAX_PENDING = 20_000
FIRST_DELAY = 1.0
MAX_DELAY = 30.0

_lock = threading.Lock()
_pending: OrderedDict[tuple, tuple[Any, Callable[..., Any], str, dict]] = OrderedDict()
_thread: threading.Thread | None = None
stats = {"deferred": 0, "retried": 0, "dropped": 0}


def is_broker_error(error: BaseException) -> bool:
    return isinstance(error, BROKER_ERRORS)


def _key(tenant, handler: Callable[..., Any], event: str, payload: dict) -> tuple:
    name = f"{getattr(handler, '__module__', '')}.{getattr(handler, '__qualname__', handler)!r}"
    schema = getattr(tenant, "schema_name", None)
    return (name, schema, event, repr(sorted(payload.items())))


def defer(tenant, handler: Callable[..., Any], event: str, payload: dict) -> None:
    """Run ``handler(event=event, **payload)`` in ``tenant`` again once the broker answers."""
    global _thread
    with _lock:
        key = _key(tenant, handler, event, payload)
        if key in _pending:
            return
        if len(_pending) >= MAX_PENDING:
            _pending.popitem(last=False)
            stats["dropped"] += 1
            if stats["dropped"] % 1000 == 1:
                logger.warning("Deferred handler queue full: %d dropped", stats["dropped"])
        _pending[key] = (tenant, handler, event, payload)
        stats["deferred"] += 1
        if _thread is None:  # the drainer clears it, under the lock, when it leaves
            _thread = threading.Thread(target=_drain, name="deferred-handlers", daemon=True)
            _thread.start()


def pending() -> int:
    with _lock:
        return len(_pending)


def _run(tenant, handler: Callable[..., Any], event: str, payload: dict) -> None:
    if tenant is not None and getattr(connection, "schema_name", None) != tenant.schema_name:
        connection.set_tenant(tenant)
    handler(event=event, **payload)


def _drain() -> None:
    global _thread
    delay = FIRST_DELAY
    try:
        while True:
            with _lock:
                if not _pending:
                    _thread = None
                    return
                key, call = next(iter(_pending.items()))
            try:
                _run(*call)
            except BROKER_ERRORS:
                time.sleep(delay)  # the broker is still away: wait, then the same call again
                delay = min(delay * 2, MAX_DELAY)
                continue
            except Exception:
                logger.exception("Deferred handler %r of %s failed", call[1], call[2])
            with _lock:
                _pending.pop(key, None)
                stats["retried"] += 1
            delay = FIRST_DELAY
    finally:
        connections.close_all()
