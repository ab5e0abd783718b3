"""Queue Celery work by the task's registered name (one path for every app).

Each app that queues work has a small ``queue.py`` naming what it queues (one function per
kind of work); those functions send through here, by the name the task is registered under in
the app's ``tasks.py``, without importing ``tasks.py``.  Tasks import the services they run;
services import their app's ``queue``; ``queue`` imports neither, so the arrows point one way
(docs/architecture.md, "Queued work").

The message carries the schema of the tenant whose connection is current when it is sent
(tenant-schemas-celery's ``send_task``), so queue from the thread that did the work, after the
commit that made its rows visible to the worker (:func:`send_after_commit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.db import transaction


def send(name: str, args: Iterable[Any] = (), **options: Any) -> None:
    """Queue task ``name`` with ``args`` now (``options`` as for ``apply_async``: ``countdown``,
    ``eta``, ...)."""
    current_app.send_task(name, args=tuple(args), **options)


def send_after_commit(name: str, args: Iterable[Any] = (), **options: Any) -> None:
    """Queue task ``name`` once the current transaction commits (at once outside one); nothing
    is queued if it rolls back."""
    args = tuple(args)
    transaction.on_commit(lambda: send(name, args, **options))
