from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD
from tests.live import ServerProcess, blocking, unique_identity

LIVE_SLUG = "planslive"


@pytest.fixture
def station_with_ports(alpha, alpha_sites):
    from apps.stations.services import station_register

    def make(evses: int = 2, site=None):
        return station_register(
            identity=unique_identity("PL"),
            password="pw-plans-0123456789",
            site=site or alpha_sites[0],
            evse_count=evses,
        )

    return make


@pytest.fixture(scope="session")
def plans_server(django_db_setup):
    process = ServerProcess("plans").start()
    yield process
    process.stop()


@pytest.fixture
def live_tenant(django_db_blocker):
    """A tenant of its own for committed plan rows (alpha must stay plan-free for others)."""
    from apps.plans.models import PlanOrder, PortActivation
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    with django_db_blocker.unblock():

        def create():
            tenant = Tenant.objects.filter(slug=LIVE_SLUG).first()
            if tenant is None:
                tenant = tenant_create(
                    name="Plans live",
                    slug=LIVE_SLUG,
                    admin_email=f"owner@{LIVE_SLUG}.test",
                    admin_password=PASSWORD,
                    timezone="America/Montreal",
                )
            connection.set_schema_to_public()
            return tenant

        tenant = blocking(create)
        yield tenant

        def clean():
            PortActivation.every_tenant.filter(tenant=tenant).delete()
            PlanOrder.every_tenant.filter(tenant=tenant).delete()

        blocking(clean)


@pytest.fixture
def live_station(live_tenant):
    from apps.stations.services import station_register

    def make(evses: int = 2):
        identity = unique_identity("PL")
        password = "pw-" + identity.lower() + "-0123456789"

        def create():
            with tenant_context(live_tenant):
                return station_register(identity=identity, password=password, evse_count=evses)

        return blocking(create), identity, password

    return make
