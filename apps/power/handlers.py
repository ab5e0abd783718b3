"""Reactions to the core's domain events (subscribed in ``PowerConfig.ready``).  They run after
the core's transaction commits, in its tenant; they only record a draw or queue work."""

from __future__ import annotations

from typing import Any

from apps.ocpp.services import EvNeedsAnswer

from . import queue, selectors, services
from .services import session_ev_needs, session_ev_schedule_check


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


def on_stations_changed(*, entries: list, **_: Any) -> None:
    """``on_station_changed`` for a batch (apps/core/events.py, "Batches"): one query, one
    rebalance per site."""
    station_ids = {payload["station_id"] for _, payload in entries}
    for site_id in selectors.sites_of_stations(station_ids):
        queue.enqueue_rebalance(site_id)


def on_stations_connected(*, entries: list, **_: Any) -> None:
    """``on_station_connected`` for a batch: only stations in an electrical tree have work."""
    station_ids = {payload["station_id"] for _, payload in entries}
    for station_id in selectors.stations_with_power(station_ids):
        queue.station_connected(station_id)


def ev_charging_needs(*, session_id: int, needs: dict, max_schedule_tuples=None, **_):
    """OCPP 2.0.1 K15/K17: the EV's needs shape its session's share; the TxProfile follows the
    answer (Processing: the site is reallocated once the answer is sent, and this session's
    profile is sent even when its limit did not move: the vehicle waits for one)."""

    from .services import session_profile_renegotiate

    renegotiation = session_ev_needs(
        session_id=session_id, needs=needs, max_schedule_tuples=max_schedule_tuples
    )
    if renegotiation is None:
        return None
    return EvNeedsAnswer(
        "Processing",
        follow_up=lambda: session_profile_renegotiate(renegotiation=renegotiation),
    )


def ev_charging_schedule(*, session_id: int, schedule: dict, **_):
    """OCPP 2.0.1 K15.FR.12-13 / K17.FR.12-13: an EV schedule above the limit we gave is
    Rejected and the CSMS renegotiates: the profile is sent again once the answer is out."""

    from .services import session_profile_renegotiate

    verdict = session_ev_schedule_check(session_id=session_id, schedule=schedule)
    if verdict is None:
        return None
    if verdict.within:
        return EvNeedsAnswer("Accepted")
    renegotiation = verdict.renegotiation
    return EvNeedsAnswer(
        "Rejected",
        follow_up=lambda: session_profile_renegotiate(renegotiation=renegotiation),
    )


def session_current_cap(*, session_id: int, max_current_a, **_) -> bool | None:
    """Roaming's charging profiles (``SESSION_CURRENT_CAP``): the session's own current cap,
    honoured by the next allocation (None lifts it).  None when power does not manage it."""
    from .models import SessionPower
    from .services import rebalance_soon

    power = (
        SessionPower.objects.select_related("session__station")
        .filter(session_id=session_id, session__ended_at__isnull=True)
        .first()
    )
    if power is None:
        return None
    power.max_current_a = max_current_a
    power.save(update_fields=["max_current_a"])
    rebalance_soon(power.session.station.site_id)
    return True


def session_current(*, session_id: int, **_) -> dict | None:
    """Roaming's charging profiles (``SESSION_CURRENT``): what the session may draw now."""
    from decimal import Decimal

    from .models import EvseAllocation, SessionPower

    power = SessionPower.objects.filter(session_id=session_id).first()
    if power is None:
        return None
    allocation = EvseAllocation.objects.filter(session_id=session_id).first()
    limit = Decimal(allocation.limit_da) / 10 if allocation else power.max_current_a
    return {"limit_a": limit, "max_current_a": power.max_current_a}
