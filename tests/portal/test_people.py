"""People and roles: invite, grant scoped to sites, revoke; nobody grants more than they hold;
a delegate sees exactly what was granted."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.roles.models import Role, RoleAssignment
from apps.roles.services import role_assign, role_by_slug
from tests.conftest import PASSWORD
from tests.factories import UserFactory


def invite(client, **data):
    return client.post(reverse("roles:assignment_invite"), data)


def test_invite_creates_the_person_grants_and_emails_a_working_link(
    personas, alpha_sites, client_for, django_capture_on_commit_callbacks
):
    from apps.accounts.models import User

    a1, a2 = alpha_sites
    role = role_by_slug("viewer")
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            client_for(personas.owner),
            email="New.Person@Example.test",
            full_name="New Person",
            role=role.pk,
            sites=[a1.pk],
        )
    assert response.status_code == 302
    person = User.objects.get(email="new.person@example.test")
    assert not person.has_usable_password()
    assignment = RoleAssignment.objects.get(user=person)
    assert assignment.role == role and not assignment.all_sites
    assert list(assignment.sites.all()) == [a1]
    assert assignment.granted_by == personas.owner
    assert AuditEntry.objects.get(action="person.invite").changes["sites"] == ["A1 Garage"]
    (message,) = mail.outbox
    assert message.to == ["new.person@example.test"] and "Alpha" in message.subject
    link = re.search(r"https?://\S+", message.body).group(0)
    path = (
        link.split("localhost", 1)[1]
        if "localhost" in link
        else re.sub(r"https?://[^/]+", "", link)
    )

    anonymous = client_for(None)
    page = anonymous.get(path, follow=True)
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    done = anonymous.post(
        page.redirect_chain[-1][0] if page.redirect_chain else path,
        {"new_password1": "a-long-new-passw0rd", "new_password2": "a-long-new-passw0rd"},
    )
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.check_password("a-long-new-passw0rd")
    # The link works once.
    again = anonymous.get(path, follow=True).content.decode()
    assert "new_password1" not in again


def test_delegate_sees_exactly_what_was_granted(network, personas, client_for):
    client = client_for(personas.delegate)
    stations = client.get(reverse("stations:station_list")).content.decode()
    assert "A1-CHARGER-1" in stations and "A1-CHARGER-2" in stations
    assert "A2-CHARGER-1" not in stations
    export = b"".join(client.get(reverse("charging:session_export")).streaming_content).decode()
    assert "A1-TOKEN" in export and "A2-TOKEN" not in export
    map_page = client.get(reverse("dashboard:map")).content.decode()
    assert "A1-CHARGER-1" in map_page and "A2-CHARGER-1" not in map_page
    dashboard = client.get(reverse("dashboard:home"))
    summary = dashboard.context["summary"]
    assert summary.stations_total == 2 and summary.port_counts == {
        "available": 1,
        "charging": 1,
        "faulted": 1,
    }
    assert client.get(reverse("roles:assignment_list")).status_code == 403


def test_a_scoped_people_manager_cannot_grant_beyond_their_sites_or_powers(
    network, personas, alpha_sites, client_for
):
    a1, a2 = alpha_sites
    managers = Role.objects.create(
        slug="site-people",
        name="Site people manager",
        permissions=["people.manage", "people.view", "sites.view", "stations.view"],
    )
    manager = UserFactory(email="manager@alpha.test")
    role_assign(user=manager, role=managers, sites=[a1])
    client = client_for(manager)
    form = client.get(reverse("roles:assignment_invite")).content.decode()
    assert "A1 Garage" in form and "A2 Depot" not in form and 'name="all_sites"' not in form
    # Another site: not even a choice.
    refused = invite(client, email="x@example.test", role=role_by_slug("viewer").pk, sites=[a2.pk])
    assert (
        refused.status_code == 200
        and not RoleAssignment.objects.filter(user__email="x@example.test").exists()
    )
    # A role with powers they do not hold (viewer includes sessions.view): refused.
    refused = invite(client, email="y@example.test", role=role_by_slug("viewer").pk, sites=[a1.pk])
    assert "cannot give permissions" in refused.content.decode()
    assert not RoleAssignment.objects.filter(user__email="y@example.test").exists()
    # Within their powers and their site: granted.
    limited = Role.objects.create(slug="site-look", name="Look", permissions=["stations.view"])
    granted = invite(client, email="z@example.test", role=limited.pk, sites=[a1.pk])
    assert granted.status_code == 302
    assert RoleAssignment.objects.get(user__email="z@example.test").role == limited


def test_grant_and_revoke(network, personas, alpha_sites, client_for):
    client = client_for(personas.owner)
    a1, a2 = alpha_sites
    response = client.post(
        reverse("roles:assignment_grant"),
        {"user": personas.delegate.pk, "role": role_by_slug("viewer").pk, "sites": [a2.pk]},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="role.grant").exists()
    # Viewer on A2 adds A2 to what the delegate sees (view only: no commands there).
    delegate = client_for(personas.delegate)
    assert (
        delegate.get(reverse("stations:station_detail", args=[network.a2_station.pk])).status_code
        == 200
    )
    page = delegate.get(reverse("stations:station_detail", args=[network.a2_station.pk]))
    assert 'id="remote-control"' not in page.content.decode()
    # Revoke the configure role: A1 is gone.
    assignment = RoleAssignment.objects.get(user=personas.delegate, role__slug="delegate-configure")
    response = client.post(reverse("roles:assignment_revoke", args=[assignment.pk]))
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEntry.objects.get(action="role.revoke").object_id == str(assignment.pk)
    assert (
        delegate.get(reverse("stations:station_detail", args=[network.a1_station.pk])).status_code
        == 404
    )


def test_nobody_revokes_their_own_role(personas, client_for):
    own = RoleAssignment.objects.get(user=personas.owner)
    response = client_for(personas.owner).post(
        reverse("roles:assignment_revoke", args=[own.pk]), follow=True
    )
    assert "cannot revoke your own role" in response.content.decode()
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_a_grant_needs_sites(personas, client_for):
    response = client_for(personas.owner).post(
        reverse("roles:assignment_grant"),
        {"user": personas.outsider.pk, "role": role_by_slug("viewer").pk},
    )
    assert response.status_code == 200
    assert not RoleAssignment.objects.filter(user=personas.outsider).exists()


def test_existing_person_gets_the_role_without_a_new_link(
    personas, alpha_sites, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(
            client_for(personas.owner),
            email=personas.outsider.email,
            role=role_by_slug("viewer").pk,
            all_sites="on",
        )
    assert mail.outbox == []
    assert personas.outsider.check_password(PASSWORD)
    assert RoleAssignment.objects.get(user=personas.outsider).all_sites


def test_api_key_created_in_the_portal_is_shown_once_hashed_and_revocable(
    personas, alpha_sites, client_for
):
    from apps.roles.models import ApiKey
    from apps.roles.selectors import api_key_lookup

    client = client_for(personas.owner)
    form = client.get(reverse("roles:api_key_create")).content.decode()
    assert "stations.command" in form
    response = client.post(
        reverse("roles:api_key_create"),
        {
            "name": "BMS",
            "permissions": ["sites.view", "stations.view"],
            "sites": [alpha_sites[0].pk],
        },
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = re.search(r'<pre id="new-key">([^<]+)</pre>', response.content.decode()).group(1)
    key = ApiKey.objects.get(name="BMS")
    assert raw not in key.key_hash and api_key_lookup(raw) == key
    assert list(key.sites.all()) == [alpha_sites[0]] and not key.all_sites
    listing = client.get(reverse("roles:api_key_list")).content.decode()
    assert raw not in listing and f"cg_{key.prefix}_" in listing
    assert AuditEntry.objects.get(action="api_key.create").object_id == str(key.pk)
    client.post(reverse("roles:api_key_revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None and api_key_lookup(raw) is None
    assert AuditEntry.objects.filter(action="api_key.revoke").exists()


def test_a_key_offers_only_permissions_its_creator_holds(personas, client_for):
    from apps.roles.models import Role

    keys = Role.objects.create(
        slug="key-maker", name="Key maker", permissions=["api_keys.manage", "sites.view"]
    )
    maker = UserFactory(email="maker@alpha.test")
    role_assign(user=maker, role=keys, all_sites=True)
    client = client_for(maker)
    form = client.get(reverse("roles:api_key_create")).content.decode()
    assert 'value="sites.view"' in form and 'value="stations.command"' not in form
    response = client.post(
        reverse("roles:api_key_create"),
        {"name": "Too much", "permissions": ["stations.command"], "all_sites": "on"},
    )
    assert response.status_code == 200 and "new-key" not in response.content.decode()
