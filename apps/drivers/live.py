"""The public finder's live feed: ``/ws/drivers/finder/``.

Anyone may listen (the finder needs no sign-in), so this is not the portal's ``/ws/live/``
(which forwards what a signed-in person may see): it carries only the public rows of
published stations (availability per connector type and power, hours), on its own
channel-layer group per tenant.  The tenant is resolved from the Host header as the portal's
consumer does (django-tenants has no Channels support).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connection

from apps.core import broadcast

from . import journal

GROUP_PREFIX = "drivers.finder."
MESSAGE_TYPE = "finder.station"


def group_for(schema_name: str) -> str:
    return f"{GROUP_PREFIX}{schema_name}"


def publish_station(station_id: int) -> None:
    """Send a published station's public row to the finder's listeners (after commit: event
    handlers run then).  Unpublished stations send nothing."""
    from .selectors import finder_station

    row = finder_station(station_id=station_id)
    if row is not None:
        journal.record(connection.schema_name, row)  # the processes' snapshots follow it
        broadcast.group_send(
            group_for(connection.schema_name), {"type": MESSAGE_TYPE, "station": row}
        )


def publish_stations(station_ids) -> None:
    """``publish_station`` for many stations, read in one go."""
    from .selectors import finder_station_rows

    group = group_for(connection.schema_name)
    rows = finder_station_rows(station_ids=station_ids)
    journal.record_many(connection.schema_name, rows)  # the processes' snapshots follow them
    for row in rows:
        broadcast.group_send(group, {"type": MESSAGE_TYPE, "station": row})


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def schema_for(scope: dict[str, Any]) -> str | None:
    """The tenant schema of the Host header, or None (unknown host, the public schema)."""
    from urllib.parse import urlsplit

    from django_tenants.utils import get_tenant_domain_model, schema_context

    host_header = _header(scope, b"host")
    origin = _header(scope, b"origin")
    if origin and urlsplit(origin).netloc.lower() != host_header.lower():
        return None  # another site's page may not read this feed through the visitor
    host = host_header.rsplit(":", 1)[0].lower()
    with schema_context("public"):
        domain = (
            get_tenant_domain_model().objects.select_related("tenant").filter(domain=host).first()
        )
    if domain is None or domain.tenant.schema_name == "public":
        return None
    return domain.tenant.schema_name


class FinderConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        schema = await database_sync_to_async(schema_for)(self.scope)
        if schema is None:
            await self.close()
            return
        self.group = group_for(schema)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Listeners only listen."""

    async def finder_station(self, message: dict[str, Any]) -> None:
        await self.send_json({"kind": "station", "station": message["station"]})
