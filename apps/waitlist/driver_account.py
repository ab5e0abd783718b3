"""The waitlist's answers to the drivers app (policies DRIVER_QUEUES, DRIVER_QUEUE_JOIN,
DRIVER_QUEUE_LEAVE in apps/core/policies.py): a signed-in driver's places in queues, joining
and leaving from their account.

The drivers app asks only with the uids of cards the account has *verified* (by a tap or the
code printed on the card), so the card is proved: the driver takes a place at once, without
the public page's tap confirmation.  Features do not import one another; this module is the
whole of what the drivers' account reaches of the waitlist.
"""

from __future__ import annotations

from django.db.models import Prefetch

from apps.stations.models import Station

from . import selectors, services
from .choices import EntryStatus, JoinedVia
from .models import WaitlistEntry

CURRENT = (EntryStatus.UNCONFIRMED, EntryStatus.WAITING, EntryStatus.HELD)


def driver_queues(*, token_uids, **_) -> list[dict]:
    uids = [uid for uid in token_uids if uid]
    if not uids:
        return []
    entries = (
        WaitlistEntry.objects.filter(token_uid__in=uids, status__in=CURRENT)
        .select_related("group", "held_evse__station")
        .prefetch_related(Prefetch("group__stations", queryset=Station.objects.only("id")))
        .order_by("queued_at", "id")
    )
    return [
        {
            "entry_id": entry.pk,
            "queue": entry.group.name,
            "station_ids": [station.pk for station in entry.group.stations.all()],
            "status": entry.status,
            "status_label": str(entry.get_status_display()),
            "position": selectors.entry_position(entry),
            "token_uid": entry.token_uid,
            "held_port": services.port_label(entry.held_evse) if entry.held_evse_id else "",
        }
        for entry in entries
    ]


def driver_queue_join(
    *, station_id: int, token_uid: str, email: str = "", language: str = "en", **_
) -> dict | None:
    group = selectors.group_of_station(station_id)
    if group is None:
        return None
    try:
        entry = services.entry_join(
            group=group, token_uid=token_uid, via=JoinedVia.PAGE, email=email, language=language
        )
    except services.WaitlistError as error:
        return {"error": str(error)}
    return {"entry_id": entry.pk, "position": selectors.entry_position(entry)}


def driver_queue_leave(*, entry_id: int, token_uids, **_) -> bool | None:
    entry = WaitlistEntry.objects.filter(
        pk=entry_id, token_uid__in=[uid for uid in token_uids if uid], status__in=CURRENT
    ).first()
    if entry is None:
        return None
    services.entry_leave(entry=entry)
    return True
