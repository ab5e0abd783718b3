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


# --- Granting, inviting and revoking through the API (issue 13, parity with /people/) --------


def test_the_owner_grants_invites_and_revokes_through_the_api(
    personas, api_for, alpha_sites, mailoutbox, django_capture_on_commit_callbacks
):
    from apps.roles.models import RoleAssignment
    from apps.roles.services import role_by_slug

    a1, a2 = alpha_sites
    owner = api_for(personas.owner)
    viewer = role_by_slug("viewer")
    granted = owner.post(
        "/api/v1/role-assignments/",
        {"user": personas.outsider.pk, "role": viewer.pk, "sites": [a2.pk]},
        format="json",
    )
    assert granted.status_code == 201, granted.content
    assert granted.json()["sites"] == [a2.pk] and granted.json()["role_slug"] == "viewer"
    assert [s["name"] for s in results(api_for(personas.outsider).get("/api/v1/sites/"))] == [
        "A2 Depot"
    ]

    with django_capture_on_commit_callbacks(execute=True):
        invited = owner.post(
            "/api/v1/role-assignments/invite/",
            {"email": "New.Person@Example.test", "role": viewer.pk, "all_sites": True},
            format="json",
        )
    assert invited.status_code == 201, invited.content
    body = invited.json()
    assert body["created"] and body["emailed"]
    assert body["assignment"]["user_email"] == "new.person@example.test"
    assert body["assignment"]["all_sites"] is True
    assert len(mailoutbox) == 1 and "/people/welcome/" in mailoutbox[0].body

    revoked = owner.delete(f"/api/v1/role-assignments/{granted.json()['id']}/")
    assert revoked.status_code == 204
    assert not RoleAssignment.objects.filter(user=personas.outsider).exists()
    assert api_for(personas.outsider).get("/api/v1/sites/").status_code == 403
    actions = list(
        AuditEntry.objects.filter(source="api").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["role.grant", "person.invite", "role.revoke"]


def test_the_api_refuses_what_the_portal_refuses(personas, api_for, alpha_sites):
    from apps.roles.models import RoleAssignment
    from apps.roles.services import role_by_slug

    owner = api_for(personas.owner)
    own = RoleAssignment.objects.get(user=personas.owner)
    assert owner.delete(f"/api/v1/role-assignments/{own.pk}/").status_code == 403
    assert RoleAssignment.objects.filter(pk=own.pk).exists()
    nowhere = owner.post(
        "/api/v1/role-assignments/",
        {"user": personas.outsider.pk, "role": role_by_slug("viewer").pk},
        format="json",
    )
    assert nowhere.status_code == 400 and "sites" in nowhere.json()["error"]["details"]
    bad_email = owner.post(
        "/api/v1/role-assignments/invite/",
        {"email": "not-an-address", "role": role_by_slug("viewer").pk, "all_sites": True},
        format="json",
    )
    assert bad_email.status_code == 400 and "email" in bad_email.json()["error"]["details"]
    # A key cannot give powers its creator's key does not hold there.
    from apps.roles.services import api_key_create

    _, raw = api_key_create(
        name="people only",
        created_by=personas.owner,
        permissions=["people.manage", "people.view"],
        all_sites=True,
    )
    refused = api_for(key=raw).post(
        "/api/v1/role-assignments/",
        {"user": personas.outsider.pk, "role": role_by_slug("viewer").pk, "all_sites": True},
        format="json",
    )
    assert refused.status_code == 403
    assert not RoleAssignment.objects.filter(user=personas.outsider).exists()
    # The delegate (no people.manage) gets nothing.
    delegate = api_for(personas.delegate).post(
        "/api/v1/role-assignments/",
        {"user": personas.outsider.pk, "role": role_by_slug("viewer").pk, "all_sites": True},
        format="json",
    )
    assert delegate.status_code == 403
