"""What the HTTP benchmarks share: the platform's ASGI server with production settings
(started as it ships: bench/_common.py, config.processes) and a closed-loop load of N clients
that reports rate and latency percentiles."""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# TLS ends at the proxy in production: tell Django the request came over https.
PROXY = {"X-Forwarded-Proto": "https"}


def start_server(port: int, *, collectstatic: bool = False) -> subprocess.Popen:
    """The ASGI server with production settings (DJANGO_CONN_MAX_AGE=0: under ASGI persistent
    connections pile up, one per request context)."""
    from _common import server_env
    from _common import start_server as start_asgi_server

    env = server_env()
    env.setdefault("DJANGO_CONN_MAX_AGE", "0")
    if collectstatic:  # pages name their static files through the manifest, as in production
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
    process = start_asgi_server(port, env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}
            )
            urllib.request.urlopen(request, timeout=2).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


@dataclass(frozen=True)
class LoadResult:
    rate: float  # requests per second
    p50: float  # milliseconds
    p95: float
    p99: float
    max_bytes: int


def load(
    port: int, host: str, path: str, headers: dict, seconds: float, clients: int
) -> LoadResult:
    """``clients`` threads send GET ``path`` back to back for ``seconds``; any non-200 stops."""
    latencies: list[float] = []
    errors: list[str] = []
    sizes: list[int] = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        biggest = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Host": host, **PROXY, **headers})
            response = conn.getresponse()
            biggest = max(biggest, len(response.read()))
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors.append(f"{response.status} {path}")
                break
        conn.close()
        with lock:
            latencies.extend(mine)
            sizes.append(biggest)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if errors:
        raise SystemExit(f"errors: {errors[:3]}")
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return LoadResult(
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000,
        pct(0.95),
        pct(0.99),
        max(sizes),
    )
