"""The price on the station's own display (OCPP 2.0.1 SetDisplayMessage).

A 2.0.1 station is sent the public price (no driver known yet) in the tenant's default
language when it comes online or boots, and again when a change of tariffs, versions,
assignments or taxes affects it.  The message always has the same id, so each push replaces
the previous one on the station (OCPP 2.0.1 O01: a message with a known id is replaced).

OCPP 1.6 has no display message in its core profile (only the California Pricing
extension, which is not standard 1.6): 1.6 stations are skipped.

A station that refuses, errs or does not answer is logged and left alone: the price on its
display is a convenience, never a reason to fail anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.ocpp import commands
from apps.ocpp.commands import CommandError, StationOffline
from apps.stations.models import Station

from .. import queue
from ..selectors import price_quote

logger = logging.getLogger(__name__)

PRICE_MESSAGE_ID = 8001  # the price message's id on every station (re-sent, it replaces)
MAX_CONTENT = 512  # MessageContentType.content, OCPP 2.0.1
DISPLAY_VERSION = "2.0.1"

Sender = Callable[[Station, str, dict[str, Any]], dict[str, Any]]


def _timeout() -> float:
    return float(getattr(settings, "BILLING_DISPLAY_TIMEOUT", 10.0))


def station_call(station: Station, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Through the core's command service (the default ``send``)."""
    return commands.station_call(station, action, payload, timeout=_timeout())


def display_language() -> str:
    return getattr(connection.tenant, "language", "") or settings.LANGUAGE_CODE


def price_display_text(station: Station, language: str) -> str:
    """The public price at ``station`` now, in ``language``, as the display shows it."""
    with translation.override(language):
        quote = price_quote(station=station)
        text = _("Price: %(price)s") % {"price": quote.summary}
    if len(text) > MAX_CONTENT:
        text = text[: MAX_CONTENT - 1] + "…"
    return text


def price_display_payload(station: Station) -> dict[str, Any]:
    language = display_language()
    return {
        "message": {
            "id": PRICE_MESSAGE_ID,
            "priority": "NormalCycle",
            "message": {
                "format": "UTF8",
                "language": language,
                "content": price_display_text(station, language),
            },
        }
    }


def station_price_display_push(*, station_id: int, send: Sender | None = None) -> str:
    """Send the price to a 2.0.1 station's display.  Returns what happened: ``Accepted`` or
    the station's other status, ``skipped`` (not 2.0.1, not accepted, gone), ``offline``,
    or ``failed`` (no answer, an error); never raises for the station's behaviour."""
    station = Station.objects.select_related("site").filter(pk=station_id).first()
    if station is None or station.ocpp_version != DISPLAY_VERSION:
        return "skipped"
    if station.registration_status != "Accepted":
        return "skipped"  # a pending or rejected station may not be sent commands
    if not station.is_online:
        return "offline"
    payload = price_display_payload(station)
    try:
        answer = (send or station_call)(station, "SetDisplayMessage", payload)
    except StationOffline:
        logger.info("Price display: station %s is offline", station.identity)
        return "offline"
    except CommandError as error:
        logger.warning("Price display: station %s: %s", station.identity, error)
        return "failed"
    status = str(answer.get("status", ""))
    if status != "Accepted":
        logger.warning(
            "Price display: station %s answered %s (%s)",
            station.identity,
            status or "nothing",
            (answer.get("statusInfo") or {}).get("reasonCode", ""),
        )
    return status or "failed"


def price_displays_refresh(
    *,
    station_id: int | None = None,
    site_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """After the current transaction commits, queue a display push for the 2.0.1 stations a
    price change touches: one station, a site's, or (neither given) all of the tenant's; to
    the online ones now, or to all of them at ``at`` when the change takes effect later."""

    def enqueue() -> None:
        stations = Station.objects.filter(ocpp_version=DISPLAY_VERSION)
        if station_id is not None:
            stations = stations.filter(pk=station_id)
        elif site_id is not None:
            stations = stations.filter(site_id=site_id)
        if at is not None and at > timezone.now():
            for pk in stations.values_list("pk", flat=True):
                queue.enqueue_price_display(pk, eta=at)
            return
        for pk in stations.filter(is_online=True).values_list("pk", flat=True):
            queue.enqueue_price_display(pk)

    transaction.on_commit(enqueue)
