from __future__ import annotations

import pytest

from apps.tenants.models import Tenant
from tests.live import ServerProcess


@pytest.fixture(scope="session")
def pnc_server(django_db_setup):
    process = ServerProcess("pnc").start()
    yield process
    process.stop()


@pytest.fixture
def live_alpha(django_db_blocker):
    """Committed data the server process can see (no wrapping transaction)."""
    with django_db_blocker.unblock():
        yield Tenant.objects.get(slug="alpha")
