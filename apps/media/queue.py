"""Work the media app queues for its Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from apps.core.queue import send_after_commit


def delivery_send(delivery_id: int) -> None:
    send_after_commit("media.delivery_send", (delivery_id,))
