"""Benchmark: how fast one partner's outbox drains (the delivery side alone, no producer).

Run (the database and tenant of ``bench/roaming_locations.py``; made if missing)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_roaming_bench \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
    .venv/bin/python bench/roaming_drain.py [--pushes 2000] [--evses 2000] [--pool 8]

``--pushes`` EVSE status pushes for one eMSP peer (its own process) are written to the outbox,
then drained in this process by ``services.push_drain`` (what the Celery task runs): claimed
in rounds of 500, coalesced, sent ``--pool`` at a time over kept-alive connections, recorded in
bulk.  With ``--evses`` smaller than ``--pushes`` each EVSE has several queued statuses and
only its newest is sent.  Baseline, same run: the previous path, one ``push_attempt`` per push
(a claim, a request and a save per push, as the old batch task did), for the first 300 pushes.
Prints pushes/s (wall) and this process's CPU per push, with the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("ROAMING_ALLOW_PRIVATE_NETWORKS", "true")

from _common import setup_django  # noqa: E402
from roaming_push import control, start_peers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=2000)
    parser.add_argument("--evses", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--baseline", type=int, default=300)
    args = parser.parse_args()
    os.environ["ROAMING_PUSH_CONCURRENCY"] = str(args.pool)
    database = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] or "cg_roaming_bench"
    setup_django(database)

    from django.conf import settings
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from apps.roaming import services
    from apps.roaming.choices import PartnerStatus, PushStatus
    from apps.roaming.models import Partner, Push
    from apps.tenants.models import Tenant
    from bench.roaming_locations import prepare

    settings.ROAMING_PUSH_CONCURRENCY = args.pool
    services._send = lambda entries: None  # noqa: SLF001 (drained here, not by Celery)
    prepare(10_000)
    tenant = Tenant.objects.get(slug="bench-roaming")
    ((port, process),) = start_peers(1)
    try:
        with tenant_context(tenant):
            Partner.objects.all().delete()
            control(port, "set", {"issued_token": "bench-drain"})
            base = f"http://127.0.0.1:{port}/ocpi/2.2.1"
            partner = Partner.objects.create(
                name="Peer", country_code="NL", party_id="P00", roles=["EMSP"],
                status=PartnerStatus.CONNECTED, version="2.2.1",
                incoming_token=f"in-{time.time()}", outgoing_token="bench-drain",
                endpoints=[{"identifier": "locations", "role": "RECEIVER",
                            "url": f"{base}/locations"}],
            )  # fmt: skip

            def enqueue(count: int, evses: int) -> None:
                for n in range(count):
                    services.push_enqueue(
                        partners=[partner], module="locations", method="PATCH",
                        path=f"/CA/BEN/LOC1/1-{n % evses}",
                        body={"status": "CHARGING" if n % 2 else "AVAILABLE", "n": n},
                        coalesce=True,
                    )  # fmt: skip

            load_before = os.getloadavg()
            # Baseline: one push_attempt per push (the previous delivery path).
            enqueue(args.baseline, args.baseline)
            ids = list(Push.objects.filter(partner=partner).values_list("pk", flat=True))
            wall, cpu = time.perf_counter(), time.process_time()
            for push_id in ids:
                services.push_attempt(push_id=push_id)
            base_wall, base_cpu = time.perf_counter() - wall, time.process_time() - cpu
            Push.objects.filter(partner=partner).delete()
            control(port, "set", {"received": []})

            enqueue(args.pushes, args.evses)
            wall, cpu = time.perf_counter(), time.process_time()
            delivered = services.push_drain(partner_id=partner.pk)
            drain_wall, drain_cpu = time.perf_counter() - wall, time.process_time() - cpu
            load_after = os.getloadavg()
            states = dict(
                Push.objects.filter(partner=partner).values_list("status").annotate(n=Count("pk"))
            )
            received = len(control(port, "state")["received"])
        print(
            f"baseline (same run), push_attempt one by one: {args.baseline} pushes in "
            f"{base_wall:.2f} s ({args.baseline / base_wall:.0f}/s), "
            f"CPU {1000 * base_cpu / args.baseline:.2f} ms per push"
        )
        print(
            f"drain: {args.pushes} pushes ({args.evses} EVSEs) in {drain_wall:.2f} s: "
            f"{delivered} sent ({delivered / drain_wall:.0f}/s), "
            f"{states.get(PushStatus.SUPERSEDED, 0)} superseded, "
            f"{args.pushes / drain_wall:.0f} pushes/s cleared; CPU "
            f"{1000 * drain_cpu / max(delivered, 1):.2f} ms per push sent; pool {args.pool}; "
            f"the peer received {received}; states {states}"
        )
        print(
            f"load average before: {load_before[0]:.1f} {load_before[1]:.1f} "
            f"{load_before[2]:.1f}, after: {load_after[0]:.1f} {load_after[1]:.1f} "
            f"{load_after[2]:.1f}"
        )
    finally:
        process.terminate()


if __name__ == "__main__":
    main()
