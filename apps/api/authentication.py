"""Who is calling the API: an integrator's key (``Authorization: Bearer cg_<prefix>_<secret>``)
or a signed-in portal user (Django session, CSRF enforced on writes)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from apps.roles.models import ApiKey
from apps.roles.selectors import ApiKeyActor, UserActor, api_key_lookup

# ``last_used_at`` is written at most this often per key: one UPDATE a minute, not per request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def set_actor(request, actor) -> None:
    """Make ``actor`` the ``request.actor`` of both the DRF request and the Django request."""
    request._request.actor = actor
    request.actor = actor


def api_key_touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_PRECISION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Use 'Authorization: Bearer <key>'."))
        if connection.schema_name == "public":
            raise exceptions.AuthenticationFailed(_("Use your network's own address."))
        key = api_key_lookup(header[1])
        if key is None or not key.created_by.is_active:
            raise exceptions.AuthenticationFailed(_("Unknown, expired or revoked API key."))
        api_key_touch(key)
        set_actor(request, ApiKeyActor(key))
        return key.created_by, key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The portal's session (CSRF-checked by DRF); the actor is the signed-in person."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            set_actor(request, UserActor(result[0]))
        return result
