"""Shared set-up for benchmarks: a database of their own, Django configured, the platform's
processes started as they ship (config.processes, production settings), helpers."""

from __future__ import annotations

import os
import resource
import socket
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def setup_django(database: str | None = None) -> str:
    """Point Django at a benchmark database on the configured (or embedded) server, migrate.
    Its name: ``database``, else ``CHARGEGRID_BENCH_DATABASE``, else chargegrid_bench."""
    database = database or os.environ.get("CHARGEGRID_BENCH_DATABASE", "chargegrid_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("CHARGEGRID_CHANNEL_PREFIX", f"cgbench{os.getpid()}")
    from config import embedded

    embedded.ensure()  # embedded PostgreSQL / Redis when DATABASE_URL / REDIS_URL are unset
    base = embedded.database_url()
    import psycopg

    with psycopg.connect(embedded.with_database(base, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    url = embedded.with_database(base, database)
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate_schemas", interactive=False, verbosity=0)
    return url


# What ships: the settings module production runs (DEBUG off), the same command lines as
# bin/run and production (config.processes).  bin/run uses config.settings.local, which differs
# by DEBUG on (Django then keeps every query of a connection in memory) and plain-HTTP URLs.
SERVER_SETTINGS = "config.settings.production"


def server_env(**extra: str) -> dict[str, str]:
    """The environment of the benchmark's server and worker processes."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS}
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 40)
    env.setdefault("DJANGO_ALLOWED_HOSTS", ".localhost,127.0.0.1")
    env.update(extra)
    return env


def start_server(port: int, env: dict[str, str], *, app: str | None = None) -> subprocess.Popen:
    """The ASGI server as the platform starts it (``config.processes.asgi_server_command``)."""
    from config.processes import ASGI_APPLICATION, asgi_server_command

    command = asgi_server_command(
        "127.0.0.1", port, app=app or ASGI_APPLICATION, log_level="warning", access_log=False
    )
    return subprocess.Popen(command, cwd=ROOT, env=env)


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    """A Celery worker as bin/run starts it (``config.processes.celery_worker_command``)."""
    from config.processes import celery_worker_command

    command = celery_worker_command(
        concurrency=2, hostname=f"bench{os.getpid()}@%h", log_level="WARNING"
    )
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:  # 10,000 sockets closing each record a disconnect: give it time
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"p50 {percentile(values, 50) * 1000:.1f} ms, p95 {percentile(values, 95) * 1000:.1f} ms, "
        f"p99 {percentile(values, 99) * 1000:.1f} ms, mean {statistics.fmean(values) * 1000:.1f} ms"
    )
