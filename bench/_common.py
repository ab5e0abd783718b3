"""Shared set-up for benchmarks: a database of their own, Django configured, helpers."""

from __future__ import annotations

import os
import resource
import socket
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def setup_django(database: str = "chargegrid_bench") -> str:
    """Point Django at a benchmark database on the configured (or embedded) server, migrate."""
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
