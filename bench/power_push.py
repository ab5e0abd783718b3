"""Benchmark: charging profiles pushed per second through real connections.

A uvicorn + Channels server process, N simulated OCPP stations (apps.simulator) connected to it
over websockets, one session each on one power node; this process plays the Celery worker and
sends through the core's command service (``apps.ocpp.commands.station_call``), as in
production.  Three rebalances are timed: every session gets its first TxProfile; a lower limit
on the node lowers everyone (reductions); the limit is lifted (increases).  Run::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_power_bench \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/power_push.py --stations 50

The database is created and migrated on first use (it takes a minute), then reused.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


class LoopThread:
    """The simulated stations' event loop, next to this synchronous worker."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def ensure_database(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg

    from config.embedded import with_database

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def ensure_tenant():
    from django.core.management import call_command

    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    call_command("migrate", interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(slug="powerbench").first()
    if tenant is None:
        tenant = tenant_create(
            name="Power bench",
            slug="powerbench",
            admin_email="owner@powerbench.test",
            admin_password=None,
            timezone="America/Montreal",
        )
    return tenant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=None, help="profiles in flight")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
        sys.exit("Set DATABASE_URL and REDIS_URL (see the docstring).")
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from dataclasses import replace
    from datetime import timedelta

    from django_tenants.utils import tenant_context

    from apps.charging.models import ChargingSession
    from apps.charging.services import token_create
    from apps.power import selectors, services
    from apps.power.choices import LimitSource, NodeKind
    from apps.simulator.physics import Vehicle
    from apps.simulator.station import SimulatedStation, StationConfig
    from apps.stations.services import site_create, station_register
    from tests.live import ServerProcess

    tenant = ensure_tenant()
    if args.concurrency:
        services.PUSH_CONCURRENCY = args.concurrency
    # Raises within a minute of a change are held back in production; not in a benchmark.
    selectors.POLICY = replace(selectors.POLICY, raise_interval=timedelta(0), hysteresis_da=0)
    tag = uuid.uuid4().hex[:6].upper()
    password = f"pw-{tag.lower()}-0123456789"
    count = args.stations
    with tenant_context(tenant):
        site = site_create(name=f"Bench {tag}", timezone="America/Montreal")
        node = services.power_node_create(
            site=site,
            name="Panel",
            kind=NodeKind.PANEL,
            rating_a=Decimal(32 * count),
            continuous_factor=Decimal("1.00"),
        )
        stations = []
        for index in range(count):
            station = station_register(
                identity=f"PB-{tag}-{index:03d}", password=password, site=site
            )
            services.station_power_set(station=station, node=node)
            token_create(uid=f"PB{tag}{index:03d}")
            stations.append(station)

    server = ServerProcess("power-bench").start()
    loop = LoopThread()
    simulated = [
        SimulatedStation(
            StationConfig(
                identity=station.identity,
                url=f"{server.ws}/ocpp/",
                password=password,
                version="1.6" if index % 2 == 0 else "2.0.1",
            )
        )
        for index, station in enumerate(stations)
    ]
    try:
        for station in simulated:
            assert loop.run(station.connect()) == "Accepted"
        with tenant_context(tenant):
            for station in stations:
                services.station_power_connect(station_id=station.pk)
        for index, station in enumerate(simulated):
            loop.run(station.plug_in(1, Vehicle(soc=20)))
            loop.run(station.start_session(1, f"PB{tag}{index:03d}"))
        with tenant_context(tenant):
            deadline = time.monotonic() + 30
            while ChargingSession.objects.filter(station__site=site).count() < count:
                if time.monotonic() > deadline:
                    raise RuntimeError("The sessions did not all start")
                time.sleep(0.1)
            for session_id in ChargingSession.objects.filter(station__site=site).values_list(
                "pk", flat=True
            ):
                services.session_power_start(session_id=session_id)

            print(
                f"{count} stations (half OCPP 1.6, half 2.0.1), one session each, "
                f"{services.PUSH_CONCURRENCY} profiles in flight"
            )

            def timed(label: str) -> None:
                started = time.perf_counter()
                outcome = services.site_rebalance(site_id=site.pk)
                elapsed = time.perf_counter() - started
                print(
                    f"{label:<22} {outcome.pushed:4d} pushed, {outcome.failed} failed in "
                    f"{elapsed:6.2f} s: {outcome.pushed / elapsed:6.1f} profiles/s"
                )

            timed("first profiles")
            override = services.limit_override_create(
                node=node, source=LimitSource.MANUAL, limit_a=Decimal(8 * count)
            )
            timed("lower limit (down)")
            services.limit_override_end(override=override)
            timed("limit lifted (up)")
    finally:
        for station in simulated:
            try:
                loop.run(station.close(), timeout=10)
            except Exception as error:  # a station that already dropped its socket
                print(f"{station.identity}: {error}", file=sys.stderr)
        loop.stop()
        server.stop()


if __name__ == "__main__":
    main()
