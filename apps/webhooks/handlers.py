"""The core's domain events, turned into webhook deliveries (subscribed in ``apps.py``).

Handlers run after the core's transaction commits, in its tenant.  They cost one query when no
webhook subscribes to the event, and queue the sending to Celery otherwise.
"""

from __future__ import annotations

from apps.charging.models import ChargingSession
from apps.stations.models import Station

from .choices import WebhookEvent
from .services import webhook_dispatch, webhook_subscribed


def _station_data(station: Station) -> dict:
    return {
        "id": station.pk,
        "identity": station.identity,
        "name": station.name,
        "site_id": station.site_id,
    }


def _station(station_id: int) -> Station | None:
    return Station.objects.filter(pk=station_id).only("identity", "name", "site_id").first()


def on_status_changed(*, event, station_id, evse_id=None, status="", live_state="", **_):
    if not webhook_subscribed(WebhookEvent.STATION_STATUS_CHANGED):
        return
    station = _station(station_id)
    if station is None:
        return
    data = {
        "station": _station_data(station),
        "evse_id": evse_id,
        "status": status,
        "live_state": live_state,
    }
    webhook_dispatch(event=WebhookEvent.STATION_STATUS_CHANGED, data=data, site_id=station.site_id)


def on_station_link(*, event, station_id, **_):
    name = (
        WebhookEvent.STATION_CONNECTED
        if event == WebhookEvent.STATION_CONNECTED
        else WebhookEvent.STATION_DISCONNECTED
    )
    if not webhook_subscribed(name):
        return
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        return
    data = {
        "station": _station_data(station),
        "is_online": station.is_online,
        "last_seen_at": station.last_seen_at,
    }
    webhook_dispatch(event=name, data=data, site_id=station.site_id)


def session_data(session: ChargingSession) -> dict:
    return {
        "id": session.pk,
        "transaction_id": session.transaction_id,
        "station": _station_data(session.station),
        "evse_id": session.evse.evse_id,
        "connector_id": session.connector_id,
        "status": session.status,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "energy_wh": session.energy_wh,
        "stop_reason": session.stop_reason,
        "token_id": session.token_id,
    }


def on_session(*, event, session_id, **_):
    name = (
        WebhookEvent.SESSION_STARTED
        if event == WebhookEvent.SESSION_STARTED
        else WebhookEvent.SESSION_ENDED
    )
    if not webhook_subscribed(name):
        return
    session = (
        ChargingSession.objects.select_related("station", "evse").filter(pk=session_id).first()
    )
    if session is None:
        return
    webhook_dispatch(event=name, data=session_data(session), site_id=session.station.site_id)


def on_alert(*, event, site_id, alert, **_):
    """Subscribed ``in_transaction``: the deliveries commit (or roll back) with the alert, and
    are queued for sending after the commit."""
    webhook_dispatch(event=event, data=alert, site_id=site_id)


def on_feature_event(*, event, site_id, data, **_):
    """A feature's news with its data ready (fleet's vehicle sessions), sent as it is."""
    if webhook_subscribed(event):
        webhook_dispatch(event=event, data=data, site_id=site_id)


def on_station_events(*, entries: list, **_) -> None:
    """``on_status_changed`` and ``on_station_link`` for a batch (apps/core/events.py,
    "Batches"): whether any webhook wants each kind is asked once; then each event as before,
    in order."""
    wanted: dict[str, bool] = {}
    for event, payload in entries:
        if event not in wanted:
            wanted[event] = webhook_subscribed(event)
        if not wanted[event]:
            continue
        if event == WebhookEvent.STATION_STATUS_CHANGED:
            on_status_changed(event=event, **payload)
        else:
            on_station_link(event=event, **payload)
