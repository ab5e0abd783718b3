"""Benchmark: waitlist promotion latency, from a port's StatusNotification(Available) sent by the
station to the ReserveNow the station receives for the next driver.

Real parts: a uvicorn + Channels server process, Celery worker processes (thread pool), Redis,
PostgreSQL, and one OCPP 1.6 websocket client per station (the `ocpp` library).  The set-up:
``--queues`` queues of one station (one busy port) each, ``--drivers`` drivers waiting in each;
then ``--rate`` ports are freed per second (each station at most once) for ``--duration`` s.
The target (issue 15): 1,000 queues x 20 drivers, 100 ports/s, p99 < 1 s.  Run::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_waitlist_bench \\
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/waitlist_promotion.py

The database is created and migrated on first use, then reused.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("CHARGEGRID_CHANNEL_PREFIX", f"cgbench{os.getpid()}")

from bench._common import percentile, raise_fd_limit, summary  # noqa: E402

SLUG = "wlbench"


def ensure_database(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg

    from config.embedded import with_database

    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def ensure_tenant():
    from django.core.management import call_command

    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    call_command("migrate_schemas", interactive=False, verbosity=0)
    return Tenant.objects.filter(slug=SLUG).first() or tenant_create(
        name="Waitlist bench",
        slug=SLUG,
        admin_email="owner@wlbench.test",
        admin_password=None,
        timezone="America/Montreal",
    )


def build(tenant, *, queues: int, drivers: int, tag: str, password: str) -> list[str]:
    """Queues of one station each, the port busy, ``drivers`` tokens waiting (bulk rows)."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.charging.models import IdToken
    from apps.stations.models import Evse
    from apps.stations.services import site_create, station_register
    from apps.waitlist.models import WaitlistEntry, WaitlistGroup

    identities = []
    with tenant_context(tenant):
        site = site_create(name=f"Bench {tag}", timezone="America/Montreal")
        for index in range(queues):
            identity = f"WB-{tag}-{index:04d}"
            station = station_register(identity=identity, password=password, site=site)
            group = WaitlistGroup.objects.create(site=site, name=f"Q{index:04d}", hold_minutes=10)
            group.stations.add(station)
            identities.append(identity)
        Evse.objects.filter(station__site=site).update(status="Charging")
        now = timezone.now()
        IdToken.objects.bulk_create(
            IdToken(uid=f"{tag}{q:04d}{d:02d}") for q in range(queues) for d in range(drivers)
        )
        groups = list(WaitlistGroup.objects.filter(site=site).order_by("name"))
        WaitlistEntry.objects.bulk_create(
            WaitlistEntry(
                group=group,
                token_uid=f"{tag}{q:04d}{d:02d}",
                joined_via="api",
                joined_at=now,
                queued_at=now + dt.timedelta(milliseconds=d),
            )
            for q, group in enumerate(groups)
            for d in range(drivers)
        )
    return identities


def start_workers(count: int, processes: int) -> list[subprocess.Popen]:
    (ROOT / "var").mkdir(exist_ok=True)
    workers = []
    for index in range(count):
        log = open(ROOT / "var" / f"bench-waitlist-worker-{index}.log", "w")
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config.celery",
                    "worker",
                    # prefork: one event loop per process for the channel layer's replies
                    # (channels_redis is not safe across the threads of a thread pool)
                    "-P",
                    "prefork",
                    "-c",
                    str(processes),
                    "-n",
                    f"wlbench{index}-{uuid.uuid4().hex[:4]}@localhost",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "warning",
                ],
                cwd=ROOT,
                env={**os.environ},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


