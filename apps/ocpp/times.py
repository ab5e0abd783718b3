"""OCPP timestamps."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def parse_time(value: str | None) -> dt.datetime:
    """OCPP timestamps (RFC 3339); a missing or unreadable one means 'now', and so does one
    that falls outside the years 1-9999 in UTC (``9999-12-31T23:00:00-05:00``)."""
    if not value or not isinstance(value, str):
        return timezone.now()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return timezone.now()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
