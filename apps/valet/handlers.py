"""The board follows the stations: any port or session change on a site tells its open boards
to refresh (``kind: valet``, through the core's live feed)."""

from __future__ import annotations

from typing import Any

from apps.core.live import publish_live
from apps.stations.models import Station


def on_board_changed(*, event: str, station_id: int, **_: Any) -> None:
    site_id = Station.objects.filter(pk=station_id).values_list("site_id", flat=True).first()
    if site_id is not None:
        publish_live({"kind": "valet", "site_id": site_id})
