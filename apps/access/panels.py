"""What access control adds to the core's pages (registered in ``AccessConfig.ready``): on the
station page, the rules that apply there and the state of its local authorisation list."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.core.scoping import Actor
from apps.stations.models import Station

from .models import AccessRule, StationLocalList


def station_access_panel(*, obj: Station, actor: Actor) -> dict[str, Any]:
    rules = AccessRule.objects.restrict(actor, "access.view").filter(
        Q(site=obj.site_id) | Q(station=obj) | Q(evse__station=obj)
    )
    local_list = StationLocalList.objects.filter(station=obj).first()
    return {
        "rules": rules.count(),
        "station": obj,
        "local_list": local_list,
        "listed": len(local_list.entries) if local_list else 0,
        "may_sync": actor.scope_for("access.manage").covers_site(obj.site_id),
    }
