"""Reactions to the core's events: a station's firmware status moves its campaign target."""

from __future__ import annotations

from .services import firmware_status_record


def on_firmware_status(*, station_id: int, status: str, request_id: int | None = None, **_) -> None:
    firmware_status_record(station_id=station_id, status=status, request_id=request_id)
