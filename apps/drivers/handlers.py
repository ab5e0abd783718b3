"""Reactions to domain events (subscribed in ``DriversConfig.ready``): only quick reads and
a few rows."""

from __future__ import annotations

from typing import Any

from django.db import connection

from . import services
from .live import publish_station, publish_stations


def on_station_changed(*, event: str, station_id: int, **_: Any) -> None:
    if connection.schema_name == "public":
        return
    publish_station(station_id)


def on_stations_changed(*, entries: list, **_: Any) -> None:
    """``on_station_changed`` for a batch (apps/core/events.py, "Batches"): each station's
    public row once, all read in one go."""
    if connection.schema_name == "public":
        return
    publish_stations(list(dict.fromkeys(payload["station_id"] for _, payload in entries)))


def on_session_started(*, event: str, session_id: int, station_id: int, **_: Any) -> None:
    """A card used at a station verifies the driver's pending link to it (the tap step)."""
    from apps.charging.models import ChargingSession

    uid = ChargingSession.objects.filter(pk=session_id).values_list("id_token", flat=True).first()
    if uid:
        services.cards_verify_by_tap(uid=uid)
    publish_station(station_id)
