"""One scoping path: what each persona sees and may do."""

import pytest

from apps.core.permissions import grants
from apps.core.scoping import EVERYTHING, NOTHING, Scope
from apps.roles.selectors import ApiKeyActor, UserActor, api_key_lookup
from apps.roles.services import api_key_create, api_key_revoke
from apps.stations.models import Site


def test_scope_algebra():
    a, b = Scope(site_ids=frozenset({1, 2})), Scope(site_ids=frozenset({2, 3}))
    assert a.union(b).site_ids == {1, 2, 3}
    assert a.intersection(b).site_ids == {2}
    assert EVERYTHING.intersection(a) == a and a.union(EVERYTHING).all_sites
    assert NOTHING.empty and not a.empty


def test_grants_wildcards_and_unknown_codes():
    assert grants(["*"], "sites.view")
    assert grants(["sites.*"], "sites.manage")
    assert not grants(["sites.view"], "sites.manage")
    with pytest.raises(KeyError):
        grants(["*"], "sites.fly")


def test_restrict_per_persona(personas, alpha_sites):
    a1, a2 = alpha_sites

    def names(user):
        return set(
            Site.objects.restrict(UserActor(user), "sites.view").values_list("name", flat=True)
        )  # noqa: E731

    assert names(personas.owner) == {"A1 Garage", "A2 Depot"}
    assert names(personas.delegate) == {"A1 Garage"}
    assert names(personas.fleet_manager) == {"A1 Garage", "A2 Depot"}
    assert names(personas.outsider) == set()
    # the delegate may command stations only where granted, and never manage people
    assert UserActor(personas.delegate).scope_for("stations.command").site_ids == {a1.pk}
    assert UserActor(personas.delegate).scope_for("people.manage").empty


def test_inactive_user_sees_nothing(personas):
    personas.owner.is_active = False
    assert UserActor(personas.owner).scope_for("sites.view").empty


def test_api_key_is_hashed_scoped_and_never_exceeds_its_creator(personas, alpha_sites):
    a1, a2 = alpha_sites
    key, raw = api_key_create(
        name="BMS",
        created_by=personas.delegate,
        permissions=["sites.view", "stations.command"],
        all_sites=True,
    )
    assert raw not in key.key_hash and raw.startswith(f"cg_{key.prefix}_")
    found = api_key_lookup(raw)
    assert found == key
    actor = ApiKeyActor(found)
    # all_sites on the key, but its creator (the delegate) only has A1
    assert actor.scope_for("sites.view").site_ids == {a1.pk}
    assert actor.scope_for("stations.configure").empty  # not a permission of the key
    assert api_key_lookup(raw[:-1] + ("x" if raw[-1] != "x" else "y")) is None
    api_key_revoke(key=key)
    assert api_key_lookup(raw) is None


@pytest.mark.parametrize(
    "persona,status",
    [
        ("owner", 200),
        ("delegate", 200),
        ("fleet_manager", 200),
        ("outsider", 403),
        ("other_tenant_user", 302),
    ],
)
def test_site_list_page_per_persona(personas, client_for, beta, persona, status):
    user = getattr(personas, persona)
    tenant = beta if persona == "other_tenant_user" else None
    client = client_for(user, tenant=tenant)
    if tenant is not None:
        client.defaults["HTTP_HOST"] = "alpha.localhost"  # beta's session presented to alpha
    assert client.get("/sites/").status_code == status


def test_site_detail_outside_scope_is_404(personas, client_for, alpha_sites):
    a1, a2 = alpha_sites
    client = client_for(personas.delegate)
    assert client.get(f"/sites/{a1.pk}/").status_code == 200
    assert client.get(f"/sites/{a2.pk}/").status_code == 404
    page = client.get("/sites/").content.decode()
    assert "A1 Garage" in page and "A2 Depot" not in page


def test_people_page_only_for_those_who_may_see_people(personas, client_for):
    assert client_for(personas.owner).get("/people/").status_code == 200
    assert client_for(personas.delegate).get("/people/").status_code == 403
    assert client_for(personas.outsider).get("/people/").status_code == 403
    assert client_for(None).get("/people/").status_code == 302
