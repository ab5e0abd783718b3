"""Reports benchmark: report queries on the rollups against the same question asked of the raw
meter values, in the same run, and the cost of keeping the rollups up to date.

Data (generated in the database with ``generate_series``, kept between runs per size):
``--stations`` stations with one port each, 20 per site, one year of 15-minute port rollups
(bucket-major order, as they are written) and their local-day rollups; ``--raw-days`` days of
raw register readings every 60 s for every port (one session per port).

1. Year queries: the energy report (``report_build``: per site, daily series, totals and the
   previous year) and the 15-minute load profile (``load_profile``: energy and peak of each
   quarter of the year, all ports).
2. Raw against rollups over the raw days: energy per quarter hour from the raw readings
   (register increases with ``lag()``) and ``load_profile`` over the same days.
3. Ingest: ``rollup_scan`` of one minute of readings from every port, ``rollup_pending`` of one
   quarter of every port, projected to 10,000 stations at 60 s meter values with the catch-up
   running every 30 s (each port's open quarter recomputed twice a minute).

    .venv/bin/python bench/reports_query.py --stations 100 1000 --raw-days 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from _common import setup_django

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
REPEAT = 3


def timed(fn, repeat: int = REPEAT) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def ensure_tenant(stations: int, full: bool):
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.tenants.models import Tenant
    from apps.tenants.services import template_ensure, tenant_create

    slug = f"rbench{stations}"
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        template_ensure()
        tenant = tenant_create(
            name=f"Reports bench {stations}",
            slug=slug,
            admin_email="a@bench.test",
            admin_password=None,
            timezone="America/Montreal",
        )
    with tenant_context(tenant):
        from apps.reports.models import SiteQuarterRollup

        if not SiteQuarterRollup.objects.exists():
            if full:
                generate(stations)
                generate_sites()
            else:
                generate_light(stations)
    connection.set_schema_to_public()
    return tenant


def generate(stations: int, port_quarters: bool = True) -> None:
    from django.db import connection

    from apps.charging.models import ChargingSession
    from apps.stations.models import Evse, Site, Station

    t0 = time.perf_counter()
    if Station.objects.exists():  # an earlier run stopped after making them
        return
    sites = Site.objects.bulk_create(
        Site(name=f"Bench site {n}", timezone="America/Montreal")
        for n in range(max(1, stations // 20))
    )
    rows = Station.objects.bulk_create(
        Station(identity=f"RB-{n:05d}", site=sites[n % len(sites)]) for n in range(stations)
    )
    ports = Evse.objects.bulk_create(Evse(station=s, evse_id=1) for s in rows)
    ChargingSession.objects.bulk_create(
        ChargingSession(
            station_id=p.station_id,
            evse=p,
            transaction_id=f"raw-{p.pk}",
            started_at=YEAR_START + timedelta(days=DAYS - 30),
            meter_start_wh=0,
        )
        for p in ports
    )
    if not port_quarters:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(
            """
            INSERT INTO reports_portrollup (evse_id, station_id, site_id, bucket, computed_at,
                energy_wh, peak_power_w, seconds_available, seconds_charging, seconds_finished,
                seconds_reserved, seconds_faulted, seconds_unavailable, seconds_offline,
                seconds_occupied, sessions_started, sessions_ended, revenue)
            SELECT e.id, e.station_id, s.site_id, b, now(),
                (e.id * 7919 + extract(epoch FROM b)::bigint / 900) %% 1800,
                (e.id * 104729 + extract(epoch FROM b)::bigint / 900) %% 7400,
                600, 300, 0, 0, 0, 0, 0, 300,
                ((e.id + extract(epoch FROM b)::bigint / 900) %% 24 = 0)::int,
                ((e.id + extract(epoch FROM b)::bigint / 900) %% 24 = 8)::int, 0
            FROM generate_series(%s::timestamptz, %s::timestamptz - interval '15 minutes',
                                 interval '15 minutes') b
            CROSS JOIN stations_evse e JOIN stations_station s ON s.id = e.station_id
            ORDER BY b, e.id
            """,
            [YEAR_START, YEAR_START + timedelta(days=DAYS)],
        )
        cursor.execute(
            """
            INSERT INTO reports_portdayrollup (evse_id, station_id, site_id, day, energy_wh,
                peak_power_w, seconds_available, seconds_charging, seconds_finished,
                seconds_reserved, seconds_faulted, seconds_unavailable, seconds_offline,
                seconds_occupied, sessions_started, sessions_ended, revenue)
            SELECT r.evse_id, r.station_id, r.site_id,
                (r.bucket AT TIME ZONE 'America/Montreal')::date, sum(energy_wh),
                max(peak_power_w), sum(seconds_available), sum(seconds_charging),
                sum(seconds_finished), sum(seconds_reserved), sum(seconds_faulted),
                sum(seconds_unavailable), sum(seconds_offline), sum(seconds_occupied),
                sum(sessions_started), sum(sessions_ended), sum(revenue)
            FROM reports_portrollup r GROUP BY 1, 2, 3, 4
            """
        )
    print(f"  generated {stations} stations x {DAYS} days in {time.perf_counter() - t0:.0f} s")


def generate_light(stations: int) -> None:
    """Only what the year queries read: the local-day rows of every port and the quarters of
    every site (port quarters are skipped: a year of them for 1,000 ports takes most of an
    hour to generate on the shared bench machine)."""
    from django.db import connection

    generate(stations, port_quarters=False)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(
            """
            INSERT INTO reports_portdayrollup (evse_id, station_id, site_id, day, energy_wh,
                peak_power_w, seconds_available, seconds_charging, seconds_finished,
                seconds_reserved, seconds_faulted, seconds_unavailable, seconds_offline,
                seconds_occupied, sessions_started, sessions_ended, revenue)
            SELECT e.id, e.station_id, s.site_id, d::date,
                (e.id * 7919 + (d::date - DATE '2025-01-01')) %% 90000,
                7400, 57600, 28800, 0, 0, 0, 0, 0, 28800, 4, 4, 0
            FROM generate_series(DATE '2025-01-01', DATE '2025-12-31', interval '1 day') d
            CROSS JOIN stations_evse e JOIN stations_station s ON s.id = e.station_id
            ORDER BY d, e.id
            """,
            [],
        )
        cursor.execute(
            """
            INSERT INTO reports_sitequarterrollup (site_id, bucket, energy_wh, peak_power_w,
                seconds_occupied, sessions_started, sessions_ended, revenue)
            SELECT site.id, b, (site.id * 7919 + extract(epoch FROM b)::bigint / 900) %% 36000,
                7400, 6000, 1, 1, 0
            FROM generate_series(%s::timestamptz, %s::timestamptz - interval '15 minutes',
                                 interval '15 minutes') b
            CROSS JOIN stations_site site ORDER BY b, site.id
            """,
            [YEAR_START, YEAR_START + timedelta(days=DAYS)],
        )
        for table in ("reports_portdayrollup", "reports_sitequarterrollup"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  day and site-quarter rows in {time.perf_counter() - t0:.0f} s")


def generate_sites() -> None:
    """The sites' quarters from their ports' (what ``rollup_recompute`` keeps), then VACUUM:
    it sets the visibility map and summarises the BRIN ranges of the bulk-loaded tables
    (``autosummarize`` does the latter as ranges fill up in normal running)."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO reports_sitequarterrollup (site_id, bucket, energy_wh, peak_power_w,
                seconds_occupied, sessions_started, sessions_ended, revenue)
            SELECT site_id, bucket, sum(energy_wh), max(peak_power_w), sum(seconds_occupied),
                sum(sessions_started), sum(sessions_ended), sum(revenue)
            FROM reports_portrollup GROUP BY site_id, bucket ORDER BY bucket, site_id
            """
        )
        for table in ("reports_portrollup", "reports_portdayrollup", "reports_sitequarterrollup"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  site quarters and VACUUM in {time.perf_counter() - t0:.0f} s")


def ensure_raw(raw_days: int) -> tuple[datetime, datetime]:
    """``raw_days`` of register readings every 60 s for every port (kept between runs)."""
    from django.db import connection

    from apps.charging.models import MeterValue

    start = YEAR_START + timedelta(days=DAYS - 30)
    end = start + timedelta(days=raw_days)
    if not MeterValue.objects.filter(timestamp__gte=end - timedelta(minutes=1)).exists():
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute(
                """
                INSERT INTO charging_metervalue (station_id, evse_id, session_id, timestamp,
                    measurand, phase, location, context, unit, value)
                SELECT s.station_id, 1, s.id, t, 'Energy.Active.Import.Register', '', '',
                    'Sample.Periodic', 'Wh',
                    (extract(epoch FROM t - s.started_at) / 60)::bigint * (s.id %% 97 + 20)
                FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute',
                                     interval '1 minute') t
                CROSS JOIN charging_chargingsession s
                ORDER BY t
                ON CONFLICT DO NOTHING
                """,
                [start + timedelta(minutes=1), end],
            )
            cursor.execute("VACUUM ANALYZE charging_metervalue")
    return start, end


RAW_PROFILE = """
SELECT date_bin('15 minutes', timestamp, TIMESTAMPTZ '2000-01-01') AS q, sum(step)
FROM (
    SELECT timestamp, value - lag(value) OVER (PARTITION BY session_id ORDER BY timestamp) AS step
    FROM charging_metervalue
    WHERE measurand = 'Energy.Active.Import.Register' AND timestamp >= %s AND timestamp < %s
) x GROUP BY q ORDER BY q
"""


def bench_size(stations: int, raw_days: int, full: bool) -> dict:
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.core.scoping import SYSTEM
    from apps.reports import selectors, services
    from apps.stations.models import Evse

    tenant = ensure_tenant(stations, full)
    out: dict = {"stations": stations}
    with tenant_context(tenant):
        start_day = date(2025, 1, 1)
        out["report_year_s"], report = timed(
            lambda: selectors.report_build(
                actor=SYSTEM, start=start_day, end=start_day + timedelta(days=DAYS)
            )
        )
        out["report_rows"] = len(report.rows)
        out["profile_year_s"], profile = timed(
            lambda: selectors.load_profile(
                actor=SYSTEM, start=YEAR_START, end=YEAR_START + timedelta(days=DAYS)
            ),
            repeat=1 if stations >= 1000 else REPEAT,
        )
        out["profile_quarters"] = len(profile)

        raw_start, raw_end = ensure_raw(raw_days)

        def raw():
            with connection.cursor() as cursor:
                cursor.execute(RAW_PROFILE, [raw_start, raw_end])
                return cursor.fetchall()

        out["raw_days"] = raw_days
        out["raw_profile_s"], raw_rows = timed(raw)
        out["rollup_profile_same_days_s"], _ = timed(
            lambda: selectors.load_profile(actor=SYSTEM, start=raw_start, end=raw_end)
        )
        out["raw_quarters"] = len(raw_rows)

        # Ingest: one quarter of every port recomputed from its 15 readings; one minute of
        # readings from every port scanned.
        middle = raw_start + timedelta(hours=12)
        ports = list(Evse.objects.values_list("pk", flat=True))
        out["recompute_s"], _ = timed(
            lambda: services.rollup_recompute(pairs=[(p, middle) for p in ports], now=raw_end)
        )
        from apps.reports.models import RollupCursor

        cursor_row, _ = RollupCursor.objects.get_or_create(singleton=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT max(id) FROM charging_metervalue WHERE timestamp < %s",
                [raw_end - timedelta(minutes=1)],
            )
            last_minute_from = cursor.fetchone()[0]
        RollupCursor.objects.filter(pk=cursor_row.pk).update(
            meter_value_id=last_minute_from, status_change_id=10**12, session_cost_id=10**12
        )
        started = time.perf_counter()
        seen = services.rollup_scan(now=raw_end)
        out["scan_s"] = time.perf_counter() - started
        out["scan_rows"] = seen
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM reports_rollupdirty")
        if full:
            out.update(bench_retention(raw_start))
    per_port_recompute = out["recompute_s"] / stations
    per_row_scan = out["scan_s"] / max(1, out["scan_rows"])
    # 10,000 stations: 10,000 readings a minute scanned; each open quarter recomputed once
    # per catch-up (every CATCH_UP_DELAY seconds).
    from apps.reports.tasks import CATCH_UP_DELAY

    recomputes_per_minute = 10_000 * 60 / CATCH_UP_DELAY
    out["ingest_core_share_10k"] = (
        10_000 * per_row_scan + recomputes_per_minute * per_port_recompute
    ) / 60
    return out


class _Rollback(Exception):
    pass


def bench_retention(raw_start: datetime) -> dict:
    """Raw retention deleting the first raw day (its sessions ended then, its quarters rolled
    up), timed inside a transaction that is rolled back so the raw days stay for the next run."""
    from django.db import transaction

    from apps.charging.models import ChargingSession, MeterValue
    from apps.reports import selectors, services

    cutoff = raw_start + timedelta(days=1)
    days = selectors.report_settings().raw_retention_days
    out: dict = {}
    try:
        with transaction.atomic():
            ChargingSession.objects.update(ended_at=cutoff - timedelta(minutes=1))
            out["retention_candidates"] = MeterValue.objects.filter(timestamp__lt=cutoff).count()
            started = time.perf_counter()
            out["retention_deleted"] = services.raw_retention_run(now=cutoff + timedelta(days=days))
            out["retention_s"] = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--raw-days", type=int, default=2)
    parser.add_argument(
        "--full-up-to",
        type=int,
        default=100,
        help="generate port quarters for sizes up to this many stations (slow)",
    )
    args = parser.parse_args()
    setup_django("chargegrid_bench_reports")
    for stations in args.stations:
        r = bench_size(stations, args.raw_days, stations <= args.full_up_to)
        print(f"{stations} stations x 1 year:")
        print(
            f"  energy report (per site, daily series, totals, previous year), day rollups: "
            f"{r['report_year_s'] * 1000:.0f} ms ({r['report_rows']} sites)"
        )
        print(
            f"  15-minute load profile of the year, 15-minute rollups: "
            f"{r['profile_year_s'] * 1000:.0f} ms ({r['profile_quarters']} quarters)"
        )
        print(
            f"  {r['raw_days']} days, energy per quarter: raw readings "
            f"{r['raw_profile_s'] * 1000:.0f} ms vs rollups "
            f"{r['rollup_profile_same_days_s'] * 1000:.1f} ms ({r['raw_quarters']} quarters); "
            f"raw for a year would read {DAYS / r['raw_days']:.0f}x more rows"
        )
        print(
            f"  ingest: recompute {stations} port-quarters {r['recompute_s'] * 1000:.0f} ms, "
            f"scan {r['scan_rows']} new readings {r['scan_s'] * 1000:.0f} ms -> "
            f"10,000 stations at 60 s: {r['ingest_core_share_10k'] * 100:.1f} % of one core"
        )
        if "retention_s" in r:
            print(
                f"  raw retention: {r['retention_deleted']} of {r['retention_candidates']} "
                f"readings of the first raw day deleted in {r['retention_s'] * 1000:.0f} ms "
                f"({r['retention_deleted'] / max(r['retention_s'], 1e-9):,.0f} rows/s)"
            )


if __name__ == "__main__":
    main()
