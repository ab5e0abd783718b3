"""Benchmark of the station list API with 1,000 stations, against a trivial Django view.

Run (any database you may write to; a tenant ``bench-api`` is created there once)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_api_dev \\
    REDIS_URL=redis://127.0.0.1:6379/6 \\
    .venv/bin/python bench/api_station_list.py [--stations 1000] [--seconds 10] [--clients 8]

What is measured, in the same run, on one uvicorn process (``config.asgi``, as in production),
with ``--clients`` concurrent keep-alive HTTP clients for ``--seconds`` each:

* ``trivial view``: ``GET /healthz`` (tenant middleware, one ``SELECT 1``, a small JSON body);
* ``stations, page of 50``: ``GET /api/v1/stations/`` with an API key (authentication, scoping,
  filters, pagination with its count, stations with their ports and connectors nested);
* ``stations, page of 1000``: the same with ``?page_size=1000`` (every station in one answer);
* ``stations, filtered``: ``?status=charging&online=true`` (the live-state subquery).

Each line prints requests per second and the p50 / p95 / p99 latency.  Other processes share
this machine: compare the lines of one run with each other, not with another machine's figures.
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

import django  # noqa: E402
from _common import free_port  # noqa: E402
from _http import load, start_server  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import schema_exists, tenant_context  # noqa: E402

SLUG = "bench-api"
# As the reverse proxy says (production settings redirect plain-HTTP requests to HTTPS).
OWNER = "owner@bench-api.test"


# --- Data ------------------------------------------------------------------------------------
def prepare(stations: int) -> tuple[str, str]:
    """The bench tenant with ``stations`` stations (2 ports each) on 20 sites; returns its host
    and an API key with every permission."""
    from apps.roles.services import api_key_create
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
        tenant = tenant_create(name="Bench API", slug=SLUG, admin_email=OWNER, admin_password=None)
    with tenant_context(tenant):
        from apps.accounts.models import User

        have = Station.objects.count()
        if have != stations:
            Connector.objects.all().delete()
            Evse.objects.all().delete()
            Station.objects.all().delete()
            Site.objects.all().delete()
            sites = Site.objects.bulk_create([Site(name=f"Bench site {n:02}") for n in range(20)])
            rows = Station.objects.bulk_create(
                [
                    Station(
                        identity=f"BENCH-{n:05}",
                        site=sites[n % len(sites)],
                        vendor="Acme",
                        model="AC22" if n % 3 else "DC50",
                        firmware_version="1.4.2",
                        ocpp_version="1.6" if n % 2 else "2.0.1",
                        is_online=n % 10 != 0,
                    )
                    for n in range(stations)
                ]
            )
            statuses = ["Available", "Charging", "Finishing", "Faulted"]
            evses = Evse.objects.bulk_create(
                [
                    Evse(station=station, evse_id=port, status=statuses[(n + port) % 4])
                    for n, station in enumerate(rows)
                    for port in (1, 2)
                ]
            )
            Connector.objects.bulk_create([Connector(evse=evse, connector_id=1) for evse in evses])
        owner = User.objects.get(email=OWNER)
        _, raw = api_key_create(
            name=f"bench {time.time():.0f}", created_by=owner, permissions=["*"], all_sites=True
        )
    connection.set_schema_to_public()
    return tenant.get_primary_domain().domain, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    host, key = prepare(args.stations)
    port = free_port()
    server = start_server(port)
    auth = {"Authorization": f"Bearer {key}"}
    cases = [
        ("trivial view (/healthz)", "/healthz", {}),
        ("stations, page of 50", "/api/v1/stations/", auth),
        ("stations, page of 1000", "/api/v1/stations/?page_size=1000", auth),
        ("stations, filtered", "/api/v1/stations/?status=charging&online=true", auth),
    ]
    try:
        for _, path, headers in cases:  # warm up (connections, caches, imports)
            load(port, host, path, headers, 1, 2)
        print(
            f"{args.stations} stations, {args.clients} clients, {args.seconds:g} s per case, "
            "one uvicorn process"
        )
        print(f"{'case':<26}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        for name, path, headers in cases:
            r = load(port, host, path, headers, args.seconds, args.clients)
            print(f"{name:<26}{r.rate:>9.1f}{r.p50:>9.1f}{r.p95:>9.1f}{r.p99:>9.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
