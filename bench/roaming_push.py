"""Benchmark: EVSE status pushes fanned out to 5 partners at 100 status changes per second.

Run (the database and tenant of ``bench/roaming_locations.py``; made if missing)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_roaming_bench \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
    .venv/bin/python bench/roaming_push.py [--rate 100] [--seconds 10] [--partners 5] \\
        [--concurrency 16]

Five eMSP peers (``tests/roaming/emsp_peer.py``, each its own process) are registered as
connected partners.  The bench changes EVSE statuses at ``--rate`` per second the way the OCPP
adapter does (``evse_set_status`` in a transaction: the push rows are written in it and queued
after commit), while one Celery worker (thread pool of ``--concurrency``) sends them.  It
prints the rate reached, the backlog when the changes stop, how long the backlog takes to
drain, and the delay from status change to delivery (p50 / p95 / max), and checks that every
peer received every change exactly once.  "Not falling behind": the backlog stays small and
the delay flat while the changes go on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("ROAMING_ALLOW_PRIVATE_NETWORKS", "true")

from _common import free_port, percentile, setup_django  # noqa: E402

PEER = ROOT / "tests" / "roaming" / "emsp_peer.py"


def control(port: int, name: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_control/{name}", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def start_peers(count: int) -> list[tuple[int, subprocess.Popen]]:
    peers = []
    for _ in range(count):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, str(PEER), "--port", str(port)], stdout=subprocess.DEVNULL
        )
        peers.append((port, process))
    for port, _ in peers:
        for _ in range(100):
            try:
                control(port, "state")
                break
            except OSError:
                time.sleep(0.05)
    return peers


def start_worker(concurrency: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "config.celery", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
        "--without-mingle", "--without-heartbeat", "-n", f"roaming-bench-{os.getpid()}@localhost",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--partners", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] or "cg_roaming_bench"
    setup_django(database)

    from django.db import transaction
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.roaming.choices import PartnerStatus, PushStatus
    from apps.roaming.models import Partner, Push
    from apps.stations.models import Evse, Station
    from apps.stations.services import evse_set_status
    from apps.tenants.models import Tenant
    from bench.roaming_locations import prepare

    prepare(10_000)
    tenant = Tenant.objects.get(slug="bench-roaming")
    peers = start_peers(args.partners)
    worker = start_worker(args.concurrency)
    try:
        with tenant_context(tenant):
            Partner.objects.all().delete()
            Station.objects.update(is_online=True)
            for n, (port, _) in enumerate(peers):
                token = f"bench-peer-{n}"
                control(port, "set", {"issued_token": token})
                base = f"http://127.0.0.1:{port}/ocpi/2.2.1"
                Partner.objects.create(
                    name=f"Peer {n}", country_code="NL", party_id=f"P{n:02d}", roles=["EMSP"],
                    status=PartnerStatus.CONNECTED, version="2.2.1",
                    incoming_token=f"in-{n}-{time.time()}", outgoing_token=token,
                    endpoints=[{"identifier": "locations", "role": "RECEIVER",
                                "url": f"{base}/locations"}],
                )  # fmt: skip
            evses = list(Evse.objects.select_related("station").order_by("pk")[:1000])
            time.sleep(2)  # the worker connects to the broker
            started = timezone.now()
            t0 = time.perf_counter()
            total = int(args.rate * args.seconds)
            backlog_samples = []
            for n in range(total):
                due = t0 + n / args.rate
                if (wait := due - time.perf_counter()) > 0:
                    time.sleep(wait)
                evse = evses[n % len(evses)]
                status = "Available" if evse.status == "Charging" else "Charging"
                with transaction.atomic():
                    evse_set_status(evse=evse, status=status, at=timezone.now())
                    evse.status = status
                if n % int(args.rate) == 0:
                    backlog_samples.append(
                        Push.objects.filter(created_at__gte=started)
                        .exclude(status=PushStatus.SUCCEEDED)
                        .count()
                    )
            produced_in = time.perf_counter() - t0
            pushes = Push.objects.filter(created_at__gte=started)
            backlog_at_end = pushes.exclude(status=PushStatus.SUCCEEDED).count()
            drain_started = time.perf_counter()
            while pushes.exclude(status=PushStatus.SUCCEEDED).exists():
                if time.perf_counter() - drain_started > 120:
                    break
                time.sleep(0.1)
            drained_in = time.perf_counter() - drain_started
            rows = list(pushes.values_list("created_at", "delivered_at", "status", "attempts"))
        delays = [(d - c).total_seconds() for c, d, s, _ in rows if d is not None]
        delivered = sum(1 for *_, s, _a in rows if s == PushStatus.SUCCEEDED)
        retried = sum(1 for *_, a in rows if a > 1)
        received = [len(control(port, "state")["received"]) for port, _ in peers]
        print(
            f"{total} status changes in {produced_in:.1f} s ({total / produced_in:.0f}/s), "
            f"{args.partners} partners, {len(rows)} pushes; Celery worker: threads x "
            f"{args.concurrency}"
        )
        print(f"backlog each second: {backlog_samples}; at the end: {backlog_at_end}; "
              f"drained in {drained_in:.1f} s")  # fmt: skip
        print(
            f"delivered {delivered}/{len(rows)} (retried {retried}); change-to-delivery delay "
            f"p50 {percentile(delays, 50):.2f} s, p95 {percentile(delays, 95):.2f} s, "
            f"max {max(delays, default=float('nan')):.2f} s"
        )
        print(f"received by each peer: {received} (expected {total} each)")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        for _, process in peers:
            process.terminate()


if __name__ == "__main__":
    main()
