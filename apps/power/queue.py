"""Work power management queues for its Celery workers (``tasks.py``), sent by task name after
the current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from apps.core.queue import send, send_after_commit

DEBOUNCE_SECONDS = 2  # events in a burst (a dozen sessions starting) make one rebalance
PENDING_TTL = 60


def pending_key(site_id: int) -> str:
    return f"power:rebalance:{site_id}"  # the cache's key function adds the tenant's schema


def enqueue_rebalance(site_id: int | None) -> None:
    """Queue a rebalance of ``site_id`` after commit, unless one is already waiting to start."""
    if site_id is None:
        return

    def queue() -> None:
        if cache.add(pending_key(site_id), 1, timeout=PENDING_TTL):
            send("power.rebalance_site", (site_id,), countdown=DEBOUNCE_SECONDS)

    transaction.on_commit(queue)


def enqueue_station_defaults(station_id: int) -> None:
    send_after_commit("power.station_defaults", (station_id,))


def session_started(session_id: int) -> None:
    send_after_commit("power.session_started", (session_id,))


def station_connected(station_id: int) -> None:
    send_after_commit("power.station_connected", (station_id,))
