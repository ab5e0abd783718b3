"""Work energy queues for its Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from apps.core.queue import send_after_commit


def enqueue_poll(ven_id: int) -> None:
    """Poll ``ven_id`` now (after an opt change: the VTN hears of it at once)."""
    send_after_commit("energy.poll_ven", (ven_id, True))
