"""A month of charging at two sites (A1 Garage, A2 Depot of the personas), stored as raw rows
(sessions with meter readings, status history) and rolled up by the real pipeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.charging.metering import ENERGY_REGISTER
from apps.charging.models import ChargingSession, MeterValue
from apps.reports import services
from apps.stations.models import Evse, Station, StatusChange

TZ = ZoneInfo("America/Montreal")
MONTH_START = dt.date(2026, 11, 1)
MONTH_END = dt.date(2026, 12, 1)


@dataclass
class Place:
    site: object
    station: object
    port: object
    energy_wh: int  # in November
    sessions: int


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


def charge(port, started: dt.datetime, minutes: int, wh: int, n: int) -> ChargingSession:
    """One session with a register reading every 5 minutes (energy spread evenly)."""
    started = started.astimezone(dt.UTC)  # elapsed time, not wall-clock time, across DST
    session = ChargingSession.objects.create(
        station=port.station,
        evse=port,
        transaction_id=f"T{port.pk}-{n}",
        started_at=started,
        ended_at=started + dt.timedelta(minutes=minutes),
        meter_start_wh=1000,
        meter_stop_wh=1000 + wh,
    )
    steps = minutes // 5
    MeterValue.objects.bulk_create(
        MeterValue(
            station=port.station,
            evse_id=port.evse_id,
            session=session,
            timestamp=started + dt.timedelta(minutes=5 * i),
            measurand=ENERGY_REGISTER,
            unit="Wh",
            value=Decimal(1000 + wh * i // steps),
        )
        for i in range(1, steps)
    )
    return session


def build_place(site, identity: str, sessions: list[tuple[dt.date, int, int]]) -> Place:
    station = Station.objects.create(site=site, identity=identity)
    port = Evse.objects.create(station=station, evse_id=1)
    since = local(dt.date(2026, 10, 1), 0)
    StatusChange.objects.create(
        station=station, kind="connection", status="Online", occurred_at=since
    )
    StatusChange.objects.create(station=station, evse=port, status="Available", occurred_at=since)
    energy = count = 0
    for n, (day, hour, wh) in enumerate(sessions):
        charge(port, local(day, hour), 120, wh, n)
        if MONTH_START <= day < MONTH_END:
            energy += wh
            count += 1
    return Place(site, station, port, energy, count)


@pytest.fixture
def month(alpha, alpha_sites):
    """A1: three sessions in November, one in October; A2: two in November."""
    a1 = build_place(
        alpha_sites[0],
        "A1-CP1",
        [
            (dt.date(2026, 10, 20), 9, 5000),
            (dt.date(2026, 11, 1), 1, 12000),  # the 25-hour DST day
            (dt.date(2026, 11, 10), 17, 8000),
            (dt.date(2026, 11, 30), 22, 9000),  # ends on December 1st (local): split
        ],
    )
    a2 = build_place(
        alpha_sites[1],
        "A2-CP1",
        [(dt.date(2026, 11, 5), 8, 30000), (dt.date(2026, 11, 6), 8, 1000)],
    )
    services.rollup_rebuild(
        start=local(dt.date(2026, 10, 1), 0),
        end=local(dt.date(2026, 12, 2), 0),
        # these two ports only: every port of the tenant (live tests commit theirs) took ~25 s
        evse_ids=[a1.port.pk, a2.port.pk],
        now=local(dt.date(2026, 12, 2), 0),
    )
    return a1, a2


# The browser tests of the report pages use the browser suite's server and Chromium.
from tests.browser.conftest import browser, live_db, portal_server, sign_in  # noqa: E402, F401
