"""Work the waitlist queues for its Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from datetime import datetime

from apps.core.queue import send_after_commit


def group_promote(group_id: int) -> None:
    send_after_commit("waitlist.group_promote", (group_id,))


def port_promote(evse_id: int, skip_entry_ids: list[int]) -> None:
    send_after_commit("waitlist.port_promote", (evse_id, list(skip_entry_ids)))


def reservation_cancel(station_id: int, reservation_id: int) -> None:
    send_after_commit("waitlist.reservation_cancel", (station_id, reservation_id))


def hold_expire(entry_id: int, *, at: datetime) -> None:
    send_after_commit("waitlist.hold_expire", (entry_id,), eta=at)


def position_display(entry_id: int, station_id: int) -> None:
    send_after_commit("waitlist.position_display", (entry_id, station_id))
