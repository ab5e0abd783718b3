"""The driver page's live updates, pushed through Channels (no polling).

A driver page (``/waitlist/d/<signed>/``, no sign-in) listens on ``/ws/waitlist/<signed>/``
(``consumers.DriverConsumer``), which joins one channel-layer group per queue.  Whatever
changes a queue (a driver joins, confirms, leaves, is promoted, arrives, lets a hold expire)
sends one small "changed" message to that queue's group after commit (``queue_changed``); each
connected page then re-renders its own place (position, expected wait, "your port is ready")
in its reader's language and the site's timezone.  One message per change whatever the length
of the queue; the work is done only for the pages open.
"""

from __future__ import annotations

from django.db import connection, transaction

from apps.core import broadcast

GROUP_PREFIX = "waitlist."
MESSAGE_TYPE = "waitlist.changed"


def group_for(schema_name: str, group_id: int) -> str:
    return f"{GROUP_PREFIX}{schema_name}.{group_id}"


def queue_changed(group_id: int | None) -> None:
    """Tell the open driver pages of queue ``group_id`` to re-read their place (after commit)."""
    if group_id is None:
        return
    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: broadcast.group_send(
            group_for(schema_name, group_id), {"type": MESSAGE_TYPE, "group_id": group_id}
        )
    )
