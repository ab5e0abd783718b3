"""A remote start from the portal, answered at once: the page shows "sent, waiting for the
station" and a Celery worker waits for the station's answer (up to the OCPP timeout, 30 s),
then publishes it on the live feed (``kind`` "command", with the page's ``ref``); the session,
when the station starts it, arrives on the feed as every session does."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import translation

from apps.audit.choices import AuditSource
from apps.core.live import publish_live
from apps.ocpp import commands
from apps.ocpp.commands import CommandError, Requester
from apps.roles.selectors import UserActor
from apps.stations.models import Station

from .. import queue


def remote_start_queue(
    *,
    ref: str,
    user,
    station: Station,
    evse_id: int,
    id_token: str,
    ip: str | None = None,
    language: str = "",
) -> None:
    """Queue the remote start (after commit); the person's permission is checked again by
    the command service when it runs, as them."""
    queue.remote_start(
        ref=ref,
        user_id=user.pk,
        station_id=station.pk,
        evse_id=evse_id,
        id_token=id_token,
        ip=ip,
        language=language or translation.get_language() or "",
    )


def remote_start_run(
    *,
    ref: str,
    user_id: int,
    station_id: int,
    evse_id: int,
    id_token: str,
    ip: str | None = None,
    language: str = "",
) -> dict[str, Any]:
    """Send the remote start as the person who asked, and publish what became of it."""
    station = Station.objects.select_related("site").get(pk=station_id)
    user = get_user_model().objects.get(pk=user_id)
    requester = Requester(actor=UserActor(user), source=AuditSource.PORTAL, ip=ip)
    with translation.override(language or None):
        try:
            reply = commands.session_remote_start(
                requester=requester, station=station, evse_id=evse_id, id_token=id_token
            )
            outcome = {
                "ok": reply.ok,
                "action": reply.action,
                "status": reply.status,
                "message": str(reply.message),
            }
        except (PermissionDenied, CommandError, ValueError) as error:
            outcome = {
                "ok": False,
                "action": "",
                "status": type(error).__name__,
                "message": str(error),
            }
    message = {
        "kind": "command",
        "command": "session.remote_start",
        "ref": ref,
        "station_id": station.pk,
        "site_id": station.site_id,
        "evse_id": evse_id,
        **outcome,
    }
    publish_live(message)
    return message
