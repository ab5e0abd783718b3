"""The power API: the tree, its live load, limits set by building-management systems, the live
allocation; and nobody sees or changes what is not theirs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from apps.power import services
from apps.power.choices import LimitSource
from apps.power.models import LimitOverride, PowerNode
from apps.roles.models import Role
from apps.roles.services import api_key_create, role_assign
from tests.conftest import host_of

pytestmark = pytest.mark.usefixtures("power_urls")


@pytest.fixture
def power_urls():
    with override_settings(ROOT_URLCONF="tests.power.urls"):
        yield


@pytest.fixture
def api(alpha):
    from django.db import connection
    from rest_framework.test import APIClient

    def make(user=None, key=None, tenant=None):
        tenant = tenant or alpha
        client = APIClient(HTTP_HOST=host_of(tenant))
        if user is not None:
            previous = connection.tenant
            connection.set_tenant(tenant)
            client.force_login(user)
            connection.set_tenant(previous)
        if key is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return make


@pytest.fixture
def trees(personas, alpha_sites):
    """A supply with a circuit on each of alpha's two sites; an installer who may see and
    change power on site A1 only."""
    a1, a2 = alpha_sites
    supply_a1 = services.power_node_create(site=a1, name="A1 supply", rating_a=Decimal("100"))
    circuit_a1 = services.power_node_create(
        site=a1, name="A1 circuit", parent=supply_a1, rating_a=Decimal("40")
    )
    supply_a2 = services.power_node_create(site=a2, name="A2 supply", rating_a=Decimal("63"))
    installer = Role.objects.create(
        slug="power-installer", name="Installer", permissions=["power.view", "power.manage"]
    )
    role_assign(user=personas.delegate, role=installer, sites=[a1])
    return supply_a1, circuit_a1, supply_a2


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


def test_each_persona_sees_only_the_trees_of_their_sites(api, personas, trees):
    assert names(api(personas.owner).get("/api/v1/power-nodes/")) == [
        "A1 circuit",
        "A1 supply",
        "A2 supply",
    ]
    assert names(api(personas.delegate).get("/api/v1/power-nodes/")) == [
        "A1 circuit",
        "A1 supply",
    ]
    assert api(personas.outsider).get("/api/v1/power-nodes/").status_code == 403
    # A fleet manager (built-in role, all sites) may look at every tree but not change one.
    fleet = api(personas.fleet_manager)
    assert names(fleet.get("/api/v1/power-nodes/")) == ["A1 circuit", "A1 supply", "A2 supply"]
    assert fleet.patch(f"/api/v1/power-nodes/{trees[2].pk}/", {"name": "X"}).status_code == 403
    supply_a2 = trees[2]
    assert api(personas.delegate).get(f"/api/v1/power-nodes/{supply_a2.pk}/").status_code == 404
    assert (
        api(personas.delegate).get(f"/api/v1/power-nodes/{supply_a2.pk}/load/").status_code == 404
    )


def test_another_tenant_sees_nothing(api, personas, trees, beta):
    response = api(personas.other_tenant_user, tenant=beta).get("/api/v1/power-nodes/")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_an_installer_builds_the_tree_of_their_site_only(api, personas, trees, alpha_sites):
    supply_a1, _circuit, supply_a2 = trees
    client = api(personas.delegate)
    created = client.post(
        "/api/v1/power-nodes/",
        {
            "site": alpha_sites[0].pk,
            "parent": supply_a1.pk,
            "name": "Sub-panel",
            "kind": "panel",
            "rating_a": "60",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["limit_a"] == "48.0"
    refused = client.post(
        "/api/v1/power-nodes/",
        {"site": alpha_sites[1].pk, "name": "Elsewhere"},
        format="json",
    )
    assert refused.status_code == 400
    assert set(refused.json()["error"]["details"]) == {"site"}  # as if site A2 did not exist
    moved = client.patch(
        f"/api/v1/power-nodes/{created.json()['id']}/",
        {"parent": supply_a2.pk},
        format="json",
    )
    assert moved.status_code == 400
    assert set(moved.json()["error"]["details"]) == {"parent"}


def test_a_building_management_system_sets_limits_and_reports_load(api, personas, trees):
    supply_a1 = trees[0]
    key, raw = api_key_create(
        name="BMS",
        created_by=personas.owner,
        permissions=["power.view", "power.manage"],
        sites=[supply_a1.site],
    )
    client = api(key=raw)
    ends = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    limit = client.post(
        f"/api/v1/power-nodes/{supply_a1.pk}/limit/",
        {"limit_kw": "30", "ends_at": ends.isoformat(), "reference": "peak-shaving"},
        format="json",
    )
    assert limit.status_code == 201, limit.content
    override = LimitOverride.objects.get(pk=limit.json()["id"])
    assert (override.source, override.limit_kw, override.ends_at) == (
        LimitSource.API,
        Decimal("30.000"),
        ends,
    )
    assert (
        client.post(f"/api/v1/power-nodes/{supply_a1.pk}/limit/", {}, format="json").status_code
        == 400
    )

    report = client.post(
        f"/api/v1/power-nodes/{supply_a1.pk}/building-load/", {"load_w": 12000}, format="json"
    )
    assert report.status_code == 204
    load = client.get(f"/api/v1/power-nodes/{supply_a1.pk}/load/").json()
    assert load["building_load_w"] == 12000
    assert load["limit_a"] == "80.0" and load["limit_kw"] == "30.000"
    assert load["allocated_a"] == ["0.0", "0.0", "0.0"]

    ended = client.post(f"/api/v1/power-limits/{override.pk}/end/")
    assert ended.status_code == 200 and ended.json()["ends_at"] is not None


def test_viewers_cannot_change_limits(api, personas, trees):
    supply_a1 = trees[0]
    viewer = Role.objects.create(slug="power-viewer", name="Viewer", permissions=["power.view"])
    role_assign(user=personas.fleet_manager, role=viewer, all_sites=True)
    client = api(personas.fleet_manager)
    assert client.get(f"/api/v1/power-nodes/{supply_a1.pk}/load/").status_code == 200
    response = client.post(
        f"/api/v1/power-nodes/{supply_a1.pk}/limit/", {"limit_a": "10"}, format="json"
    )
    assert response.status_code == 403
    assert not PowerNode.objects.filter(overrides__isnull=False).exists()


def test_the_live_allocation(api, personas, garage, fleet):
    from .test_services import NOW, start_all

    start_all(garage, "AD")
    services.site_rebalance(site_id=garage.site.pk, now=NOW, send=fleet)
    response = api(personas.owner).get(
        "/api/v1/power-allocations/", {"site_id": garage.site.pk, "reason": "share"}
    )
    assert response.status_code == 200
    rows = response.json()["results"]
    assert sorted(row["limit_a"] for row in rows) == ["24.0", "24.0"]
    assert {row["push_state"] for row in rows} == {"synced"}


def test_the_openapi_schema_documents_the_power_endpoints(api, personas):
    from drf_spectacular.validation import validate_schema

    response = api(personas.owner).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    power = {path: item for path, item in schema["paths"].items() if "/power-" in path}
    assert set(power) == {
        "/api/v1/power-nodes/",
        "/api/v1/power-nodes/{id}/",
        "/api/v1/power-nodes/{id}/load/",
        "/api/v1/power-nodes/{id}/limit/",
        "/api/v1/power-nodes/{id}/building-load/",
        "/api/v1/power-limits/",
        "/api/v1/power-limits/{id}/",
        "/api/v1/power-limits/{id}/end/",
        "/api/v1/power-allocations/",
        "/api/v1/power-allocations/{id}/",
        "/api/v1/power-alerts/",
        "/api/v1/power-alerts/{id}/",
    }
    for path, item in power.items():
        for method, operation in item.items():
            assert operation["x-permission"] in ("power.view", "power.manage"), (method, path)
