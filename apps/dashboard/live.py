"""The live feed: domain events become messages on a per-tenant channel-layer group, which
``consumers.LiveConsumer`` forwards to the browsers of that tenant (filtered by each person's
site scope).  Every message carries ``site_id`` so the consumer can filter without a query.

Message kinds (the ``kind`` key):
- ``station``: a station's link or a port's status changed; the station's full live snapshot.
- ``power``: meter values arrived (power, session energy so far).
- ``session``: a session started or ended.
- ``alert``: a monitoring alert was raised or cleared.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.core import broadcast, events

logger = logging.getLogger(__name__)

GROUP_PREFIX = "live."
MESSAGE_TYPE = "live.event"


def group_for(schema_name: str) -> str:
    return f"{GROUP_PREFIX}{schema_name}"


def publish(data: dict[str, Any], *, schema_name: str | None = None) -> None:
    """Send ``data`` to every live browser of the current tenant (sync code only)."""
    schema_name = schema_name or connection.schema_name
    broadcast.group_send(group_for(schema_name), {"type": MESSAGE_TYPE, "data": data})


def station_message(station_id: int) -> dict[str, Any] | None:
    from .selectors import station_snapshot

    snapshot = station_snapshot(station_id=station_id)
    if snapshot is None:
        return None
    return {"kind": "station", "at": timezone.now().isoformat(), **snapshot}


# --- Domain event handlers (subscribed in DashboardConfig.ready) ------------------------------
def on_station_changed(*, event: str, station_id: int, **payload: Any) -> None:
    message = station_message(station_id)
    if message is not None:
        publish(message)


def on_session(*, event: str, session_id: int, station_id: int, evse_id: int, **_: Any) -> None:
    from apps.charging.models import ChargingSession

    row = (
        ChargingSession.objects.filter(pk=session_id)
        .values("energy_wh", "status", "station__site_id")
        .first()
    )
    if row is None:
        return
    publish(
        {
            "kind": "session",
            "event": "started" if event == events.SESSION_STARTED else "ended",
            "session_id": session_id,
            "station_id": station_id,
            "site_id": row["station__site_id"],
            "evse_id": evse_id,
            "energy_wh": row["energy_wh"],
            "at": timezone.now().isoformat(),
        }
    )


_UNKNOWN = object()


def on_meter_values(
    *,
    event: str,
    station_id: int,
    evse_id: int,
    session_id: int | None = None,
    power_w: int | None = None,
    energy_wh: int | None = None,
    site_id: int | None | object = _UNKNOWN,
    **_: Any,
) -> None:
    if site_id is _UNKNOWN:  # the batch writer sends it; other emitters may not
        from apps.stations.models import Station

        site_id = Station.objects.filter(pk=station_id).values_list("site_id", flat=True).first()
    publish(
        {
            "kind": "power",
            "station_id": station_id,
            "site_id": site_id,
            "evse_id": evse_id,
            "session_id": session_id,
            "power_w": power_w,
            "energy_wh": energy_wh,
            "at": timezone.now().isoformat(),
        }
    )


def publish_alert(*, alert_id: int, event: str) -> None:
    """Called by monitoring after an alert is raised or cleared (after commit)."""
    from apps.monitoring.selectors import alert_summary

    summary = alert_summary(alert_id=alert_id)
    if summary is not None:
        publish({"kind": "alert", "event": event, "at": timezone.now().isoformat(), **summary})


def subscribe_all() -> None:
    for name in (
        events.STATUS_CHANGED,
        events.STATION_CONNECTED,
        events.STATION_DISCONNECTED,
        events.STATION_BOOTED,
    ):
        events.subscribe(name, on_station_changed)
    events.subscribe(events.SESSION_STARTED, on_session)
    events.subscribe(events.SESSION_ENDED, on_session)
    events.subscribe(events.METER_VALUES_RECEIVED, on_meter_values)
