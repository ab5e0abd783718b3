"""Built-in roles and power: who sees the electrical tree, who may change it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.core.permissions import grants
from apps.roles.choices import BUILTIN_PERMISSIONS, BuiltinRole
from apps.roles.models import Role
from apps.roles.services import role_assign, role_by_slug
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def power_urls():
    with override_settings(ROOT_URLCONF="tests.power.urls"):
        yield


@pytest.mark.parametrize(
    ("slug", "view", "manage"),
    [
        (BuiltinRole.SITE_ADMIN, True, True),
        (BuiltinRole.DELEGATE_CONFIGURE, True, False),
        (BuiltinRole.DELEGATE_REPORTS, True, False),
        (BuiltinRole.FLEET_MANAGER, True, False),
        (BuiltinRole.VIEWER, True, False),
        (BuiltinRole.VALET, False, False),
        (BuiltinRole.DRIVER, False, False),
    ],
)
def test_built_in_roles_grant_power_rights_in_the_database(alpha, slug, view, manage):
    """The roles as stored in a tenant (migrations 0002 + 0003), not only the table in code."""
    stored = Role.objects.get(slug=slug, is_builtin=True).permissions
    assert grants(stored, "power.view") is view
    assert grants(stored, "power.manage") is manage
    assert grants(BUILTIN_PERMISSIONS[slug], "power.view") is view


def test_each_built_in_role_sees_the_power_page_of_its_sites_only(garage, personas, client_for):
    url = f"/power/sites/{garage.site.pk}/"
    # The delegate holds delegate-configure on another site only: nothing here.
    assert client_for(personas.delegate).get(url).status_code in (403, 404)
    role_assign(
        user=personas.delegate, role=role_by_slug("delegate-configure"), sites=[garage.site]
    )
    assert client_for(personas.delegate).get(url).status_code == 200
    # Fleet manager (all sites): may look, not change.
    fleet = client_for(personas.fleet_manager)
    assert fleet.get(url).status_code == 200
    limit = {"limit_a": "10", "hours": "1"}
    assert fleet.post(f"/power/nodes/{garage.supply.pk}/limit/", limit).status_code == 403
    viewer = UserFactory(email="viewer@alpha.test")
    role_assign(user=viewer, role=role_by_slug("viewer"), sites=[garage.site])
    assert client_for(viewer).get(url).status_code == 200
    valet = UserFactory(email="valet@alpha.test")
    role_assign(user=valet, role=role_by_slug("valet"), sites=[garage.site])
    assert client_for(valet).get(url).status_code == 403
