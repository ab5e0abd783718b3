"""The one place firmware talks to stations: through the core's command service
(``apps.ocpp.commands``), as the platform itself.

A signed image goes to a 2.0.1 station in UpdateFirmware and to a 1.6 station in the security
whitepaper's SignedUpdateFirmware.  A 1.6 station that does not implement the whitepaper (it
answers NotImplemented or NotSupported) is sent the plain 1.6 UpdateFirmware instead: it
cannot check a signature, only the image's checksum (``X-Checksum-SHA256``)."""

from __future__ import annotations

import datetime as dt

from apps.core.scoping import SYSTEM
from apps.ocpp import commands

UNSUPPORTED = {"NotImplemented", "NotSupported"}


def send_update(
    *, station, location: str, request_id: int, signature: str = "", certificate: str = ""
) -> tuple[bool, str]:
    """(accepted, message)."""

    def send(signature: str, certificate: str) -> commands.CommandReply:
        return commands.station_update_firmware(
            requester=commands.Requester(actor=SYSTEM, source="system"),
            station=station,
            location=location,
            retrieve_at=dt.datetime.now(dt.UTC),
            request_id=request_id,
            signature=signature,
            signing_certificate=certificate,
        )

    reply = send(signature, certificate)
    if (
        signature
        and station.ocpp_version == "1.6"
        and getattr(reply.error, "code", None) in UNSUPPORTED
    ):
        reply = send("", "")
    return reply.ok, reply.message
