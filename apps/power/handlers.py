"""Reactions to the core's domain events (subscribed in ``PowerConfig.ready``).  They run after
the core's transaction commits, in its tenant; they only record a draw or queue work."""

from __future__ import annotations

from typing import Any

from apps.ocpp.services import EvNeedsAnswer

from . import queue, selectors, services
from .services import session_ev_needs, session_ev_schedule_check, site_rebalance


def on_session_started(*, event: str, session_id: int, **payload: Any) -> None:
    queue.session_started(session_id)


def on_station_changed(*, event: str, station_id: int, **payload: Any) -> None:
    """A session ended, a connector changed status, a station went offline: recompute."""
    queue.enqueue_rebalance(selectors.site_of_station(station_id))


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
        queue.enqueue_rebalance(selectors.site_of_station(station_id))


def on_station_connected(*, event: str, station_id: int, **payload: Any) -> None:
    queue.station_connected(station_id)


def ev_charging_needs(*, session_id: int, needs: dict, **_):
    """OCPP 2.0.1 K15: the EV's needs shape its session's share; the TxProfile follows the
    answer (Processing: the site is reallocated once the answer is sent)."""
    site_id = session_ev_needs(session_id=session_id, needs=needs)
    if site_id is None:
        return None
    return EvNeedsAnswer("Processing", follow_up=lambda: site_rebalance(site_id=site_id))


def ev_charging_schedule(*, session_id: int, schedule: dict, **_):
    """OCPP 2.0.1 K17: an EV schedule above the limit we gave is Rejected and the profile
    sent again (renegotiation)."""
    verdict = session_ev_schedule_check(session_id=session_id, schedule=schedule)
    if verdict is None:
        return None
    if verdict is True:
        return EvNeedsAnswer("Accepted")
    return EvNeedsAnswer("Rejected", follow_up=lambda: site_rebalance(site_id=verdict))
