"""Work queued to Celery by task name (apps/core/queue.py), caught before the broker."""

from __future__ import annotations

from collections.abc import Callable

from config.celery import app as celery_app


def record_tasks(monkeypatch, name: str, record: Callable[..., object]) -> None:
    """Call ``record(*args, **options)`` for each task ``name`` queued (``countdown``, ``eta``:
    the options apps/core/queue.py was given), instead of sending it; other tasks are sent as
    usual.  Each call wraps the previous one, so several names can be caught."""
    send = celery_app.send_task

    def send_task(task_name, args=None, kwargs=None, **options):
        if task_name == name:
            return record(*(args or ()), **options)
        return send(task_name, args=args, kwargs=kwargs, **options)

    monkeypatch.setattr(celery_app, "send_task", send_task)
