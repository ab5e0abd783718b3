"""Monitoring reacts to the core's domain events (subscribed in MonitoringConfig.ready)."""

from __future__ import annotations

from typing import Any

from .choices import AlertKind
from .services import alert_clear, alerts_clear, port_status_observed


def on_status_changed(
    *, event: str, station_id: int, evse_id: int | None, status: str, info: str = "", **_: Any
) -> None:
    port_status_observed(station_id=station_id, evse_id=evse_id, status=status, info=info)


def on_station_connected(*, event: str, station_id: int, **_: Any) -> None:
    alert_clear(station_id=station_id, kind=AlertKind.OFFLINE)


def on_stations_connected(*, entries: list, **_: Any) -> None:
    """``on_station_connected`` for a batch (apps/core/events.py, "Batches"): one query."""
    station_ids = {payload["station_id"] for _, payload in entries}
    alerts_clear(station_ids=station_ids, kind=AlertKind.OFFLINE)
