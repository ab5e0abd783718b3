"""The one place firmware talks to stations: through the core's command service
(``apps.ocpp.commands``), as the platform itself."""

from __future__ import annotations

import datetime as dt

from apps.core.scoping import SYSTEM
from apps.ocpp import commands


def send_update(
    *, station, location: str, request_id: int, signature: str = "", certificate: str = ""
) -> tuple[bool, str]:
    """(accepted, message)."""
    reply = commands.station_update_firmware(
        requester=commands.Requester(actor=SYSTEM, source="system"),
        station=station,
        location=location,
        retrieve_at=dt.datetime.now(dt.UTC),
        request_id=request_id,
        signature=signature,
        signing_certificate=certificate,
    )
    return reply.ok, reply.message
