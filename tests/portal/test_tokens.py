"""Tokens from the portal: list (filters shared with the API), add, edit (block), delete;
through the services the API calls; only people holding the permission on every site."""

from __future__ import annotations

from django.urls import reverse

from apps.charging.models import IdToken
from apps.charging.services import token_create

CARD = {"uid": " 04A1B2C3 ", "token_type": "ISO14443", "label": "Front desk", "is_active": "on"}


def test_owner_adds_edits_blocks_and_deletes_a_token(personas, client_for):
    client = client_for(personas.owner)
    empty = client.get(reverse("charging:token_list")).content.decode()
    assert "Add the first token." in empty and reverse("charging:token_list") in empty  # nav

    assert client.get(reverse("charging:token_create")).status_code == 200
    assert client.post(reverse("charging:token_create"), CARD).status_code == 302
    token = IdToken.objects.get(uid="04A1B2C3")
    assert (token.label, token.is_active, token.expires_at) == ("Front desk", True, None)
    duplicate = client.post(reverse("charging:token_create"), CARD)
    assert duplicate.status_code == 400 and IdToken.objects.filter(uid="04A1B2C3").count() == 1

    listing = client.get(reverse("charging:token_list"), {"q": "front"}).content.decode()
    assert "04A1B2C3" in listing and reverse("charging:token_edit", args=[token.pk]) in listing

    blocked = client.post(
        reverse("charging:token_edit", args=[token.pk]),
        {**CARD, "is_active": "", "expires_at": "2030-01-31T18:00"},
    )
    assert blocked.status_code == 302
    token.refresh_from_db()
    assert not token.is_active and token.expires_at.year == 2030
    inactive = client.get(reverse("charging:token_list"), {"is_active": "false"}).content.decode()
    assert "04A1B2C3" in inactive

    assert client.post(reverse("charging:token_delete", args=[token.pk])).status_code == 302
    assert not IdToken.objects.filter(pk=token.pk).exists()


def test_tokens_are_for_people_who_hold_the_permission_on_every_site(personas, client_for):
    token = token_create(uid="KEEP-ME", label="kept")
    delegate = client_for(personas.delegate)  # scoped to one site
    for response in (
        delegate.get(reverse("charging:token_list")),
        delegate.post(reverse("charging:token_create"), CARD),
        delegate.post(reverse("charging:token_edit", args=[token.pk]), {**CARD, "is_active": ""}),
        delegate.post(reverse("charging:token_delete", args=[token.pk])),
        client_for(personas.outsider).post(reverse("charging:token_delete", args=[token.pk])),
    ):
        assert response.status_code == 403
    token.refresh_from_db()
    assert token.is_active and token.uid == "KEEP-ME"
    assert not IdToken.objects.filter(uid="04A1B2C3").exists()


def test_the_api_and_the_portal_create_the_same_blocked_token(personas, client_for):
    """Parity: one service behind both.  (The API's create with ``is_active`` used to reach a
    ``token_create`` that did not take it: a 500.)"""
    from tests.api.conftest import api_client
    from tests.conftest import _tenant

    api = api_client(_tenant("alpha"), user=personas.owner)
    response = api.post(
        "/api/v1/tokens/", {"uid": "API-CARD", "is_active": False, "label": "api"}, format="json"
    )
    assert response.status_code == 201, response.content
    portal = client_for(personas.owner).post(
        reverse("charging:token_create"), {**CARD, "uid": "PORTAL-CARD", "is_active": ""}
    )
    assert portal.status_code == 302
    made = {t.uid: t.is_active for t in IdToken.objects.filter(uid__in=["API-CARD", "PORTAL-CARD"])}
    assert made == {"API-CARD": False, "PORTAL-CARD": False}
