"""Reads of the OCPP core that the API and the portal share."""

from __future__ import annotations

from dataclasses import dataclass

from . import payloads
from .models import StationMessageLimits


@dataclass(frozen=True)
class MessageLimits:
    """A station's ItemsPerMessage / BytesPerMessage per request (2.0.1 B06-B08): as it
    reported them, as overridden in its settings, and what requests are split to (the
    override where there is one, else the report)."""

    reported: dict[str, int]
    overrides: dict[str, int]
    effective: dict[str, int]


def station_message_limits(*, station_id: int) -> MessageLimits:
    row = StationMessageLimits.objects.filter(station_id=station_id).first()
    if row is None:
        return MessageLimits({}, {}, {})
    effective = {key: row.limit(key) for key in payloads.LIMIT_KEYS if row.limit(key)}
    return MessageLimits(dict(row.reported), dict(row.overrides), effective)
