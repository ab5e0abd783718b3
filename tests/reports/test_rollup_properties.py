"""The rollups equal a direct aggregation of the raw rows (tests/reports/reference.py) for
random sessions, meter readings and status changes: sessions spanning quarter edges, readings
and status reports arriving late (after a first catch-up), and windows over both DST changes
in the site's time zone; the local-day rows sum the right quarters (23- and 25-hour days);
a rebuild of the window gives the same rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from apps.billing.models import SessionCost
from apps.charging.metering import ENERGY_REGISTER, POWER
from apps.charging.models import ChargingSession, MeterValue
from apps.reports import services
from apps.reports.models import PortDayRollup, PortRollup, SiteQuarterRollup
from apps.stations.models import Evse, Station, StatusChange
from tests.factories import SiteFactory

from .reference import by_local_day, expected

TZ = "America/Montreal"
WINDOW = dt.timedelta(hours=36)
STARTS = [  # local noon before each DST change, and a plain summer day
    dt.datetime(2026, 3, 7, 12, tzinfo=ZoneInfo(TZ)),
    dt.datetime(2026, 10, 31, 12, tzinfo=ZoneInfo(TZ)),
    dt.datetime(2026, 6, 15, 12, tzinfo=ZoneInfo(TZ)),
]
MEASURES = [
    "energy_wh",
    "peak_power_w",
    "seconds_available",
    "seconds_charging",
    "seconds_finished",
    "seconds_reserved",
    "seconds_faulted",
    "seconds_unavailable",
    "seconds_offline",
    "seconds_occupied",
    "sessions_started",
    "sessions_ended",
    "revenue",
]

reading = st.tuples(
    st.integers(0, 100), st.integers(0, 5000), st.booleans(), st.integers(0, 22000)
)  # % of the session, Wh increase, late?, power W
session = st.fixed_dictionaries(
    {
        "port": st.integers(0, 1),
        "start_s": st.integers(0, int(WINDOW.total_seconds()) - 60),
        "length_s": st.integers(60, 9 * 3600),
        "meter_start": st.integers(0, 10_000_000),
        "ended": st.booleans(),
        "stop_extra": st.integers(0, 3000),
        "cost": st.one_of(st.none(), st.decimals("0", "99.9999", places=4)),
        "readings": st.lists(reading, max_size=8),
    }
)
change = st.tuples(
    st.integers(0, int(WINDOW.total_seconds()) - 1),
    st.sampled_from(["port0", "port1", "link"]),
    st.sampled_from(["Available", "Charging", "Finishing", "Faulted", "Reserved", "Unavailable"]),
    st.booleans(),  # late?
)


def _world():
    site = SiteFactory(timezone=TZ)
    station = Station.objects.create(site=site, identity=f"RPT-{site.pk}")
    ports = [Evse.objects.create(station=station, evse_id=n) for n in (1, 2)]
    return station, ports


def _store(station, ports, t0, sessions, changes, late: bool):
    rows = []
    for n, spec in enumerate(sessions):
        port = ports[spec["port"]]
        started = t0 + dt.timedelta(seconds=spec["start_s"])
        # Everything happened before "now" (the end of the window).
        spec["length_s"] = min(spec["length_s"], int(WINDOW.total_seconds()) - spec["start_s"] - 1)
        ended = started + dt.timedelta(seconds=spec["length_s"])
        if not late:
            total = sum(r[1] for r in spec["readings"])
            s = ChargingSession.objects.create(
                station=station,
                evse=port,
                transaction_id=f"{t0:%j}-{n}",
                started_at=started,
                meter_start_wh=spec["meter_start"],
                ended_at=ended if spec["ended"] else None,
                meter_stop_wh=spec["meter_start"] + total + spec["stop_extra"]
                if spec["ended"]
                else None,
            )
            spec["pk"] = s.pk
            if spec["ended"] and spec["cost"] is not None:
                SessionCost.objects.create(
                    session=s,
                    currency="CAD",
                    subtotal=spec["cost"],
                    tax_total=0,
                    total=spec["cost"],
                    receipt_number=f"R{s.pk}",
                    total_excl_tax=spec["cost"],
                    platform_fee=0,
                    energy_wh=0,
                    connected_seconds=0,
                    charging_seconds=0,
                    idle_seconds=0,
                    site_timezone=TZ,
                    inputs_digest="test",
                    engine_version="1",
                )
        wh = spec["meter_start"]
        for pct, increase, is_late, power in spec["readings"]:
            wh += increase
            if is_late != late:
                continue
            at = started + dt.timedelta(seconds=spec["length_s"] * pct // 100)
            for measurand, value in ((ENERGY_REGISTER, wh), (POWER, power)):
                rows.append(
                    MeterValue(
                        station=station,
                        evse_id=port.evse_id,
                        session_id=spec["pk"],
                        timestamp=at,
                        measurand=measurand,
                        unit="Wh" if measurand == ENERGY_REGISTER else "W",
                        value=Decimal(value),
                    )
                )
    MeterValue.objects.bulk_create(rows, ignore_conflicts=True)
    for offset, target, status, is_late in changes:
        if is_late != late:
            continue
        at = t0 + dt.timedelta(seconds=offset)
        if target == "link":
            StatusChange.objects.create(
                station=station,
                kind="connection",
                status="Offline" if status in ("Faulted", "Unavailable") else "Online",
                occurred_at=at,
            )
        else:
            port = ports[int(target[-1])]
            StatusChange.objects.create(station=station, evse=port, status=status, occurred_at=at)


def _stored(model, key, station):
    return {
        (row["evse_id"], row[key]): {m: row[m] for m in MEASURES}
        for row in model.objects.filter(station=station).values("evse_id", key, *MEASURES)
    }


@pytest.mark.django_db
@settings(
    max_examples=25,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.sampled_from(STARTS),
    sessions=st.lists(session, max_size=5),
    changes=st.lists(change, max_size=10),
    probe=st.tuples(st.integers(0, 143), st.integers(1, 144)),
)
def test_rollups_equal_direct_aggregation(alpha, start, sessions, changes, probe):
    t0 = start.astimezone(dt.UTC)
    now = t0 + WINDOW
    sid = transaction.savepoint()
    try:
        station, ports = _world()
        # Known from the start: online, both ports available.
        StatusChange.objects.create(
            station=station, kind="connection", status="Online", occurred_at=t0
        )
        for port in ports:
            StatusChange.objects.create(
                station=station, evse=port, status="Available", occurred_at=t0
            )
        _store(station, ports, t0, sessions, changes, late=False)
        services.rollup_catch_up(now=now)
        _store(station, ports, t0, sessions, changes, late=True)  # late and offline-queued
        services.rollup_catch_up(now=now)

        quarters = services.quarters(t0, now)
        want = expected(station, quarters, now)
        got = _stored(PortRollup, "bucket", station)
        assert set(got) == set(want)
        for key in want:
            assert got[key] == want[key], key

        # Any range of quarters: the sums agree (what a report over a period adds up).
        first, length = probe
        chosen = quarters[first : first + length]
        for measure in ("energy_wh", "seconds_occupied", "seconds_offline", "revenue"):
            assert sum(got[(p.pk, q)][measure] for p in ports for q in chosen) == sum(
                want[(p.pk, q)][measure] for p in ports for q in chosen
            )

        assert _stored(PortDayRollup, "day", station) == by_local_day(want, TZ)
        site_quarters = {
            r.bucket: (r.energy_wh, r.sessions_started, r.seconds_occupied, r.revenue)
            for r in SiteQuarterRollup.objects.filter(site=station.site)
        }
        assert site_quarters == {
            q: tuple(
                sum(want[(p.pk, q)][m] for p in ports)
                for m in ("energy_wh", "sessions_started", "seconds_occupied", "revenue")
            )
            for q in quarters
        }

        services.rollup_rebuild(start=t0, end=now, evse_ids=[p.pk for p in ports], now=now)
        assert _stored(PortRollup, "bucket", station) == got
    finally:
        transaction.savepoint_rollback(sid)


@pytest.mark.django_db
def test_dst_days_hold_23_and_25_hours(alpha):
    station, ports = _world()
    spring = dt.datetime(2026, 3, 8, tzinfo=ZoneInfo(TZ)).astimezone(dt.UTC)
    autumn = dt.datetime(2026, 11, 1, tzinfo=ZoneInfo(TZ)).astimezone(dt.UTC)
    for day_start in (spring, autumn):
        StatusChange.objects.create(
            station=station, kind="connection", status="Online", occurred_at=day_start
        )
        StatusChange.objects.create(
            station=station, evse=ports[0], status="Available", occurred_at=day_start
        )
        services.rollup_rebuild(
            start=day_start - dt.timedelta(hours=2),
            end=day_start + dt.timedelta(hours=27),
            evse_ids=[ports[0].pk],
            now=day_start + dt.timedelta(days=3),
        )
    days = {
        d.day: d.seconds_available
        for d in PortDayRollup.objects.filter(evse=ports[0], seconds_available__gt=0)
    }
    assert days[dt.date(2026, 3, 8)] == 23 * 3600
    assert days[dt.date(2026, 11, 1)] == 25 * 3600
