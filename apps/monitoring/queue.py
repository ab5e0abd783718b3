"""Work monitoring queues for its Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from apps.core.queue import send_after_commit


def alert_notify(alert_id: int, event: str) -> None:
    """E-mail an alert's subscribers that it was raised or cleared."""
    send_after_commit("monitoring.alert_notify", (alert_id, event))
