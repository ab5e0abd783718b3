"""Reactions to the core's domain events (subscribed in ``ReportsConfig.ready``).  They run
after the core's transaction commits, in its tenant, and only queue the (coalesced) catch-up."""

from __future__ import annotations

from typing import Any

from . import tasks


def on_core_change(*, event: str, **payload: Any) -> None:
    """Meter values, a status change, a station link change: the raw rows say what changed."""
    tasks.enqueue_catch_up()


def on_session_changed(*, event: str, session_id: int, **payload: Any) -> None:
    tasks.session_changed.delay(session_id)


def on_core_changes(*, entries: list, **_: Any) -> None:
    """``on_core_change`` for a batch (apps/core/events.py, "Batches"): one catch-up."""
    tasks.enqueue_catch_up()
