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
