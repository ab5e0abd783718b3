"""A slow, obviously correct oracle for the rollups: every measure of every port's quarter
hour aggregated straight from the raw rows in Python, following docs/reports.md word by word."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from apps.billing.models import SessionCost
from apps.charging.metering import ENERGY_REGISTER, POWER
from apps.charging.models import ChargingSession, MeterValue
from apps.stations.models import Evse, StatusChange

Q = dt.timedelta(minutes=15)
STATE = {
    "Available": "available",
    "Preparing": "charging",
    "Charging": "charging",
    "SuspendedEV": "charging",
    "SuspendedEVSE": "charging",
    "Occupied": "charging",
    "Finishing": "finished",
    "Reserved": "reserved",
    "Faulted": "faulted",
}


def quarter(at: dt.datetime) -> dt.datetime:
    at = at.astimezone(dt.UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def _wh(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected(
    station, quarters: list[dt.datetime], now: dt.datetime
) -> dict[tuple[int, dt.datetime], dict]:
    """{(port pk, quarter): measures} for every port of ``station`` and every quarter given."""
    out: dict[tuple[int, dt.datetime], dict] = {}
    evses = list(Evse.objects.filter(station=station))
    sessions = list(ChargingSession.objects.filter(station=station))
    costs = {c.session_id: c.total for c in SessionCost.objects.filter(session__station=station)}
    values = list(MeterValue.objects.filter(station=station))
    changes = sorted(
        StatusChange.objects.filter(station=station), key=lambda c: (c.occurred_at, c.id)
    )
    for evse in evses:
        for q in quarters:
            out[(evse.pk, q)] = {
                "energy_wh": 0,
                "peak_power_w": None,
                "seconds_occupied": 0,
                "sessions_started": 0,
                "sessions_ended": 0,
                "revenue": Decimal(0),
                **{f"seconds_{s}": 0 for s in (*set(STATE.values()), "unavailable", "offline")},
            }
    # Energy: each session's register readings in time order; each increase to the quarter of
    # the later reading.
    for s in sessions:
        readings = [
            (v.timestamp, _wh(v.value))
            for v in values
            if v.session_id == s.pk
            and v.measurand == ENERGY_REGISTER
            and v.phase == ""
            and v.location in ("", "Outlet")
        ]
        if s.meter_start_wh is not None:
            readings.append((s.started_at, s.meter_start_wh))
        if s.meter_stop_wh is not None and s.ended_at is not None:
            readings.append((s.ended_at, s.meter_stop_wh))
        readings.sort()
        for (_, before), (at, after) in zip(readings, readings[1:], strict=False):
            key = (s.evse_id, quarter(at))
            if key in out:
                out[key]["energy_wh"] += max(0, after - before)
        for key_q, row in out.items():
            if key_q[0] != s.evse_id:
                continue
            q = key_q[1]
            end = min(q + Q, max(now, q))
            if s.started_at < q + Q and (s.ended_at is None or s.ended_at >= q):
                stop = min(s.ended_at or end, end)
                row["seconds_occupied"] += max(
                    0, int((stop - max(s.started_at, q)).total_seconds())
                )
            if q <= s.started_at < q + Q:
                row["sessions_started"] += 1
            if s.ended_at is not None and q <= s.ended_at < q + Q:
                row["sessions_ended"] += 1
                row["revenue"] += costs.get(s.pk, Decimal(0))
    port_no = {(e.station_id, e.evse_id): e.pk for e in evses}
    for v in values:
        if v.measurand == POWER and v.phase == "" and v.location in ("", "Outlet"):
            key = (port_no.get((v.station_id, v.evse_id)), quarter(v.timestamp))
            if key in out:
                peak = out[key]["peak_power_w"]
                out[key]["peak_power_w"] = max(peak or int(v.value), int(v.value))
    # States, second by second (in pieces between changes).
    for evse in evses:
        mine = [c for c in changes if c.kind == "connector" and c.evse_id == evse.pk]
        links = [c for c in changes if c.kind == "connection" and c.station_id == evse.station_id]
        for q in quarters:
            end = min(q + Q, max(now, q))
            cuts = sorted({q} | {c.occurred_at for c in mine + links if q < c.occurred_at < end})
            for start, stop in zip(cuts, [*cuts[1:], end], strict=True):
                status = [c.status for c in mine if c.occurred_at <= start]
                link = [c.status for c in links if c.occurred_at <= start]
                if not link or link[-1] != "Online":
                    state = "offline"
                else:
                    state = STATE.get(status[-1] if status else "", "unavailable")
                out[(evse.pk, q)][f"seconds_{state}"] += int((stop - start).total_seconds())
    return out


def by_local_day(rows: dict[tuple[int, dt.datetime], dict], tz: str) -> dict:
    """The quarters summed per port and calendar day in ``tz`` (peak: the highest)."""
    days: dict[tuple[int, dt.date], dict] = defaultdict(dict)
    for (evse_pk, q), row in rows.items():
        day = days[(evse_pk, q.astimezone(ZoneInfo(tz)).date())]
        for name, value in row.items():
            if name == "peak_power_w":
                if value is not None:
                    day[name] = max(day.get(name) or value, value)
                else:
                    day.setdefault(name, None)
            else:
                day[name] = day.get(name, 0) + value
    return dict(days)
