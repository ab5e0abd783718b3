"""Two tenants' data live in separate schemas; neither reaches the other's."""

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from apps.stations.models import Site
from tests.conftest import PASSWORD, host_of


def table_schemas(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s", [table]
        )
        return {row[0] for row in cursor.fetchall()}


def test_each_tenant_has_its_own_schema_and_tables(alpha, beta):
    assert alpha.schema_name != beta.schema_name
    schemas = table_schemas("stations_site")
    assert {alpha.schema_name, beta.schema_name} <= schemas
    assert "public" not in schemas  # tenant tables never land in public
    assert "public" in table_schemas("tenants_tenant")
    assert alpha.schema_name not in table_schemas("tenants_tenant")


def test_orm_sees_only_the_active_tenant(alpha, beta):
    Site.objects.create(name="Only in alpha")
    with tenant_context(beta):
        assert not Site.objects.filter(name="Only in alpha").exists()
        Site.objects.create(name="Only in beta")
    connection.set_tenant(alpha)
    assert list(Site.objects.values_list("name", flat=True)) == ["Only in alpha"]


def test_sign_in_with_another_tenants_credentials_fails(alpha, beta, personas):
    client = Client(HTTP_HOST=host_of(alpha))
    response = client.post(
        "/accounts/login/", {"username": "owner@beta.test", "password": PASSWORD}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    response = client.post(
        "/accounts/login/", {"username": "owner@alpha.test", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_a_session_from_one_tenant_is_worthless_on_another(alpha, beta, personas, client_for):
    client = client_for(personas.owner)
    assert client.get("/", follow=True).status_code == 200
    client.defaults["HTTP_HOST"] = host_of(beta)
    response = client.get("/", follow=True)
    assert response.redirect_chain and "/accounts/login/" in response.redirect_chain[-1][0]


def test_portal_lists_never_show_another_tenants_sites(alpha, beta, personas, client_for):
    with tenant_context(beta):
        Site.objects.create(name="Beta secret lot")
    connection.set_tenant(alpha)
    body = client_for(personas.owner).get("/sites/").content.decode()
    assert "A1 Garage" in body and "Beta secret lot" not in body


def test_tenant_admin_shows_only_its_own_data(alpha, beta, personas, client_for):
    with tenant_context(beta):
        Site.objects.create(name="Beta secret lot")
    connection.set_tenant(alpha)
    client = client_for(personas.owner)
    body = client.get("/admin/stations/site/").content.decode()
    assert "A1 Garage" in body and "Beta secret lot" not in body
    # The tenant registry is the platform operator's, not visible from a tenant's admin.
    assert client.get("/admin/tenants/tenant/").status_code in (403, 404)


def test_unknown_host_is_404(db):
    assert Client(HTTP_HOST="nobody.localhost").get("/").status_code == 404
    assert Client(HTTP_HOST="nobody.localhost").get("/accounts/login/").status_code == 404


@pytest.mark.parametrize("path", ["/", "/admin/login/"])
def test_public_host_serves_landing_and_operator_admin(db, path):
    response = Client(HTTP_HOST="localhost").get(path)
    assert response.status_code == 200


def test_landing_sends_people_to_their_tenant(alpha):
    client = Client(HTTP_HOST="localhost")
    response = client.post("/", {"organisation": "alpha"})
    assert response.status_code == 302
    assert response["Location"] == "http://alpha.localhost/accounts/login/"
    response = client.post("/", {"organisation": "nobody"})
    assert response.status_code == 200 and "No network by that name" in response.content.decode()
    # The template schema is not a network anyone can reach.
    assert client.post("/", {"organisation": "template"}).status_code == 200
