"""The browsers' live feed: ``/ws/live/``.

django-tenants has no Channels support (its open issues #767, #820, #931): the tenant is
resolved here from the Host header, and the person from the session cookie inside that
tenant's schema, in one sync function that sets its own schema.  The consumer joins its
tenant's group and forwards what the person may see: station and power messages on sites where
they hold ``stations.view``, session messages where they hold ``sessions.view``.

Query string: ``power=all`` (every power message: the dashboard's energy counter) or
``power=<station id>`` (one station's page); without it no power messages are sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.db import connection
from django.http.cookie import parse_cookie
from django.utils.module_loading import import_string
from django_tenants.utils import get_tenant_domain_model, schema_context, tenant_context

from apps.core.live import group_for
from apps.core.permissions import PERMISSIONS
from apps.core.scoping import Scope
from apps.roles.selectors import UserActor

# A revoked role or a signed-out session stops the feed within this many seconds.
SCOPE_REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class Viewer:
    schema_name: str
    user_id: int
    stations: Scope
    sessions: Scope
    power_tree: Scope | None = None  # power.view: the live electrical tree (apps.power.live)
    valet: Scope | None = None  # valet.view: the valet board (apps.valet)


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _hostname(host: str) -> str:
    return host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host


def origin_matches(scope: dict[str, Any]) -> bool:
    """Cross-site websocket hijacking: a browser always sends Origin; it must be our host."""
    origin = _header(scope, b"origin")
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == _header(scope, b"host").lower()


class _SessionRequest:
    """The little of an HttpRequest that ``django.contrib.auth.get_user`` reads."""

    def __init__(self, session) -> None:
        self.session = session


def viewer_for(scope: dict[str, Any]) -> Viewer | None:
    """Who is on the other end, or None (unknown host, public schema, not signed in)."""
    host = _hostname(_header(scope, b"host"))
    with schema_context("public"):
        domain = (
            get_tenant_domain_model().objects.select_related("tenant").filter(domain=host).first()
        )
    if domain is None or domain.tenant.schema_name == "public":
        return None
    # Django's lenient parser: one odd cookie of another site must not hide ours.
    session_key = parse_cookie(_header(scope, b"cookie")).get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return None
    with tenant_context(domain.tenant):
        store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
        user = get_user(_SessionRequest(store(session_key)))
        if not user.is_authenticated:
            return None
        actor = UserActor(user)
        viewer = Viewer(
            schema_name=connection.schema_name,
            user_id=user.pk,
            stations=actor.scope_for("stations.view"),
            sessions=actor.scope_for("sessions.view"),
            power_tree=actor.scope_for("power.view"),
            valet=actor.scope_for("valet.view") if "valet.view" in PERMISSIONS else None,
        )
    return None if viewer.stations.empty else viewer


class LiveConsumer(AsyncJsonWebsocketConsumer):
    viewer: Viewer | None = None
    group: str | None = None
    power: str = ""

    async def connect(self) -> None:
        if not origin_matches(self.scope):
            await self.close()
            return
        self.viewer = await database_sync_to_async(viewer_for)(self.scope)
        if self.viewer is None:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        self.checked_at = time.monotonic()
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.power = (query.get("power") or [""])[0]
        self.group = group_for(self.viewer.schema_name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page may change which station's power it follows: ``{"power": "12"}``."""
        if isinstance(content, dict) and isinstance(content.get("power"), str):
            self.power = content["power"][:20]

    async def live_event(self, message: dict[str, Any]) -> None:
        if self.viewer is None:
            return
        if time.monotonic() - self.checked_at > SCOPE_REFRESH_SECONDS:
            self.checked_at = time.monotonic()
            viewer = await database_sync_to_async(viewer_for)(self.scope)
            if viewer is None or viewer.user_id != self.viewer.user_id:
                self.viewer = None
                await self.close(code=4403)
                return
            self.viewer = viewer
        data = message["data"]
        if data.get("kind") == "stations":  # a batch: each station on its own, as ever
            for item in data.get("items", []):
                if self.may_see(item):
                    await self.send_json(item)
        elif self.may_see(data):
            await self.send_json(data)

    def may_see(self, data: dict[str, Any]) -> bool:
        viewer = self.viewer
        if viewer is None:
            return False
        kind = data.get("kind")
        site_id = data.get("site_id")
        if kind == "session":
            return viewer.sessions.covers_site(site_id)
        if kind == "power":
            if self.power != "all" and self.power != str(data.get("station_id")):
                return False
            return viewer.stations.covers_site(site_id)
        if kind == "valet":
            return viewer.valet is not None and viewer.valet.covers_site(site_id)
        if kind in ("station", "alert", "bulk_command"):  # bulk_command: monitoring's
            return viewer.stations.covers_site(site_id)
        if kind == "power_tree":
            return viewer.power_tree is not None and viewer.power_tree.covers_site(site_id)
        if kind == "command":  # a command's answer, sent on by a worker (monitoring's)
            return viewer.stations.covers_site(site_id)
        return False
