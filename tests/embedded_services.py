"""pytest plugin (``bin/test`` loads it with ``-p tests.embedded_services``): with
``DATABASE_URL`` / ``REDIS_URL`` unset, start the embedded PostgreSQL and Redis for the test
session before pytest-django reads the settings (config/embedded.py).  Settings never start
servers themselves; the servers live as long as the pytest process."""

from __future__ import annotations

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A wrapper runs before every plain implementation, pytest-django's settings set-up too.
    from config import embedded

    embedded.ensure()
    return (yield)
