"""How every process of the platform is started: the one place that builds the command lines.

Used by ``manage.py run_platform`` (``bin/run``), the tests' live servers and workers
(tests/live.py, tests/workers.py), the benchmarks (bench/), and shown with the same flags in
docs/deployment.md.  Change a flag here, not in a copy.

Websocket keepalive (docs/deployment.md, "Keepalive"): uvicorn's ``websockets-sansio``
implementation (``--ws websockets`` reads ``--ws-ping-interval 0`` as "ping again at once") with
``config.keepalive``, where any frame from a station counts as alive.  The server pings every
``WS_PING_INTERVAL`` seconds, so idle timers of NATs and load balancers never expire and a dead
peer is noticed by TCP; a socket is closed only after ``WS_PING_TIMEOUT`` seconds without a
single frame after a ping, longer than the platform's own offline threshold (2.5 heartbeat
intervals of 300 s), so a station that never answers pings (ocpp issue #626) but sends its
heartbeats stays connected.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

ASGI_APPLICATION = "config.asgi:application"
WS_PROTOCOL = "config.keepalive:WebSocketProtocol"
WS_PING_INTERVAL = 30.0  # seconds between the server's pings
WS_PING_TIMEOUT = 900.0  # seconds without any frame after a ping before the socket is closed
WS_MAX_SIZE = 1_048_576  # bytes per websocket message (OCPP frames are far smaller)
BACKLOG = 4096  # pending connections: a fleet reconnecting at once after a restart


def asgi_server_command(
    host: str,
    port: int,
    *,
    app: str = ASGI_APPLICATION,
    ping_interval: float = WS_PING_INTERVAL,
    ping_timeout: float = WS_PING_TIMEOUT,
    log_level: str = "info",
    access_log: bool = True,
    extra: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """uvicorn serving ``app`` (HTTP and websockets) on ``host:port``."""
    if ping_interval <= 0 or ping_timeout <= 0:
        raise ValueError("ping interval and timeout must be positive (0 is not 'off' here)")
    command = [
        python, "-m", "uvicorn", app,
        "--host", host,
        "--port", str(port),
        "--lifespan", "off",
        "--ws", WS_PROTOCOL,
        "--ws-ping-interval", f"{ping_interval:g}",
        "--ws-ping-timeout", f"{ping_timeout:g}",
        "--ws-max-size", str(WS_MAX_SIZE),
        "--backlog", str(BACKLOG),
        "--log-level", log_level,
    ]  # fmt: skip
    if not access_log:
        command.append("--no-access-log")
    return [*command, *extra]


def celery_worker_arguments(
    *,
    hostname: str = "worker@%h",
    concurrency: int | None = None,
    pool: str | None = None,
    log_level: str = "INFO",
    extra: Sequence[str] = (),
) -> list[str]:
    """The arguments after ``celery -A config`` (``app.worker_main`` takes these too)."""
    arguments = ["worker", "--loglevel", log_level, "--hostname", hostname]
    if concurrency is not None:
        arguments += ["--concurrency", str(concurrency)]
    if pool is not None:
        arguments += ["--pool", pool]
    return [*arguments, *extra]


def celery_worker_command(*, python: str = sys.executable, **options) -> list[str]:
    """A Celery worker (broker-outage settings: ``CELERY_BROKER_*`` in config/settings/base.py)."""
    return [python, "-m", "celery", "-A", "config", *celery_worker_arguments(**options)]


def celery_beat_command(
    *, schedule: Path | str, log_level: str = "INFO", python: str = sys.executable
) -> list[str]:
    """Celery beat; run exactly one."""
    return [
        python, "-m", "celery", "-A", "config", "beat",
        "--loglevel", log_level,
        "--schedule", str(schedule),
    ]  # fmt: skip
