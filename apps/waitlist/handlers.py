"""Reactions to the core's domain events (subscribed in ``WaitlistConfig.ready``): they run
after the core's commit and only queue work, and only for stations in a queue."""

from __future__ import annotations

from typing import Any

from apps.core import events
from apps.stations.choices import ConnectorStatus

from . import promote, selectors, tasks


def on_status_changed(
    *, event: str, station_id: int, evse_id: int | None, status: str, **_: Any
) -> None:
    if status != ConnectorStatus.AVAILABLE:
        return
    if evse_id and promote.in_server():
        # No broker hop (apps/waitlist/promote.py), and no query here: in the server this runs
        # on the consumers' one shared database thread; the pool finds the port's queue.
        promote.submit(station_id=station_id, evse_id=evse_id)
        return
    group = selectors.group_of_station(station_id)
    if group is None:
        return
    if evse_id:
        tasks.port_freed.delay(station_id, evse_id)
    else:  # the whole station back in service
        tasks.group_promote.delay(group.pk)


def on_station_connected(*, event: str, station_id: int, **_: Any) -> None:
    group = selectors.group_of_station(station_id)
    if group is not None:
        tasks.group_promote.delay(group.pk)


def on_session_started(*, event: str, session_id: int, station_id: int, **_: Any) -> None:
    if selectors.group_of_station(station_id) is not None:
        tasks.session_started.delay(session_id)


def on_stations_changed(*, entries: list, **_: Any) -> None:
    """``on_status_changed`` and ``on_station_connected`` for a batch (apps/core/events.py,
    "Batches"): one query finds the stations in a queue; what each event queues is unchanged,
    in the events' order."""
    wanted = [
        (event, payload)
        for event, payload in entries
        if event == events.STATION_CONNECTED or payload.get("status") == ConnectorStatus.AVAILABLE
    ]
    if not wanted:
        return
    groups = selectors.groups_of_stations({payload["station_id"] for _, payload in wanted})
    for event, payload in wanted:
        group_id = groups.get(payload["station_id"])
        if group_id is None:
            continue
        evse_id = payload.get("evse_id") if event == events.STATUS_CHANGED else None
        if evse_id:
            if promote.in_server():  # no broker hop (apps/waitlist/promote.py)
                promote.submit(station_id=payload["station_id"], evse_id=evse_id)
            else:
                tasks.port_freed.delay(payload["station_id"], evse_id)
        else:  # the whole station back in service, or back online
            tasks.group_promote.delay(group_id)
