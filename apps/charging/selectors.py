"""Reads of charging sessions and their meter values."""

from __future__ import annotations

import datetime as dt

from .metering import POWER
from .models import MeterValue

# How far back the station page's live charts start.
POWER_HISTORY = dt.timedelta(hours=3)


def power_series(*, session_ids: list[int], since: dt.datetime) -> dict[int, list[list[float]]]:
    """``{session id: [[unix seconds, watts], ...]}`` from the sessions' power samples: the
    station's total when it sends one, else the sum of its phases.  The caller has scoped the
    sessions (their ids come from a restricted queryset or a scoped page's object)."""
    if not session_ids:
        return {}
    rows = (
        MeterValue.objects.filter(
            session_id__in=session_ids,
            measurand=POWER,
            timestamp__gte=since,
            location__in=("", "Outlet"),
        )
        .order_by("session_id", "timestamp")
        .values_list("session_id", "timestamp", "phase", "value")
    )
    totals: dict[int, dict[dt.datetime, float]] = {}
    phases: dict[int, dict[dt.datetime, float]] = {}
    for session_id, timestamp, phase, value in rows:
        target = totals if not phase else phases
        bucket = target.setdefault(session_id, {})
        bucket[timestamp] = bucket.get(timestamp, 0.0) + float(value)
    series = {}
    for session_id in session_ids:
        points = totals.get(session_id) or phases.get(session_id) or {}
        series[session_id] = [[ts.timestamp(), watts] for ts, watts in sorted(points.items())]
    return series
