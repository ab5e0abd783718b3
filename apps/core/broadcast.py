"""Sending to channel-layer groups from sync code, cheaply.

``async_to_sync(layer.group_send)`` from a worker thread starts a new event loop (and, with the
Redis layer, a new Redis connection) for every message.  Inside an ASGI process the OCPP
runtime registers the server's event loop here, and sends from its worker threads are handed
to that loop without waiting.  Elsewhere (Celery, management commands) it falls back to
``async_to_sync``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)
_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: int | None = None


def register_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _loop, _loop_thread
    if _loop is loop:
        return
    _loop, _loop_thread = loop, threading.get_ident()


_queue: collections.deque[tuple[Any, str, dict[str, Any]]] = collections.deque()
_lock = threading.Lock()
_wake_pending = False  # a wake-up of the loop is scheduled and has not run yet
_sender: asyncio.Task | None = None


def group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _loop
    if loop is not None and loop.is_running() and threading.get_ident() != _loop_thread:
        # Queued for one sender task on the loop, which sends in order; the loop is woken once
        # for whatever is queued by then (a batch of MeterValues emits hundreds of events).
        global _wake_pending
        _queue.append((layer, group, message))
        with _lock:
            if _wake_pending:
                return
            _wake_pending = True
        loop.call_soon_threadsafe(_wake, loop)
        return
    async_to_sync(layer.group_send)(group, message)


def _wake(loop: asyncio.AbstractEventLoop) -> None:
    global _wake_pending, _sender
    with _lock:
        _wake_pending = False
    if _sender is None or _sender.done() or _sender.get_loop() is not loop:
        _sender = loop.create_task(_send_queued())


async def _send_queued() -> None:
    while _queue:  # items queued while a send is awaited are picked up here, in order
        layer, group, message = _queue.popleft()
        try:
            await layer.group_send(group, message)
        except Exception as error:  # a live update must never take the server down
            logger.warning("group_send to %s failed: %r", group, error)
