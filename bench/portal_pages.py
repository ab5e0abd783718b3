"""Server time and query count of the portal's list and detail pages in a 10,000-station
tenant (issue 13: "a page loads in under 300 ms server time with 10,000 stations").

Run (any database you may write to; the tenant ``bench-portal`` of bench/portal_dashboard.py
is made or resized there)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_portal_dev \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python bench/portal_pages.py [--stations 10000] [--repeat 7]

Each page is requested in-process through Django's full stack (middleware, tenant, session,
permissions, template) as the site admin: once to warm up, then ``--repeat`` times; it prints
the queries of one request and the median and worst server time.  The baseline of the same run
is ``/healthz``.  A page whose query count grows with the stations shows here as a count in
the hundreds: the list pages must stay flat (tests/portal/test_queries.py asserts it too).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from portal_dashboard import prepare  # noqa: E402 (sets Django up)

PAGES = (
    ("baseline: /healthz", "/healthz"),
    ("dashboard", "/dashboard/"),
    ("map", "/dashboard/map/"),
    ("site list", "/sites/"),
    ("station list", "/stations/"),
    ("station list, filtered", "/stations/?status=Faulted&ordering=-identity"),
    ("station list, page 100", "/stations/?page=100"),
    ("station page", "/stations/{station}/"),
    ("session list", "/sessions/"),
    ("alert list", "/alerts/"),
    ("uptime", "/alerts/uptime/"),
)


def measure(client: Client, path: str, repeat: int) -> tuple[int, int, float, float]:
    client.get(path)  # warm caches, templates, the connection
    timings = []
    queries = 0
    status = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
        status = response.status_code
    return status, queries, statistics.median(timings), max(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    host, session_key, station_id = prepare(args.stations)
    print(f"prepared {args.stations} stations in {time.perf_counter() - started:.0f} s")
    client = Client(HTTP_HOST=host)
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    print(f"{'page':28} {'HTTP':>4} {'queries':>7} {'median ms':>9} {'worst ms':>8}")
    for label, path in PAGES:
        status, queries, median, worst = measure(
            client, path.format(station=station_id), args.repeat
        )
        print(f"{label:28} {status:>4} {queries:>7} {median:>9.1f} {worst:>8.1f}")


if __name__ == "__main__":
    main()
