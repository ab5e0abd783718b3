"""The one search box: stations, sites, tokens and sessions by id, name or serial, within the
caller's scope (a delegate never finds what is on another site)."""

from __future__ import annotations

from django.urls import reverse


def search(client, query: str) -> str:
    response = client.get(reverse("stations:search"), {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_finds_stations_sites_tokens_and_sessions(personas, client_for, network):
    from apps.charging.services import token_create

    token_create(uid="CARD-SEARCH-1", label="Night shift")
    client = client_for(personas.owner)
    stations = search(client, "charger")
    assert "A1-CHARGER-1" in stations and "A2-CHARGER-1" in stations
    assert "A2 Depot" in search(client, "depot")
    assert "CARD-SEARCH-1" in search(client, "night")
    by_number = search(client, str(network.a2_session.pk))
    assert reverse("charging:session_detail", args=[network.a2_session.pk]) in by_number
    assert "A2-TOKEN" in search(client, "A2-TOKEN")  # a session by its token
    assert "Nothing matches" in search(client, "no-such-thing-anywhere")
    # the box is on every page
    assert 'action="/search/"' in client.get(reverse("dashboard:home")).content.decode()


def test_a_delegate_finds_only_what_is_on_their_site(personas, client_for, network):
    delegate = client_for(personas.delegate)  # site A1 only
    found = search(delegate, "charger")
    assert "A1-CHARGER-1" in found and "A2-CHARGER" not in found
    assert "A2 Depot" not in search(delegate, "depot")
    response = delegate.get(reverse("stations:search"), {"q": "A2-TOKEN"})
    assert response.context["groups"] == []  # neither the token nor the A2 session
    assert reverse("charging:session_detail", args=[network.a2_session.pk]) not in search(
        delegate, str(network.a2_session.pk)
    )
    assert client_for(personas.outsider).get(reverse("stations:search")).status_code == 403


def test_people_are_found_by_email_or_name_within_scope(personas, client_for, network):
    """People with a role here, by e-mail, name or number; only for those who may see people
    (``people.view``), and never people of another tenant."""
    from apps.accounts.models import User

    personas.fleet_manager.full_name = "Rosalie Gagnon"
    personas.fleet_manager.save()
    owner = client_for(personas.owner)
    found = search(owner, "gagnon")
    assert "fleet@alpha.test" in found and "Rosalie Gagnon" in found
    assert "delegate@installer.test" in search(owner, "installer")
    assert "fleet@alpha.test" in search(owner, str(personas.fleet_manager.pk))
    # a user with no role in this tenant is nobody here
    User.objects.create_user(email="stranger@elsewhere.test", password="x" * 12)
    assert "stranger@elsewhere.test" not in search(owner, "stranger")
    assert "owner@beta.test" not in search(owner, "beta.test")  # another tenant's owner
    # the link opens the people list on that person
    people = owner.get(reverse("roles:assignment_list"), {"q": "fleet@alpha.test"})
    page = people.content.decode()
    assert "fleet@alpha.test" in page and "delegate@installer.test" not in page
    # the delegate may not see people: none found
    delegate = client_for(personas.delegate).get(reverse("stations:search"), {"q": "gagnon"})
    assert all(group["kind"] != "people" for group in delegate.context["groups"])
