"""Work notifications queue for their Celery workers (``tasks.py``), sent by task name after
the current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from apps.core.queue import send_after_commit


def deliver(notification_id: int, *, countdown: int | None = None) -> None:
    """Send one notification (again, ``countdown`` seconds from now, after a failure)."""
    send_after_commit("notifications.deliver", (notification_id,), countdown=countdown)
