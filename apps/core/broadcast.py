"""Sending to channel-layer groups from sync code, cheaply.

``async_to_sync(layer.group_send)`` from a worker thread starts a new event loop (and, with the
Redis layer, a new Redis connection) for every message.  Inside an ASGI process the OCPP
runtime registers the server's event loop here, and sends from its worker threads are handed
to that loop without waiting.  Elsewhere (Celery, management commands) it falls back to
``async_to_sync``.
"""

from __future__ import annotations

import asyncio
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
    _loop, _loop_thread = loop, threading.get_ident()


def group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _loop
    if loop is not None and loop.is_running() and threading.get_ident() != _loop_thread:
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        future.add_done_callback(_log_failure)
        return
    async_to_sync(layer.group_send)(group, message)


def _log_failure(future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("group_send failed: %r", future.exception())
