"""The live feed: domain events become messages on a per-tenant channel-layer group, which
``consumers.LiveConsumer`` forwards to the browsers of that tenant (filtered by each person's
site scope).  Every message carries ``site_id`` so the consumer can filter without a query.
Messages are sent with the core's ``apps.core.live.publish_live``, which other features
(monitoring's alerts, power's trees) call too.

Message kinds (the ``kind`` key):
- ``station``: a station's link or a port's status changed; the station's full live snapshot.
- ``stations``: ``items``, several ``station`` messages at once (one message per tenant per batch
  of station events, apps/core/events.py "Batches"); the consumer forwards each item on its own.
- ``power``: meter values arrived (power, session energy so far).
- ``session``: a session started or ended.
- ``alert``: a monitoring alert was raised or cleared (published by monitoring).
- ``power_tree``: a site's electrical tree after a rebalance (published by power).
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from apps.charging.models import ChargingSession
from apps.core import events
from apps.core.live import publish_live
from apps.stations.models import Station

from .selectors import station_snapshot, station_snapshots

logger = logging.getLogger(__name__)


def station_message(station_id: int) -> dict[str, Any] | None:
    snapshot = station_snapshot(station_id=station_id)
    if snapshot is None:
        return None
    return {"kind": "station", "at": timezone.now().isoformat(), **snapshot}


# --- Domain event handlers (subscribed in DashboardConfig.ready) ------------------------------
def on_station_changed(*, event: str, station_id: int, **payload: Any) -> None:
    message = station_message(station_id)
    if message is not None:
        publish_live(message)


def on_stations_changed(*, entries: list[tuple[str, dict[str, Any]]], **_: Any) -> None:
    """A batch of station events: one snapshot query and one message for all its stations."""
    station_ids = list(dict.fromkeys(payload["station_id"] for _, payload in entries))
    at = timezone.now().isoformat()
    messages = [
        {"kind": "station", "at": at, **snapshot}
        for snapshot in station_snapshots(station_ids=station_ids)
    ]
    if len(messages) == 1:
        publish_live(messages[0])
    elif messages:
        publish_live({"kind": "stations", "items": messages})


def on_session(*, event: str, session_id: int, station_id: int, evse_id: int, **_: Any) -> None:
    row = (
        ChargingSession.objects.filter(pk=session_id)
        .values("energy_wh", "status", "station__site_id")
        .first()
    )
    if row is None:
        return
    publish_live(
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
        site_id = Station.objects.filter(pk=station_id).values_list("site_id", flat=True).first()
    publish_live(
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


def subscribe_all() -> None:
    for name in (
        events.STATUS_CHANGED,
        events.STATION_CONNECTED,
        events.STATION_DISCONNECTED,
        events.STATION_BOOTED,
    ):
        events.subscribe(name, on_stations_changed, batch=True)
    events.subscribe(events.SESSION_STARTED, on_session)
    events.subscribe(events.SESSION_ENDED, on_session)
    events.subscribe(events.METER_VALUES_RECEIVED, on_meter_values)
