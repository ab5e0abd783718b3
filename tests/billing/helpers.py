"""Building blocks for pricing tests: sessions described in the site's local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apps.billing.engine import MeterInterval, SessionTimeline

MONTREAL = "America/Montreal"


def at(text: str, zone: str = MONTREAL, fold: int = 0) -> datetime:
    """``"2026-03-02 15:00"`` on the site's clock (``fold=1``: the second of a repeated hour)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold)


def even_intervals(
    start: datetime, end: datetime, energy_wh: int, minutes: int = 15
) -> tuple[MeterInterval, ...]:
    """Meter readings every ``minutes`` with ``energy_wh`` spread evenly (remainder at the end)."""
    edges = [start]
    while edges[-1] + timedelta(minutes=minutes) < end:
        edges.append(edges[-1] + timedelta(minutes=minutes))
    edges.append(end)
    count = len(edges) - 1
    share, rest = divmod(energy_wh, count)
    return tuple(
        MeterInterval(a, b, share + (rest if i == count - 1 else 0))
        for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False))
    )


def session(
    start: str,
    end: str,
    *,
    energy_wh: int = 0,
    charging_until: str | None = None,
    zone: str = MONTREAL,
    intervals: tuple[MeterInterval, ...] | None = None,
) -> SessionTimeline:
    """A session plugged in at ``start``, unplugged at ``end``, charging until
    ``charging_until`` (default: the end) with ``energy_wh`` spread evenly over charging."""
    started, ended = at(start, zone), at(end, zone)
    charging_end = at(charging_until, zone) if charging_until else ended
    if intervals is None:
        intervals = even_intervals(started, charging_end, energy_wh) if energy_wh else ()
    return SessionTimeline(
        started_at=started,
        ended_at=ended,
        timezone=zone,
        intervals=intervals,
        charging_ended_at=charging_end,
    )
