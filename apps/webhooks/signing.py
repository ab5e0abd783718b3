"""How deliveries are signed, and how a receiver checks them (documented in docs/api.md).

Headers: ``X-Chargegrid-Timestamp: <unix seconds>`` and
``X-Chargegrid-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``.
Signing the timestamp with the body lets a receiver refuse replays of old deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Chargegrid-Signature"
TIMESTAMP_HEADER = "X-Chargegrid-Timestamp"
EVENT_HEADER = "X-Chargegrid-Event"
DELIVERY_HEADER = "X-Chargegrid-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a receiver runs: the signature matches and the timestamp is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
