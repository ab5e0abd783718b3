"""Monitoring reacts to the core's domain events (subscribed in MonitoringConfig.ready)."""

from __future__ import annotations

from typing import Any

from .choices import AlertKind
from .services import alert_clear, port_status_observed


def on_status_changed(
    *, event: str, station_id: int, evse_id: int | None, status: str, info: str = "", **_: Any
) -> None:
    port_status_observed(station_id=station_id, evse_id=evse_id, status=status, info=info)


def on_station_connected(*, event: str, station_id: int, **_: Any) -> None:
    alert_clear(station_id=station_id, kind=AlertKind.OFFLINE)
