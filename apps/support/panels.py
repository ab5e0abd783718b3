"""What support adds to the core's pages (registered in ``SupportConfig.ready``): the station
page lists the station's open cases and links to a new one."""

from __future__ import annotations

from typing import Any

from apps.core.scoping import Actor
from apps.stations.models import Station

from .choices import ACTIVE_STATUSES
from .models import Case


def station_cases_panel(*, obj: Station, actor: Actor) -> dict[str, Any]:
    cases = (
        Case.objects.restrict(actor, "support.view")
        .filter(station=obj, status__in=ACTIVE_STATUSES)
        .order_by("-created_at")
    )
    return {
        "station": obj,
        "cases": list(cases[:5]),
        "count": cases.count(),
        "may_open": not actor.scope_for("support.open").empty,
    }
