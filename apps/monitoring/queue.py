"""Work monitoring queues for its Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from apps.core.queue import send_after_commit


def alert_notify(alert_id: int, event: str) -> None:
    """E-mail an alert's subscribers that it was raised or cleared."""
    send_after_commit("monitoring.alert_notify", (alert_id, event))


def remote_start(
    *,
    ref: str,
    user_id: int,
    station_id: int,
    evse_id: int,
    id_token: str,
    ip: str | None,
    language: str,
) -> None:
    """Send a remote start from the portal and publish the station's answer."""
    send_after_commit(
        "monitoring.remote_start", (ref, user_id, station_id, evse_id, id_token, ip, language)
    )
