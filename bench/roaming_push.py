"""Benchmark: EVSE status pushes fanned out to 5 partners at 100 status changes per second.

Run (the database and tenant of ``bench/roaming_locations.py``; made if missing)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_roaming_bench \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
    .venv/bin/python bench/roaming_push.py [--rate 100] [--seconds 10] [--partners 5] \\
        [--concurrency 16]

Five eMSP peers (``tests/roaming/emsp_peer.py``, each its own process) are registered as
connected partners.  The producer makes ``--rate`` status changes per second in transactions of
``--batch-ms`` worth of changes: the EVSE rows updated in bulk and, per EVSE, the event the
core's ``evse_set_status`` emits, with roaming's handler the only one subscribed in the bench
process (it writes the push rows in that transaction; they are queued after commit).  A
baseline measured first in the same run: the per-change path (``evse_set_status``, one
transaction per change, every feature's reaction in the producer), which reaches only a few
changes per second on a shared machine.  ``--workers`` Celery workers (thread pools of
``--concurrency``) send the pushes.  It prints the rate reached, the backlog each second and
when the changes stop, how long the backlog takes to drain, and the delay from status change
to delivery (p50 / p95 / max), and checks that every peer received every change exactly once.
"Not falling behind": the backlog stays small and the delay flat while the changes go on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
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


def start_worker(concurrency: int, number: int = 0) -> subprocess.Popen:
    name = f"roaming-bench-{os.getpid()}-{number}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "config.celery", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
        "--without-mingle", "--without-heartbeat", "-n", name,
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ))


def only_roaming_reacts() -> None:
    """Leave roaming's status handler the only subscriber of ``station.status_changed`` in
    this process: the other features' reactions (power, monitoring, webhooks, reports, ...) run
    in the production process of the OCPP adapter, not in the roaming outbox path measured
    here, and made the per-change producer reach only 3-4 changes/s on this machine."""
    from apps.core import events
    from apps.roaming import handlers

    for registry in (events._handlers, events._in_transaction_handlers):  # noqa: SLF001
        for handler in list(registry[events.STATUS_CHANGED]):
            if handler is not handlers.on_status_changed:
                events.unsubscribe(events.STATUS_CHANGED, handler)


def produce_batch(evses, statuses: dict[int, str], at) -> None:
    """One transaction: the EVSEs' new statuses written in bulk and, per EVSE, the event the
    core's ``evse_set_status`` emits (roaming writes its push rows in this transaction)."""
    from django.db import transaction

    from apps.core import events
    from apps.stations.choices import LIVE_STATE_OF_STATUS, LiveState
    from apps.stations.models import Evse

    with transaction.atomic():
        for status in set(statuses.values()):
            Evse.objects.filter(pk__in=[pk for pk, s in statuses.items() if s == status]).update(
                status=status, status_changed_at=at
            )
        for evse in evses:
            status = statuses[evse.pk]
            events.emit(
                events.STATUS_CHANGED,
                station_id=evse.station_id,
                evse_id=evse.evse_id,
                status=status,
                live_state=LIVE_STATE_OF_STATUS.get(status, LiveState.UNAVAILABLE),
            )
            evse.status = status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--partners", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--batch-ms", type=float, default=100, help="one transaction per tick")
    parser.add_argument(
        "--evses",
        type=int,
        default=2000,
        help="EVSEs the changes cycle through (fewer: each changes often, and is coalesced)",
    )
    parser.add_argument(
        "--pool",
        type=int,
        default=8,
        help="requests in flight per partner (ROAMING_PUSH_CONCURRENCY)",
    )
    parser.add_argument(
        "--producers", type=int, default=4, help="threads making the changes (as OCPP workers)"
    )
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] or "cg_roaming_bench"
    os.environ["ROAMING_PUSH_CONCURRENCY"] = str(args.pool)  # the workers read it
    setup_django(database)

    from django.db import transaction
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.roaming.choices import PartnerStatus, PushStatus
    from apps.roaming.selectors import EVSE_STATUS

    DONE = [PushStatus.SUCCEEDED, PushStatus.SUPERSEDED]
    from apps.roaming.models import Partner, Push
    from apps.stations.models import Evse, Station
    from apps.stations.services import evse_set_status
    from apps.tenants.models import Tenant
    from bench.roaming_locations import prepare

    prepare(10_000)
    tenant = Tenant.objects.get(slug="bench-roaming")
    peers = start_peers(args.partners)
    workers = [start_worker(args.concurrency, n) for n in range(args.workers)]
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
            evses = list(
                Evse.objects.select_related("station").order_by("pk")[: max(args.evses, 10)]
            )
            load_before = os.getloadavg()
            time.sleep(3)  # the workers connect to the broker

            def toggled(evse):
                return "Available" if evse.status == "Charging" else "Charging"

            # Baseline, same run: the per-change path (evse_set_status, one transaction per
            # change, every feature's reaction in this process), for 3 seconds.
            baseline_start, baseline_changes = time.perf_counter(), 0
            baseline_from = timezone.now()
            while time.perf_counter() - baseline_start < 3:
                evse = evses[-1 - baseline_changes]
                with transaction.atomic():
                    evse_set_status(evse=evse, status=toggled(evse), at=timezone.now())
                baseline_changes += 1
            baseline_rate = baseline_changes / (time.perf_counter() - baseline_start)
            while (
                Push.objects.filter(created_at__gte=baseline_from)
                .exclude(status=PushStatus.SUCCEEDED)
                .exists()
            ):
                time.sleep(0.1)
            baseline_pushes = Push.objects.filter(created_at__gte=baseline_from).count()
            only_roaming_reacts()
            for port, _ in peers:
                control(port, "set", {"received": []})

            started = timezone.now()
            t0 = time.perf_counter()
            total = int(args.rate * args.seconds)
            per_batch = max(1, round(args.rate * args.batch_ms / 1000))
            batches = [
                [evses[(n + i) % len(evses)] for i in range(min(per_batch, total - n))]
                for n in range(0, total, per_batch)
            ]

            lock = threading.Lock()  # two producers may hold the same EVSE (few EVSEs)

            def producer(index: int) -> None:
                # Django connections are per thread: this one's in the bench tenant too.
                from django.db import connection

                connection.set_tenant(tenant)
                try:
                    for number in range(index, len(batches), args.producers):
                        due = t0 + number * per_batch / args.rate
                        if (wait := due - time.perf_counter()) > 0:
                            time.sleep(wait)
                        batch = batches[number]
                        with lock:
                            statuses = {e.pk: toggled(e) for e in batch}
                        produce_batch(batch, statuses, timezone.now())
                finally:
                    connection.close()

            threads = [
                threading.Thread(target=producer, args=(index,), daemon=True)
                for index in range(args.producers)
            ]
            for thread in threads:
                thread.start()
            backlog_samples = []
            while any(thread.is_alive() for thread in threads):
                time.sleep(1.0)
                backlog_samples.append(
                    Push.objects.filter(created_at__gte=started).exclude(status__in=DONE).count()
                )
            produced_in = time.perf_counter() - t0
            pushes = Push.objects.filter(created_at__gte=started)
            backlog_at_end = pushes.exclude(status__in=DONE).count()
            drain_started = time.perf_counter()
            while pushes.exclude(status__in=DONE).exists():
                if time.perf_counter() - drain_started > 120:
                    break
                time.sleep(0.1)
            drained_in = time.perf_counter() - drain_started
            load_after = os.getloadavg()
            rows = list(pushes.values_list("created_at", "delivered_at", "status", "attempts"))
            final = {
                f"{evse.station_id}-{evse.evse_id}": evse.status
                for evse in Evse.objects.filter(pk__in=[e.pk for e in evses])
            }
        delays = [(d - c).total_seconds() for c, d, s, _ in rows if d is not None]
        late = [(d - c).total_seconds() for c, d, s, _ in rows[: len(rows) // 2] if d]
        delivered = sum(1 for *_, s, _a in rows if s == PushStatus.SUCCEEDED)
        superseded = sum(1 for *_, s, _a in rows if s == PushStatus.SUPERSEDED)
        retried = sum(1 for *_, a in rows if a > 1)
        states = [control(port, "state") for port, _ in peers]
        received = [len(state["received"]) for state in states]
        # every peer ends with every EVSE's final status (the newest state reached it)
        stale = 0
        for state in states:
            last = {}
            for record in state["received"]:
                last[record["path"].rsplit("/", 1)[-1]] = record["body"]["status"]
            stale += sum(
                1 for uid, status in last.items() if EVSE_STATUS.get(final.get(uid)) != status
            )
        duplicates = sum(
            len(state["received"]) - len({json.dumps(r["body"]) + r["path"] for r in state["received"]})
            for state in states
        )  # fmt: skip
        print(
            f"baseline (same run): the per-change path, evse_set_status with every feature's "
            f"reaction in the producer: {baseline_rate:.1f} changes/s, {baseline_pushes} pushes"
        )
        print(
            f"{total} status changes in {produced_in:.1f} s ({total / produced_in:.0f}/s, "
            f"{per_batch} per transaction, {args.producers} producer threads), {args.partners} partners, {len(rows)} pushes; "
            f"Celery: {args.workers} worker(s), threads x {args.concurrency}"
        )
        print(f"backlog each second: {backlog_samples}; at the end: {backlog_at_end}; "
              f"drained in {drained_in:.1f} s")  # fmt: skip
        print(
            f"delivered {delivered}/{len(rows)} (retried {retried}); change-to-delivery delay "
            f"p50 {percentile(delays, 50):.2f} s, p95 {percentile(delays, 95):.2f} s, "
            f"max {max(delays, default=float('nan')):.2f} s; first half p95 "
            f"{percentile(late, 95):.2f} s"
        )
        print(
            f"received by each peer: {received} ({total} changes each, {superseded} pushes "
            f"superseded by a newer status of their EVSE before they were sent); duplicates: "
            f"{duplicates}; EVSEs whose last status received differs from the final one: {stale}"
        )
        print(
            f"load average (1, 5, 15 min) before: {load_before[0]:.1f} {load_before[1]:.1f} "
            f"{load_before[2]:.1f}, after: {load_after[0]:.1f} {load_after[1]:.1f} "
            f"{load_after[2]:.1f}; {args.evses} EVSEs, pool {args.pool} per partner"
        )
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)
        for _, process in peers:
            process.terminate()


if __name__ == "__main__":
    main()
