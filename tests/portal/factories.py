"""Inventory for portal and monitoring tests: stations in a chosen state, sessions, alerts.
Create inside an active tenant."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from django.utils import timezone

from apps.charging.models import ChargingSession, MeterValue
from apps.stations.models import Evse, Station
from apps.stations.services import station_register

_numbers = itertools.count(1)


def make_station(
    site,
    identity: str | None = None,
    *,
    online: bool = True,
    statuses: Sequence[str] = ("Available",),
    version: str = "1.6",
    vendor: str = "ABB",
    model: str = "Terra AC",
    firmware: str = "1.4.2",
    last_seen: dt.datetime | None = None,
) -> Station:
    identity = identity or f"ST-{next(_numbers):05d}"
    station = station_register(
        identity=identity, password=None, site=site, evse_count=len(statuses)
    )
    Station.objects.filter(pk=station.pk).update(
        is_online=online,
        ocpp_version=version,
        vendor=vendor,
        model=model,
        firmware_version=firmware,
        last_seen_at=last_seen or timezone.now(),
    )
    for number, status in enumerate(statuses, start=1):
        Evse.objects.filter(station=station, evse_id=number).update(status=status)
    station.refresh_from_db()
    return station


def make_session(
    station: Station,
    *,
    evse_id: int = 1,
    token: str = "TAG-1",
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    energy_wh: int = 0,
    meter_start_wh: int = 1_000_000,
    status: str | None = None,
    power_w: int | None = None,
) -> ChargingSession:
    started_at = started_at or timezone.now() - dt.timedelta(minutes=30)
    evse = Evse.objects.get(station=station, evse_id=evse_id)
    return ChargingSession.objects.create(
        station=station,
        evse=evse,
        transaction_id=str(next(_numbers)),
        id_token=token,
        started_at=started_at,
        ended_at=ended_at,
        status=status or ("completed" if ended_at else "active"),
        meter_start_wh=meter_start_wh,
        meter_last_wh=meter_start_wh + energy_wh,
        meter_stop_wh=meter_start_wh + energy_wh if ended_at else None,
        energy_wh=energy_wh,
        last_power_w=power_w,
    )


def add_register(session: ChargingSession, *, at: dt.datetime, wh: int) -> MeterValue:
    return MeterValue.objects.create(
        station=session.station,
        evse_id=session.evse.evse_id,
        session=session,
        timestamp=at,
        measurand="Energy.Active.Import.Register",
        unit="Wh",
        value=wh,
    )


def add_power(session: ChargingSession, *, at: dt.datetime, watts: int, phase: str = ""):
    return MeterValue.objects.create(
        station=session.station,
        evse_id=session.evse.evse_id,
        session=session,
        timestamp=at,
        measurand="Power.Active.Import",
        phase=phase,
        unit="W",
        value=watts,
    )
