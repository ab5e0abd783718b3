"""The VEN's private key at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``) under keys derived from the ``ENERGY_SECRET_KEYS`` setting.

- Each secret in ``ENERGY_SECRET_KEYS`` (default: ``[SECRET_KEY]``) is stretched into a Fernet
  key with HKDF-SHA256 (its own ``info``, so the key is not SECRET_KEY itself and serves no
  other purpose).
- The first secret encrypts; every one of them decrypts (``MultiFernet``): to rotate, put a new
  secret first, keep the old one after it, run ``manage.py energy_rekey`` (re-encrypts every
  tenant's keys under the first), then drop the old one.
- A key that no configured secret opens raises ``KeyUnavailable`` (the poll reports it, the
  site is not lowered by us, nothing crashes).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

INFO = b"chargegrid energy: OpenADR VEN private keys"


class KeyUnavailable(Exception):
    """The stored private key cannot be decrypted with the configured secrets."""


def secrets_in_use() -> tuple[str, ...]:
    configured = getattr(settings, "ENERGY_SECRET_KEYS", None) or [settings.SECRET_KEY]
    return tuple(secret for secret in configured if secret)


def derive(secret: str) -> bytes:
    """The Fernet key (urlsafe base64 of 32 bytes) derived from one secret."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret.encode())
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=4)
def _fernet(secrets: Sequence[str]) -> MultiFernet:
    if not secrets:
        raise KeyUnavailable("No secret to encrypt VEN keys with (ENERGY_SECRET_KEYS).")
    return MultiFernet([Fernet(derive(secret)) for secret in secrets])


def encrypt(plain: str) -> str:
    """The stored form of a private key ('' stays '')."""
    if not plain:
        return ""
    return _fernet(secrets_in_use()).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(secrets_in_use()).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise KeyUnavailable(
            "The VEN's private key cannot be decrypted with ENERGY_SECRET_KEYS "
            "(was the secret changed without keeping the old one?)."
        ) from error


def rotate(token: str) -> str:
    """The same key encrypted under the first secret (for rotation)."""
    if not token:
        return ""
    try:
        return _fernet(secrets_in_use()).rotate(token.encode()).decode()
    except InvalidToken as error:
        raise KeyUnavailable("A VEN's private key is not readable with any secret.") from error
