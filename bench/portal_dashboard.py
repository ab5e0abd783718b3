"""Benchmark of the portal's live pages with 1,000 stations, against a trivial Django view.

Run (any database you may write to; a tenant ``bench-portal`` is created there once)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_portal_dev \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python bench/portal_dashboard.py [--stations 1000] [--seconds 10] [--clients 8]

Measured in the same run, on one uvicorn process (``config.asgi`` with production settings),
``--clients`` concurrent keep-alive HTTP clients signed in as the site admin, ``--seconds``
per case:

* ``trivial view``: ``GET /healthz`` (tenant middleware, one ``SELECT 1``, a small JSON body);
* ``dashboard``: ``GET /dashboard/`` (port counts of every station, energy today, active
  sessions, recent alerts, and the page's live-state JSON of every port);
* ``map``: ``GET /dashboard/map/`` (every station with its site's coordinates and live state);
* ``station list``: ``GET /stations/`` (a page of 50, filters, ports prefetched);
* ``station page``: ``GET /stations/<id>/`` (ports, sessions, power curve, log, uptime).

Each line prints requests per second and p50 / p95 / p99 latency.  Other processes share this
machine: compare the lines of one run with each other, not with another machine's figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# The session is signed here and read by the server: both need the same key.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 40)

import django  # noqa: E402
from _common import free_port  # noqa: E402
from _http import load, start_server  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_exists, tenant_context  # noqa: E402

SLUG = "bench-portal"
OWNER = "owner@bench-portal.test"
# As the reverse proxy says (production settings redirect plain-HTTP requests to HTTPS).
STATUSES = ("Available", "Charging", "Finishing", "Faulted", "Available", "Reserved")


# --- Data ------------------------------------------------------------------------------------
def _network(stations: int) -> None:
    """``stations`` stations (2 ports each) on 20 sites, a session on every charging port,
    an alert on every faulted one, a connection history for uptime."""
    from apps.charging.models import ChargingSession
    from apps.monitoring.models import Alert
    from apps.stations.models import Connector, Evse, Site, Station, StatusChange

    for model in (Alert, ChargingSession, StatusChange, Connector, Evse, Station, Site):
        model.objects.all().delete()
    sites = Site.objects.bulk_create(
        [
            Site(
                name=f"Bench site {n:02}",
                latitude=f"{45.40 + n * 0.012:.6f}",
                longitude=f"{-73.75 + n * 0.015:.6f}",
                timezone="America/Montreal",
            )
            for n in range(20)
        ]
    )
    now = timezone.now()
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
                last_seen_at=now,
            )
            for n in range(stations)
        ]
    )
    evses = Evse.objects.bulk_create(
        [
            Evse(station=station, evse_id=port, status=STATUSES[(n + port) % len(STATUSES)])
            for n, station in enumerate(rows)
            for port in (1, 2)
        ]
    )
    Connector.objects.bulk_create([Connector(evse=evse, connector_id=1) for evse in evses])
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                station=station,
                kind="connection",
                status="Online",
                occurred_at=now - dt.timedelta(days=40),
            )
            for station in rows
        ]
    )
    charging = [evse for evse in evses if evse.status == "Charging"]
    ChargingSession.objects.bulk_create(
        [
            ChargingSession(
                station_id=evse.station_id,
                evse=evse,
                transaction_id=str(n),
                id_token=f"TAG{n}",
                started_at=now - dt.timedelta(minutes=40),
                meter_start_wh=1_000_000,
                meter_last_wh=1_000_000 + 4000 + n,
                energy_wh=4000 + n,
            )
            for n, evse in enumerate(charging)
        ]
    )
    Alert.objects.bulk_create(
        [
            Alert(station_id=evse.station_id, evse=evse, kind="faulted", message="GroundFailure")
            for evse in evses
            if evse.status == "Faulted"
        ]
    )


def prepare(stations: int) -> tuple[str, str, int]:
    """The bench tenant with its network; returns its host, a signed-in session key of the
    site admin and a station id."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from apps.stations.models import Station
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
            name="Bench portal", slug=SLUG, admin_email=OWNER, admin_password=None,
            timezone="America/Montreal",
        )  # fmt: skip
    with tenant_context(tenant):
        from apps.accounts.models import User

        if Station.objects.count() != stations:
            _network(stations)
        owner = User.objects.get(email=OWNER)
        session = SessionStore()
        session[SESSION_KEY] = str(owner.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
        session.create()
        station_id = Station.objects.filter(evses__status="Charging").values_list("pk", flat=True)
        station_id = station_id.first()
    connection.set_schema_to_public()
    return tenant.get_primary_domain().domain, session.session_key, station_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    host, session_key, station_id = prepare(args.stations)
    port = free_port()
    server = start_server(port, collectstatic=True)
    from django.conf import settings

    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}
    cases = [
        ("trivial view (/healthz)", "/healthz", {}),
        ("dashboard", "/dashboard/", cookie),
        ("map", "/dashboard/map/", cookie),
        ("station list (page of 50)", "/stations/", cookie),
        ("station page", f"/stations/{station_id}/", cookie),
    ]
    try:
        for _, path, headers in cases:  # warm up (connections, caches, imports)
            load(port, host, path, headers, 1, 2)
        print(
            f"{args.stations} stations ({2 * args.stations} ports), {args.clients} clients, "
            f"{args.seconds:g} s per case, one uvicorn process"
        )
        print(f"{'case':<28}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'KiB':>8}")
        for name, path, headers in cases:
            r = load(port, host, path, headers, args.seconds, args.clients)
            print(
                f"{name:<28}{r.rate:>9.1f}{r.p50:>9.1f}{r.p95:>9.1f}{r.p99:>9.1f}{r.max_bytes / 1024:>8.1f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
