"""Benchmark of the public station finder with 10,000 stations, against a trivial view.

Run (any database you may write to; a tenant ``bench-finder`` is created there once)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_drivers \\
    REDIS_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/python bench/finder.py [--stations 10000] [--seconds 5]

What is measured, in the same run, on one uvicorn process (``config.asgi``, production
settings), one client at a time (the time is the server's: the client is on this machine):

* ``trivial view``: ``GET /healthz`` (the baseline);
* ``finder page``: ``GET /drivers/`` (the list and the map's page, first response);
* ``finder, ranked``: ``GET /drivers/?near=<coordinates>`` (every station ranked from a place,
  the 20 best priced through billing's DRIVER_PRICE, the 30 best listed);
* ``finder, filtered``: ranked, CCS1 >= 50 kW free now;
* ``ranked, many places``: ranked from a different place (within the network) each time, so
  no ranking is shared between requests;
* ``stations.json``: every station with its availability (the map's markers).

Meanwhile stations keep changing: ``--changes`` per second (20 by default), each written to
the finder's journal as the station events do (``apps.drivers.journal.record``), so the
server's snapshot is brought up to date every half second as in production.  The load
average is printed before and after (the machine is shared).

Then, in this process, the parts: the two availability queries and the ranking in Python.
Target (issue 20): first response < 200 ms server time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402
from _common import free_port  # noqa: E402
from _http import load, start_server  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_exists, tenant_context  # noqa: E402

SLUG = "bench-finder"
OWNER = "owner@bench-finder.test"
STATIONS_PER_SITE = 4
CONNECTORS = [("cType2", 7400), ("cType2", 22000), ("cCCS1", 50000), ("cCCS1", 150000)]


def prepare(stations: int):
    """The bench tenant with ``stations`` stations (2 ports each, 4 per site) spread over
    southern Québec, every site in the finder, one public tariff; returns its host."""
    import datetime as dt

    from apps.billing import services as billing
    from apps.drivers.models import FinderListing
    from apps.stations.models import Connector, Evse, Site, Station
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    if (
        not schema_exists("public")
        or "tenants_tenant" not in connection.introspection.table_names()
    ):
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant = tenant_create(
            name="Bench finder", slug=SLUG, admin_email=OWNER, admin_password=None
        )
    with tenant_context(tenant):
        if Station.objects.count() != stations:
            print(f"creating {stations} stations ...", flush=True)
            Connector.objects.all().delete()
            Evse.objects.all().delete()
            Station.objects.all().delete()
            FinderListing.objects.all().delete()
            Site.objects.all().delete()
            rng = random.Random(20)
            sites = Site.objects.bulk_create(
                [
                    Site(
                        name=f"Finder site {n:05}",
                        city="Montréal" if n % 3 else "Québec",
                        latitude=f"{rng.uniform(45.0, 47.0):.6f}",
                        longitude=f"{rng.uniform(-74.5, -71.0):.6f}",
                        timezone="America/Montreal",
                    )
                    for n in range(stations // STATIONS_PER_SITE)
                ]
            )
            FinderListing.objects.bulk_create(
                [
                    FinderListing(site=site, access="members" if n % 7 == 0 else "public")
                    for n, site in enumerate(sites)
                ]
            )
            rows = Station.objects.bulk_create(
                [
                    Station(
                        identity=f"FINDER-{n:05}",
                        name=f"Borne {n:05}",
                        site=sites[n // STATIONS_PER_SITE],
                        ocpp_version="1.6",
                        is_online=n % 10 != 0,
                    )
                    for n in range(stations)
                ]
            )
            statuses = ["Available", "Charging", "Available", "Faulted", "Finishing"]
            evses = Evse.objects.bulk_create(
                [
                    Evse(
                        station=station,
                        evse_id=port,
                        status=statuses[(n + port) % len(statuses)],
                        max_power_w=CONNECTORS[n % len(CONNECTORS)][1],
                    )
                    for n, station in enumerate(rows)
                    for port in (1, 2)
                ]
            )
            Connector.objects.bulk_create(
                [
                    Connector(evse=evse, connector_id=1, connector_type=CONNECTORS[n // 2 % 4][0])
                    for n, evse in enumerate(evses)
                ]
            )
            tariff = billing.tariff_create(
                name="Public",
                definition={
                    "currency": "CAD",
                    "session_fee": "0.50",
                    "energy": [{"price_per_kwh": "0.30"}],
                },
                effective_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            )
            for site in sites[:: max(1, len(sites) // 50)]:
                billing.tariff_assign(tariff=tariff, site=site)
    connection.set_schema_to_public()
    return tenant.get_primary_domain().domain, tenant


def first_request(port: int, host: str, path: str) -> float:
    """Milliseconds of one request of ``path`` (the first since the server started for it)."""
    import http.client

    from _http import PROXY

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Host": host, **PROXY})
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{response.status} {path}")
    return elapsed


def load_places(port: int, host: str, paths: list[str], seconds: float):
    """Like ``_http.load`` with one client, each request to the next of ``paths``."""
    import http.client

    from _http import PROXY

    latencies, biggest = [], 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    stop_at = time.monotonic() + seconds
    n = 0
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        conn.request("GET", paths[n % len(paths)], headers={"Host": host, **PROXY})
        response = conn.getresponse()
        biggest = max(biggest, len(response.read()))
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise SystemExit(f"{response.status} {paths[n % len(paths)]}")
        n += 1
    conn.close()
    latencies.sort()
    return (
        len(latencies) / seconds,
        latencies[len(latencies) // 2],
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
        biggest,
    )


def keep_changing(tenant, per_second: float, stop) -> None:
    """Stations change: their fresh rows go to the journal, as the live feed's handler does."""
    from apps.drivers import journal, selectors
    from apps.stations.models import Station

    with tenant_context(tenant):
        ids = list(Station.objects.values_list("pk", flat=True))
        rng = random.Random(7)
        while not stop.is_set():
            row = selectors.finder_station(station_id=rng.choice(ids))
            if row is not None:
                row["free"] = rng.randint(0, 2)
                journal.record(tenant.schema_name, row)
            stop.wait(1 / per_second)
    connection.close()


