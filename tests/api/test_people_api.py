"""API keys (created with the secret shown once, listed, revoked), roles and assignments."""

from apps.audit.models import AuditEntry
from apps.roles.models import ApiKey
from tests.api.conftest import results


def test_create_shows_the_secret_once_and_the_key_works(personas, api_for, alpha_sites):
    a1 = alpha_sites[0]
    owner = api_for(personas.owner)
    response = owner.post(
        "/api/v1/api-keys/",
        {"name": "BMS", "permissions": ["stations.view", "sites.view"], "sites": [a1.pk]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    raw = body["key"]
    assert raw.startswith(f"cg_{body['prefix']}_")
    key = ApiKey.objects.get(pk=body["id"])
    assert raw not in key.key_hash and key.created_by == personas.owner
    # never shown again
    assert "key" not in owner.get(f"/api/v1/api-keys/{key.pk}/").json()
    assert all("key" not in row for row in results(owner.get("/api/v1/api-keys/")))
    assert raw not in str(AuditEntry.objects.get(action="api_key.create").changes)

    integrator = api_for(key=raw)
    assert [s["name"] for s in results(integrator.get("/api/v1/sites/"))] == ["A1 Garage"]
    assert integrator.get("/api/v1/sessions/").status_code == 403  # not granted

    revoked = owner.post(f"/api/v1/api-keys/{key.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert revoked.json()["is_usable"] is False
    assert integrator.get("/api/v1/sites/").status_code == 401
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "api_key.create",
        "api_key.revoke",
    ]


def test_keys_are_checked_against_their_creator_and_the_registry(personas, api_for, alpha_sites):
    owner = api_for(personas.owner)
    unknown = owner.post(
        "/api/v1/api-keys/",
        {"name": "x", "permissions": ["sites.fly"], "all_sites": True},
        format="json",
    )
    assert unknown.status_code == 400 and "permissions" in unknown.json()["error"]["details"]
    nowhere = owner.post(
        "/api/v1/api-keys/", {"name": "x", "permissions": ["sites.view"]}, format="json"
    )
    assert nowhere.status_code == 400
    # people.manage ⇒ only all-sites holders; the delegate cannot even list keys
    assert api_for(personas.delegate).get("/api/v1/api-keys/").status_code == 403


def test_a_key_made_by_a_key_belongs_to_the_same_person(personas, api_for):
    from apps.roles.services import api_key_create

    _, raw = api_key_create(
        name="admin key", created_by=personas.fleet_manager, permissions=["*"], all_sites=True
    )
    # the fleet manager holds no api_keys.manage: their key cannot manage keys either
    assert api_for(key=raw).get("/api/v1/api-keys/").status_code == 403


def test_roles_and_assignments_are_readable_by_people_admins(personas, api_for):
    owner = api_for(personas.owner)
    slugs = {r["slug"] for r in results(owner.get("/api/v1/roles/"))}
    assert {"site-admin", "delegate-configure", "viewer"} <= slugs
    rows = results(owner.get("/api/v1/role-assignments/", {"role__slug": "delegate-configure"}))
    assert [(r["user_email"], r["all_sites"], len(r["sites"])) for r in rows] == [
        ("delegate@installer.test", False, 1)
    ]
    assert api_for(personas.fleet_manager).get("/api/v1/roles/").status_code == 403
