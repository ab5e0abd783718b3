"""pytest plugin (``bin/test`` loads it with ``-p tests.embedded_services``): with
``DATABASE_URL`` / ``REDIS_URL`` unset, start the embedded PostgreSQL and Redis for the test
session before pytest-django reads the settings (config/embedded.py).  Settings never start
servers themselves; the servers live as long as the pytest process.

Under pytest-xdist (``bin/test`` runs the whole suite on two workers) the controller starts the
servers and each worker inherits their URLs; a worker then takes its own Redis database number
and its own channel-layer prefix (Redis pub/sub ignores database numbers), so that one worker's
live servers and Celery workers never hear another's.  pytest-django gives each worker its own
test database (``test_<name>_gw<N>``)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest


def _worker_redis(url: str, index: int) -> str:
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + index) % 16}"))


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A wrapper runs before every plain implementation, pytest-django's settings set-up too.
    from config import embedded

    embedded.ensure()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        index = int(worker.removeprefix("gw"))
        os.environ["REDIS_URL"] = _worker_redis(os.environ["REDIS_URL"], index)
        prefix = os.environ.get("CHARGEGRID_CHANNEL_PREFIX", "chargegrid")
        os.environ["CHARGEGRID_CHANNEL_PREFIX"] = f"{prefix}-{worker}"
    return (yield)
