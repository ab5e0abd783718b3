"""Expiring download links: stations fetch images from the platform over HTTP(S) with a
signed token naming the tenant, the image and the update (no account needed, nothing
guessable, useless once expired)."""

from __future__ import annotations

from django.core import signing
from django.db import connection
from django.urls import reverse

from . import conf

SALT = "firmware.download"


def download_url(*, image, target_id: int) -> str:
    token = signing.TimestampSigner(salt=SALT).sign_object(
        {"s": connection.schema_name, "i": image.pk, "t": target_id}
    )
    name = f"fw-{image.version}.bin"
    path = reverse("firmware_download", args=[token, name], urlconf="config.urls_public")
    return conf.download_base_url() + path


def read_token(token: str) -> dict:
    """{"s": schema, "i": image id, "t": target id}; raises signing.BadSignature (expired
    links raise its subclass SignatureExpired)."""
    return signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=conf.link_seconds())
