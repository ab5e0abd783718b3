"""Reactions to the core's events: a station back online gets the content it lacks (one query
first, so that tenants and sites without media queue nothing)."""

from __future__ import annotations

from typing import Any


def on_station_connected(*, event: str, station_id: int, **_: Any) -> None:
    from . import services, tasks

    if services.station_has_schedules(station_id):
        tasks.station_redeliver_task.delay(station_id)


def on_station_booted(*, event: str, station_id: int, **_: Any) -> None:
    from . import services, tasks

    if services.station_has_schedules(station_id):
        tasks.station_redeliver_task.delay(station_id, True)


def on_stations_online(*, entries: list, **_: Any) -> None:
    """``on_station_connected`` / ``on_station_booted`` for a batch (apps/core/events.py,
    "Batches"): one query first; then what each event queued, once per station and kind."""
    from apps.core import events

    from . import services, tasks

    with_schedules = services.stations_with_schedules(
        {payload["station_id"] for _, payload in entries}
    )
    queued: set[tuple[int, bool]] = set()
    for event, payload in entries:
        station_id = payload["station_id"]
        rebooted = event == events.STATION_BOOTED
        if station_id in with_schedules and (station_id, rebooted) not in queued:
            queued.add((station_id, rebooted))
            if rebooted:
                tasks.station_redeliver_task.delay(station_id, True)
            else:
                tasks.station_redeliver_task.delay(station_id)
