"""Work roaming queues for its Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from collections.abc import Iterable

from apps.core.queue import send, send_after_commit


def push_deliver(push_ids: Iterable[int]) -> None:
    """One delivery task per push (the worker must find the rows: after commit)."""
    for push_id in push_ids:
        send_after_commit("roaming.push_deliver", (push_id,))


def command_run(command_id: int) -> None:
    """Carry out a partner's command at the station."""
    send_after_commit("roaming.command_run", (command_id,))


def push_deliver_batch(push_ids: list[int]) -> None:
    """One delivery task for a partner's pushes of one transaction, in order (the outbox calls
    this from its own after-commit callback)."""
    send("roaming.push_deliver_batch", (list(push_ids),))


def push_drain(partner_id: int, countdown: float | None = None) -> None:
    """Send what is due of one partner's outbox (now, or after ``countdown`` seconds: a
    back-off).  Called from roaming's own after-commit callback, or after a drain round."""
    options = {"countdown": countdown} if countdown else {}
    send("roaming.push_drain", (partner_id,), **options)
