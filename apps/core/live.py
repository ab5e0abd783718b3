"""The live feed's contract: one public function to publish to the live pages.

Browsers of a tenant listen on ``/ws/live/`` (``apps.dashboard.consumers``), which joins the
tenant's channel-layer group and forwards each message to the people who may see its site.
Whoever has news for the live pages (the dashboard's event handlers, monitoring's alerts,
power's rebalances) calls ``publish_live`` here instead of importing one another.  Every
message is a JSON-able dict with a ``kind`` and, when it is about a site, its ``site_id``
(the consumer filters on it without a query).
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from . import broadcast

GROUP_PREFIX = "live."
MESSAGE_TYPE = "live.event"


def group_for(schema_name: str) -> str:
    return f"{GROUP_PREFIX}{schema_name}"


def publish_live(data: dict[str, Any], *, schema_name: str | None = None) -> None:
    """Send ``data`` to every live browser of the current tenant (sync code only; call it after
    commit, as event handlers run)."""
    schema_name = schema_name or connection.schema_name
    broadcast.group_send(group_for(schema_name), {"type": MESSAGE_TYPE, "data": data})