def parts(tenant) -> None:
    """The finder's work in this process, without HTTP: queries, ranking."""
    from django.utils import timezone

    from apps.drivers import selectors

    with tenant_context(tenant):
        for _ in range(2):  # warm
            stations = selectors.finder_stations()
        timings = {
            "availability (2 queries)": [],
            "ranking 10k in Python (no price)": [],
            "  the same, exhaustive": [],
        }
        for _ in range(5):
            started = time.perf_counter()
            stations = selectors.finder_stations(now=timezone.now())  # not the kept snapshot
            timings["availability (2 queries)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            selectors.rank(
                stations,
                origin=(45.5089, -73.5617),
                prefs=selectors.Preferences(),
                price=lambda _: None,
            )
            timings["ranking 10k in Python (no price)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            selectors.rank(
                stations,
                origin=(45.5089, -73.5617),
                prefs=selectors.Preferences(),
                price=lambda _: None,
                exhaustive=True,
            )
            timings["  the same, exhaustive"].append(time.perf_counter() - started)
        for name, values in timings.items():
            values.sort()
            print(f"  {name:<36}{values[len(values) // 2] * 1000:>8.1f} ms (median of 5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--changes", type=float, default=20, help="station changes per second")
    args = parser.parse_args()
    import threading

    host, tenant = prepare(args.stations)
    port = free_port()
    server = start_server(port, collectstatic=True)
    near = "/drivers/?near=45.5089%2C-73.5617"
    cases = [
        ("trivial view (/healthz)", "/healthz"),
        ("finder page", "/drivers/"),
        ("finder, ranked", near),
        ("finder, filtered", near + "&connector=cCCS1&min_kw=50&free=on"),
        ("stations.json", "/drivers/stations.json"),
    ]
    stop = threading.Event()
    changer = None
    if args.changes > 0:
        changer = threading.Thread(target=keep_changing, args=(tenant, args.changes, stop))
        changer.start()
    rng = random.Random(11)
    places = [
        f"/drivers/?near={rng.uniform(45.0, 47.0):.4f}%2C{rng.uniform(-74.5, -71.0):.4f}"
        for _ in range(500)
    ]
    try:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"{args.stations} stations, one client, {args.seconds:g} s per case, one uvicorn "
            f"process, {args.changes:g} station changes/s"
        )
        print(f"{'case':<26}{'first ms':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'KiB':>8}")
        for name, path in cases:
            first = first_request(port, host, path)
            r = load(port, host, path, {}, args.seconds, 1)
            print(
                f"{name:<26}{first:>9.1f}{r.rate:>8.1f}{r.p50:>9.1f}{r.p95:>9.1f}"
                f"{r.max_bytes / 1024:>8.0f}"
            )
            if name == "finder, filtered":
                first = first_request(port, host, places[-1])
                rate, p50, p95, size = load_places(port, host, places, args.seconds)
                print(
                    f"{'ranked, many places':<26}{first:>9.1f}{rate:>8.1f}{p50:>9.1f}{p95:>9.1f}"
                    f"{size / 1024:>8.0f}"
                )
        stop.set()
        print("parts, in this process:")
        parts(tenant)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        stop.set()
        if changer is not None:
            changer.join(timeout=10)
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
