"""Benchmark: a partner pulls every OCPI Location of a network of 10,000 EVSEs, page by page.

Run (any database you may write to; it is created and migrated if missing, and a tenant
``bench-roaming`` with the network and a connected partner is made there once)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_roaming_bench \\
    REDIS_URL=redis://127.0.0.1:6379/11 \\
    .venv/bin/python bench/roaming_locations.py [--evses 10000] [--limit 100] [--walks 3]

The network: 1,000 sites of 5 stations × 2 EVSEs (one connector each) by default.  One uvicorn
process with production settings (``bench/_http.py``) serves ``/ocpi/2.2.1/locations``; the
bench follows the ``Link`` headers from the first page to the last, as a partner does, checks it
saw every location and every EVSE once, and prints the time of a whole walk and the latency of
the pages.  Other processes share this machine: compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from _common import free_port, percentile, setup_django  # noqa: E402
from _http import PROXY, start_server  # noqa: E402

SLUG = "bench-roaming"
TOKEN = "bench-roaming-partner-token"


def prepare(evses: int) -> str:
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.roaming.choices import PartnerStatus
    from apps.roaming.models import Partner
    from apps.stations.models import Connector, Evse, Site, Station
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant = tenant_create(
            name="Bench roaming", slug=SLUG, admin_email="o@bench.test", admin_password=None
        )
    with tenant_context(tenant):
        if Evse.objects.count() != evses:
            Connector.objects.all().delete()
            Evse.objects.all().delete()
            Station.objects.all().delete()
            Site.objects.all().delete()
            site_count = evses // 10
            sites = Site.objects.bulk_create(
                [
                    Site(
                        name=f"Lot {n:05}",
                        address=f"{n} rue Principale",
                        city="Montréal",
                        latitude=f"{45 + n / 100_000:.6f}",
                        longitude=f"{-73.5 - n / 100_000:.6f}",
                        timezone="America/Montreal",
                    )
                    for n in range(site_count)
                ]
            )
            stations = Station.objects.bulk_create(
                [
                    Station(identity=f"BR-{n:06}", site=sites[n // 5], is_online=n % 10 != 0)
                    for n in range(site_count * 5)
                ]
            )
            rows = Evse.objects.bulk_create(
                [
                    Evse(station=s, evse_id=port, status="Available")
                    for s in stations
                    for port in (1, 2)
                ]
            )
            Connector.objects.bulk_create([Connector(evse=e, connector_id=1) for e in rows])
        Partner.objects.update_or_create(
            incoming_token=TOKEN,
            defaults={"name": "Bench eMSP", "status": PartnerStatus.CONNECTED, "version": "2.2.1",
                      "country_code": "NL", "party_id": "BEN", "roles": ["EMSP"]},
        )  # fmt: skip
    connection.set_schema_to_public()
    return tenant.get_primary_domain().domain


def walk(port: int, host: str, limit: int) -> tuple[float, list[float], int, int]:
    """Follow the Link headers from the first page; returns (seconds, page latencies,
    locations, EVSEs)."""
    auth = "Token " + base64.b64encode(TOKEN.encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    path = f"/ocpi/2.2.1/locations?limit={limit}"
    pages: list[float] = []
    ids, evse_uids = set(), set()
    started = time.perf_counter()
    while path:
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Host": host, "Authorization": auth, **PROXY})
        answer = conn.getresponse()
        body = json.loads(answer.read())
        pages.append(time.perf_counter() - t0)
        assert answer.status == 200 and body["status_code"] == 1000, body
        for location in body["data"]:
            ids.add(location["id"])
            evse_uids.update(e["uid"] for e in location["evses"])
        link = answer.getheader("Link")
        path = re.match(r"<https?://[^/]+(.*)>; rel=\"next\"", link).group(1) if link else ""
    conn.close()
    return time.perf_counter() - started, pages, len(ids), len(evse_uids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evses", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--walks", type=int, default=3)
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] or "cg_roaming_bench"
    setup_django(database)
    host = prepare(args.evses)
    port = free_port()
    server = start_server(port)
    try:
        walk(port, host, args.limit)  # warm up
        print(f"{args.evses} EVSEs on {args.evses // 10} locations, pages of {args.limit} "
              "locations, one uvicorn process")  # fmt: skip
        for n in range(args.walks):
            seconds, pages, locations, evses = walk(port, host, args.limit)
            assert (locations, evses) == (args.evses // 10, args.evses), (locations, evses)
            print(
                f"walk {n + 1}: {seconds:.2f} s for {len(pages)} pages "
                f"({evses / seconds:,.0f} EVSEs/s); page p50 {percentile(pages, 50) * 1000:.0f} "
                f"ms, p95 {percentile(pages, 95) * 1000:.0f} ms, max {max(pages) * 1000:.0f} ms"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
