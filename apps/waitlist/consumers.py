"""``/ws/waitlist/<signed>/``: a driver page's live feed (see ``apps.waitlist.live``).

The page is public (a signed link): the consumer trusts only the signature, resolves the tenant
from the Host header (django-tenants has no Channels support) and sends the driver nothing but
their own place, rendered as the page renders it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.utils import translation

from .live import group_for

ENTRY_SALT = "waitlist.driver"  # as views.ENTRY_SALT


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _origin_matches(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    return not origin or urlsplit(origin).netloc.lower() == _header(scope, b"host").lower()


def _tenant_for(scope: dict[str, Any]):
    from django_tenants.utils import get_tenant_domain_model, schema_context

    host = _header(scope, b"host").rsplit(":", 1)[0].lower()
    with schema_context("public"):
        domain = (
            get_tenant_domain_model().objects.select_related("tenant").filter(domain=host).first()
        )
    if domain is None or domain.tenant.schema_name == "public":
        return None
    return domain.tenant


def place_html(tenant, entry_id: int, language: str) -> tuple[int, str] | None:
    """The driver's place as the page shows it: (group id, HTML), or None (entry gone)."""
    from django_tenants.utils import tenant_context

    from . import views
    from .models import WaitlistEntry

    with tenant_context(tenant), translation.override(language):
        entry = (
            WaitlistEntry.objects.select_related("group__site", "held_evse__station")
            .filter(pk=entry_id)
            .first()
        )
        if entry is None:
            return None
        html = render_to_string("waitlist/_place.html", views.place_context(entry))
        return entry.group_id, html


def _connect(scope: dict[str, Any], signed: str, language: str):
    try:
        entry_id = int(signing.loads(signed, salt=ENTRY_SALT)["entry"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    tenant = _tenant_for(scope)
    if tenant is None:
        return None
    place = place_html(tenant, entry_id, language)
    if place is None:
        return None
    return tenant, entry_id, place


class DriverConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        if not _origin_matches(self.scope):
            await self.close()
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        language = (query.get("lang") or [""])[0][:8]
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        signed = self.scope["url_route"]["kwargs"]["signed"]
        found = await database_sync_to_async(_connect)(self.scope, signed, language)
        if found is None:
            await self.close()  # before accept: the handshake is refused
            return
        self.tenant, self.entry_id, (group_id, html) = found
        self.language = language
        self.group = group_for(self.tenant.schema_name, group_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"kind": "place", "html": html})  # what changed while connecting

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        return None  # the page only listens

    async def waitlist_changed(self, message: dict[str, Any]) -> None:
        place = await database_sync_to_async(place_html)(self.tenant, self.entry_id, self.language)
        if place is None:
            await self.close()
            return
        await self.send_json({"kind": "place", "html": place[1]})
