"""Reactions to the core's domain events (subscribed in ``PowerConfig.ready``).  They run after
the core's transaction commits, in its tenant; they only record a draw or queue work."""

from __future__ import annotations

from typing import Any

from . import selectors, services, tasks


def on_session_started(*, event: str, session_id: int, **payload: Any) -> None:
    tasks.session_started.delay(session_id)


def on_station_changed(*, event: str, station_id: int, **payload: Any) -> None:
    """A session ended, a connector changed status, a station went offline: recompute."""
    tasks.enqueue_rebalance(selectors.site_of_station(station_id))


def on_meter_values(
    *,
    event: str,
    station_id: int,
    session_id: int | None = None,
    current_a: dict[str, float] | None = None,
    **payload: Any,
) -> None:
    """Stations send meter values every few seconds per session: most say nothing new.  Only a
    draw that moved (or a session not seen lately) reaches the database, and a rebalance is
    queued only when it shows unused capacity or a single-phase vehicle (coalesced per site)."""
    if session_id is None or not current_a:
        return
    if not services.session_draw_changed(session_id=session_id, current_a=current_a):
        return
    if services.session_draw_record(session_id=session_id, current_a=current_a):
        tasks.enqueue_rebalance(selectors.site_of_station(station_id))


def on_station_connected(*, event: str, station_id: int, **payload: Any) -> None:
    tasks.station_connected.delay(station_id)
