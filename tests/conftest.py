"""Shared fixtures: two test tenants created once per run, and the personas of the product.

Personas (all in tenant *alpha* unless said): ``owner`` (site admin, all sites), ``delegate``
(configure stations, site A1 only), ``fleet_manager``, ``outsider`` (signed in, no role) and
``other_tenant_user`` (the owner of tenant *beta*).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client

from tests.factories import SiteFactory, UserFactory

PASSWORD = "pw-test-12345"
TEST_TENANTS = ("alpha", "beta")
FIRST_TEST_TIMEOUT = 1200  # seconds; the test database's creation is charged to it
_first_test = {"pending": True}


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: one that renders French (a page, a PDF, a
    service called under ``translation.override`` that leaked) must not make the next test's
    messages French."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """The first test of each process (each xdist worker) also pays for creating the test
    database (every app's migrations, two tenants), and the last for dropping it:
    pytest-timeout's limit, meant to catch a hung test, must not fail them for that on a busy
    machine."""
    if _first_test["pending"] or nextitem is None:
        _first_test["pending"] = False
        item.add_marker(pytest.mark.timeout(FIRST_TEST_TIMEOUT), append=False)
    yield


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_modify_db_settings,
):
    """The test database and the test tenants, created once per run.

    Replaces pytest-django's fixture, which creates the database only when some collected
    test uses its ``db`` fixtures; live-server tests use committed data instead.
    """
    from django.test.utils import setup_databases, teardown_databases

    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_create

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            keepdb=django_db_keepdb,
            aliases={"default"},
            serialized_aliases=set(),
        )
        for slug in TEST_TENANTS:
            if not Tenant.objects.filter(slug=slug).exists():
                tenant_create(
                    name=slug.title(),
                    slug=slug,
                    admin_email=f"owner@{slug}.test",
                    admin_password=PASSWORD,
                    timezone="America/Montreal",
                )
        connection.set_schema_to_public()
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            # Worker threads of live tests may still hold connections to the test database.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            teardown_databases(config, verbosity=request.config.option.verbose)


def _tenant(slug):
    from apps.tenants.models import Tenant

    return Tenant.objects.get(slug=slug)


@pytest.fixture
def alpha(db):
    tenant = _tenant("alpha")
    connection.set_tenant(tenant)
    yield tenant
    connection.set_schema_to_public()


@pytest.fixture
def beta(db):
    return _tenant("beta")


def host_of(tenant) -> str:
    return tenant.get_primary_domain().domain


@pytest.fixture
def alpha_sites(alpha):
    return SiteFactory(name="A1 Garage"), SiteFactory(name="A2 Depot")


@dataclass
class Personas:
    owner: object
    delegate: object
    fleet_manager: object
    outsider: object
    other_tenant_user: object


@pytest.fixture
def personas(alpha, alpha_sites):
    from apps.accounts.models import User
    from apps.roles.services import role_assign, role_by_slug

    owner = User.objects.get(email="owner@alpha.test")
    delegate = UserFactory(email="delegate@installer.test")
    role_assign(
        user=delegate,
        role=role_by_slug("delegate-configure"),
        sites=[alpha_sites[0]],
        granted_by=owner,
    )
    fleet_manager = UserFactory(email="fleet@alpha.test")
    role_assign(
        user=fleet_manager, role=role_by_slug("fleet-manager"), all_sites=True, granted_by=owner
    )
    outsider = UserFactory(email="outsider@alpha.test")
    connection.set_tenant(_tenant("beta"))
    other = User.objects.get(email="owner@beta.test")
    connection.set_tenant(alpha)
    return Personas(owner, delegate, fleet_manager, outsider, other)


@pytest.fixture
def client_for(alpha):
    """A test client signed in as ``user`` on ``tenant``'s host (alpha by default)."""

    def make(user=None, tenant=None):
        tenant = tenant or alpha
        client = Client(HTTP_HOST=host_of(tenant))
        if user is not None:
            connection.set_tenant(tenant)  # the session row lives in that tenant's schema
            client.force_login(user)
            connection.set_tenant(alpha)
        return client

    return make
