"""The driver's browser registers for Web Push here, with a signed link (no sign-in): the
page that offers it (the waitlist's driver page) signs the contact's key with ``sign_contact``'s
salt."""

from __future__ import annotations

import json

from django.core import signing
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods

from . import conf, services

SALT = "notifications.contact"  # the waitlist's driver page signs with the same salt


def contact_key_from(signed: str) -> str | None:
    try:
        return signing.loads(signed, salt=SALT)["contact"]
    except (signing.BadSignature, KeyError, TypeError):
        return None


@require_http_methods(["GET", "POST"])
def push_subscribe(request: HttpRequest, signed: str) -> JsonResponse:
    """GET: the server's VAPID public key (empty: push is off); POST: the browser's
    subscription, stored for the contact the link names."""
    key = contact_key_from(signed)
    if key is None:
        return JsonResponse({"detail": "Bad link"}, status=404)
    if request.method == "GET":
        return JsonResponse({"vapid_public_key": conf.vapid_public_key()})
    try:
        data = json.loads(request.body)
        endpoint, keys = data["endpoint"], data["keys"]
        services.push_subscribe(
            key=key, endpoint=endpoint, p256dh=keys["p256dh"], auth=keys["auth"]
        )
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "Not a push subscription"}, status=400)
    return JsonResponse({"ok": True, "vapid_public_key": conf.vapid_public_key()})