async def run_load(
    server, identities, password, *, rate: float, duration: float, connect_batch, settle: float
):
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint
    from ocpp.v16 import call as call16
    from ocpp.v16 import call_result as result16
    from websockets.asyncio.client import connect

    from tests.live import basic_auth

    received: dict[str, float] = {}
    last_message = [time.monotonic()]

    class Station(ChargePoint):
        """A station that answers what the platform asks of it on connect (access control's
        local-list sync), so that the connect storm is over before the ports are freed."""

        async def route_message(self, raw):
            last_message[0] = time.monotonic()
            return await super().route_message(raw)

        @on("ReserveNow")
        def reserve(self, connector_id, expiry_date, id_tag, reservation_id, **kw):
            received.setdefault(self.id, time.time())
            return result16.ReserveNow(status="Accepted")

        @on("GetConfiguration")
        def configuration(self, key=None, **kw):
            return result16.GetConfiguration(configuration_key=[], unknown_key=key or [])

        @on("GetLocalListVersion")
        def local_list_version(self, **kw):
            return result16.GetLocalListVersion(list_version=0)

        @on("SendLocalList")
        def send_local_list(self, **kw):
            return result16.SendLocalList(status="Accepted")

        @on("CancelReservation")
        def cancel(self, **kw):
            return result16.CancelReservation(status="Accepted")

    async def open_station(identity):
        ws = await connect(
            f"{server.ws}/ocpp/{identity}",
            subprotocols=["ocpp1.6"],
            additional_headers={"Authorization": basic_auth(identity, password)},
            open_timeout=60,
            ping_interval=None,
        )
        cp = Station(identity, ws)
        task = asyncio.create_task(cp.start())
        return cp, ws, task

    clients = []
    for start in range(0, len(identities), connect_batch):
        batch = identities[start : start + connect_batch]
        clients += await asyncio.gather(*(open_station(i) for i in batch))
    # The connect storm settles: every station's connect-time calls answered, then 5 s quiet.
    settle_deadline = time.monotonic() + settle
    while time.monotonic() < settle_deadline and time.monotonic() - last_message[0] < 5:
        await asyncio.sleep(0.5)
    print(f"connected {len(clients)} stations; quiet for 5 s", flush=True)
    frees = min(len(clients), int(rate * duration))
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}  # the baseline: the StatusNotification's own CallResult
    failed: list[str] = []

    async def free(cp):
        sent[cp.id] = time.time()
        try:
            await cp.call(
                call16.StatusNotification(connector_id=1, error_code="NoError", status="Available")
            )
        except Exception as error:  # noqa: BLE001 - counted and reported
            failed.append(f"{cp.id}: {type(error).__name__}")
            return
        answered[cp.id] = time.time()

    tasks = []
    began = time.monotonic()
    for index in range(frees):
        delay = began + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(free(clients[index][0])))
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + 30
    while len(received) < frees and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for _cp, ws, task in clients:
        task.cancel()
        await ws.close()
    latencies = [received[i] - sent[i] for i in sent if i in received]
    baseline = [answered[i] - sent[i] for i in answered]
    if failed:
        print(f"{len(failed)} StatusNotifications failed, e.g. {failed[:3]}")
    return frees, latencies, sent, received, baseline


def split(tenant, sent: dict[str, float], received: dict[str, float]) -> tuple[list, list]:
    """Where the time goes, from the held entries' claim time (``held_at``, written by the
    process that claimed): StatusNotification -> claim (server, event, hop, claim) and claim ->
    ReserveNow received (the command's round trip to the station)."""
    from django_tenants.utils import tenant_context

    from apps.waitlist.models import WaitlistEntry

    with tenant_context(tenant):
        claimed = dict(
            WaitlistEntry.objects.filter(
                status="held", held_evse__station__identity__in=list(sent)
            ).values_list("held_evse__station__identity", "held_at")
        )
    to_claim = [claimed[i].timestamp() - sent[i] for i in sent if i in claimed]
    to_station = [received[i] - claimed[i].timestamp() for i in received if i in claimed]
    return to_claim, to_station


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--drivers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0, help="ports freed per second")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=4, help="per worker (prefork)")
    parser.add_argument("--connect-batch", type=int, default=100)
    parser.add_argument(
        "--settle", type=float, default=180.0, help="at most this long for the connect storm"
    )
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
        sys.exit("Set DATABASE_URL and REDIS_URL (see the docstring).")
    raise_fd_limit()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from config.celery import app as celery_app
    from tests.live import ServerProcess

    tenant = ensure_tenant()
    tag = uuid.uuid4().hex[:5].upper()
    password = f"pw-{tag.lower()}-0123456789"
    started = time.monotonic()
    identities = build(tenant, queues=args.queues, drivers=args.drivers, tag=tag, password=password)
    print(
        f"built {args.queues} queues x {args.drivers} drivers in {time.monotonic() - started:.1f} s"
    )
    celery_app.control.purge()
    server = ServerProcess("waitlist-bench").start()
    workers = start_workers(args.workers, args.processes)
    try:
        deadline = time.monotonic() + 180
        while len(celery_app.control.ping(timeout=1.0) or []) < args.workers:
            if time.monotonic() > deadline:
                sys.exit("The workers did not start (var/bench-waitlist-worker-*.log)")
        time.sleep(2)  # their pool processes too
        frees, latencies, sent, received, baseline = asyncio.run(
            run_load(
                server,
                identities,
                password,
                rate=args.rate,
                duration=args.duration,
                connect_batch=args.connect_batch,
                settle=args.settle,
            )
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        server.stop()
    print(
        f"{frees} ports freed at {args.rate:g}/s; {len(latencies)} ReserveNow received "
        f"({frees - len(latencies)} missing)"
    )
    print(f"StatusNotification -> ReserveNow: {summary(latencies)}")
    print(f"baseline, same run: StatusNotification -> its CallResult: {summary(baseline)}")
    to_claim, to_station = split(tenant, sent, received)
    print(f"  of which StatusNotification -> driver claimed: {summary(to_claim)}")
    print(f"  of which claimed -> ReserveNow at the station:  {summary(to_station)}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    p99 = percentile(latencies, 99)
    print(
        f"target p99 < 1 s: {'met' if latencies and p99 < 1 and len(latencies) == frees else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
