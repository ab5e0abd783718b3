"""Work webhooks queue for their Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from collections.abc import Iterable

from apps.core.queue import send_after_commit


def webhook_deliver(delivery_ids: Iterable[int]) -> None:
    """One delivery task per delivery: after commit (the worker must find the rows), from this
    thread, whose connection names the tenant that goes on each message."""
    for delivery_id in delivery_ids:
        send_after_commit("webhooks.deliver", (delivery_id,))
