"""What the waitlist adds to the core's pages (registered in ``WaitlistConfig.ready``): on the
station page, its queue and how many drivers wait."""

from __future__ import annotations

from typing import Any

from apps.core.scoping import Actor
from apps.stations.models import Station

from . import selectors
from .models import WaitlistGroup


def station_queue_panel(*, obj: Station, actor: Actor) -> dict[str, Any]:
    group = (
        WaitlistGroup.objects.restrict(actor, "waitlist.view")
        .filter(stations=obj, is_active=True)
        .order_by("pk")
        .first()
    )
    return {"group": group, "waiting": selectors.waiting(group).count() if group else 0}
