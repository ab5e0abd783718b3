"""The code printed on a network's charging cards, which proves a driver holds the card.

A pure function of the tenant's schema, the card's UID and the project's secret key (an HMAC):
the network computes it when it prints its cards (the portal's "Card codes" page lists them)
and nothing needs storing.  Eight characters from an alphabet without look-alikes (no 0/O,
1/I), shown as ``ABCD-EFGH``: 32^8 ≈ 10^12 values against five tries per card.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def card_code(*, schema_name: str, uid: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"drivers.card:{schema_name}:{uid.upper()}".encode(),
        hashlib.sha256,
    ).digest()
    chars = "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:8])
    return f"{chars[:4]}-{chars[4:]}"


def normalise_code(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1")  # never in codes: a typo, not a match
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned
