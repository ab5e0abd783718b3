"""How media reach a station: the one narrow adapter, so that a vendor-specific transport can
be added beside it.

OCPP has no standard video message.  The mechanism defined here (docs/media.md) is a
DataTransfer with ``vendorId`` ``org.chargegrid.media`` and ``messageId`` ``PlayManifest``
whose ``data`` is JSON ``{"manifestUrl": ...}``: an expiring, signed URL of the schedule's
manifest that the station fetches.  The station answers ``Accepted`` with JSON
``{"digest": <SHA-256 of the manifest bytes it got>, "items": <count>}``.  Text goes to
2.0.1 stations as SetDisplayMessage.  Every call goes through ``apps.ocpp.commands``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from apps.core.scoping import SYSTEM
from apps.ocpp import commands

VENDOR_ID = "org.chargegrid.media"
MESSAGE_ID = "PlayManifest"


@dataclass(frozen=True)
class Answer:
    ok: bool
    status: str
    digest: str = ""
    message: str = ""


def _requester():
    return commands.Requester(actor=SYSTEM, source="system")


def send_manifest(*, station, manifest_url: str) -> Answer:
    reply = commands.station_data_transfer(
        requester=_requester(),
        station=station,
        vendor_id=VENDOR_ID,
        message_id=MESSAGE_ID,
        data=json.dumps({"manifestUrl": manifest_url}),
    )
    if reply.error is not None:
        return Answer(False, reply.status, message=reply.message)
    payload = reply.payload if isinstance(reply.payload, dict) else {}
    status = str(payload.get("status", ""))
    try:
        data = json.loads(payload.get("data") or "{}")
    except (TypeError, ValueError):
        data = {}
    return Answer(status == "Accepted", status, str(data.get("digest", "")), reply.message)


def send_text(*, station, message_id: int, text: str, start, end) -> str:
    """2.0.1 only; returns the station's status ("" when the station is 1.6)."""
    if station.ocpp_version != "2.0.1":
        return ""
    reply = commands.station_display_message(
        requester=_requester(),
        station=station,
        message_id=message_id,
        text=text,
        start=start,
        end=end,
    )
    return reply.status
