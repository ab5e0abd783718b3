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
