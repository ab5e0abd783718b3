import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from apps.accounts.models import User
from apps.roles.models import Role, RoleAssignment
from apps.tenants.models import Tenant


def test_add_tenant_creates_schema_domain_and_site_admin(db, capsys):
    started = time.perf_counter()
    call_command(
        "add_tenant",
        "gamma",
        "--name",
        "Gamma Hotels",
        "--admin-email",
        "Boss@Gamma.test",
        "--admin-password",
        "pw-gamma-12345",
        "--currency",
        "EUR",
        "--language",
        "fr",
        "--timezone",
        "Europe/Paris",
    )
    elapsed = time.perf_counter() - started
    assert "Created tenant gamma" in capsys.readouterr().out
    tenant = Tenant.objects.get(slug="gamma")
    assert tenant.schema_name == "t_gamma" and schema_exists("t_gamma")
    assert (tenant.currency, tenant.language, tenant.timezone) == ("EUR", "fr", "Europe/Paris")
    assert tenant.get_primary_domain().domain == "gamma.localhost"
    with tenant_context(tenant):
        admin = User.objects.get(email="boss@gamma.test")
        assignment = RoleAssignment.objects.get(user=admin)
        assert assignment.role.slug == "site-admin" and assignment.all_sites
        # built-in roles came with the cloned template
        assert Role.objects.filter(is_builtin=True).count() == 7
    # and the admin can sign in on the tenant's host, in French by default
    client = Client(HTTP_HOST="gamma.localhost")
    response = client.post(
        "/accounts/login/", {"username": "boss@gamma.test", "password": "pw-gamma-12345"}
    )
    assert response.status_code == 302
    page = client.get("/", follow=True)
    assert page.status_code == 200 and 'lang="fr"' in page.content.decode()
    connection.set_schema_to_public()
    # Generous bound: the benchmark reports the real figure; this only catches a lost clone.
    assert elapsed < 10


@pytest.mark.parametrize(
    "slug,args",
    [
        ("Bad_Slug", []),
        ("www", []),
        ("delta", ["--currency", "euro"]),
        ("delta", ["--timezone", "Mars/Olympus"]),
    ],
)
def test_add_tenant_refuses_bad_input(db, slug, args):
    with pytest.raises(CommandError):
        call_command("add_tenant", slug, "--name", "X", "--admin-email", "x@x.test", *args)
    assert not Tenant.objects.filter(slug=slug).exists()
