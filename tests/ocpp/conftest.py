from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.charging.services import token_create
from apps.stations.services import station_register
from apps.tenants.models import Tenant
from tests.live import ServerProcess, blocking, unique_identity


@pytest.fixture(scope="session")
def server(django_db_setup):
    process = ServerProcess("ocpp-a").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def server_b(django_db_setup):
    process = ServerProcess("ocpp-b").start()
    yield process
    process.stop()


@pytest.fixture
def live_db(django_db_blocker):
    """Committed data the server processes can see (no wrapping transaction)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def live_alpha(live_db):
    return Tenant.objects.get(slug="alpha")


@pytest.fixture
def make_station(live_alpha):
    def make(*, evses: int = 2, lax: bool = False, status: str = "Accepted", prefix: str = "CP"):
        identity = unique_identity(prefix)
        password = "pw-" + identity.lower() + "-0123456789"

        def create():
            with tenant_context(live_alpha):
                station = station_register(
                    identity=identity,
                    password=password,
                    evse_count=evses,
                    registration_status=status,
                )
                if lax:
                    station.lax_validation = True
                    station.save(update_fields=["lax_validation"])
                return station

        return blocking(create), identity, password

    return make


@pytest.fixture
def make_token(live_alpha):
    def make(uid: str | None = None, **kwargs):
        def create():
            with tenant_context(live_alpha):
                return token_create(uid=uid or unique_identity("TAG")[:20], **kwargs)

        return blocking(create)

    return make
