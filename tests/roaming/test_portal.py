"""Portal pages: the add-partner wizard (invite, or register with their URL and token), the
partner list and one partner's state, tokens, sessions/CDRs sent and errors; who may see them."""

from __future__ import annotations

from django.test import override_settings

from apps.roaming.choices import PushStatus
from apps.roaming.models import Partner, Push

from .factories import PartnerFactory


def test_owner_invites_a_partner_and_gets_the_token_once(client_for, personas):
    client = client_for(personas.owner)
    assert client.get("/roaming/add/").status_code == 200
    page = client.post("/roaming/add/", {"how": "invite", "name": "Hubject"})
    assert page.status_code == 200
    partner = Partner.objects.get(name="Hubject")
    text = page.content.decode()
    assert partner.incoming_token in text and "https://alpha.localhost/ocpi/versions" in text
    listing = client.get("/roaming/").content.decode()
    assert "Hubject" in listing and partner.incoming_token not in listing
    detail = client.get(f"/roaming/{partner.pk}/").content.decode()
    assert partner.incoming_token not in detail


@override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True)
def test_registering_with_an_unreachable_partner_shows_the_error(client_for, personas):
    client = client_for(personas.owner)
    page = client.post(
        "/roaming/add/",
        {
            "how": "register",
            "name": "Down",
            "versions_url": "http://127.0.0.1:9/ocpi/versions",
            "token": "abc",
        },
    )
    assert page.status_code == 400 and "could not be registered" in page.content.decode()
    missing = client.post("/roaming/add/", {"how": "register", "name": "Half"})
    assert missing.status_code == 400


def test_partner_page_shows_tokens_exchanges_and_errors(client_for, personas):
    partner = PartnerFactory(name="Peer")
    partner.tokens.create(
        country_code="NL",
        party_id=partner.party_id,
        uid="CARD-77",
        contract_id="NL-X-1",
        issuer="x",
        whitelist="ALWAYS",
        last_updated="2026-12-01T00:00:00Z",
    )
    Push.objects.create(
        partner=partner,
        module="cdrs",
        method="POST",
        path="",
        body={
            "id": "R-000123",
            "total_cost": {"incl_vat": 6.44},
            "currency": "CAD",
            "total_energy": 20.5,
        },
        status=PushStatus.SUCCEEDED,
    )
    Push.objects.create(
        partner=partner,
        module="locations",
        method="PATCH",
        path="/CA/ALP/LOC1/1-1",
        body={},
        status=PushStatus.RETRYING,
        attempts=2,
        error="HTTP 503, OCPI status None",
    )
    text = client_for(personas.owner).get(f"/roaming/{partner.pk}/").content.decode()
    assert "CARD-77" in text and "R-000123" in text and "6.44" in text
    assert "HTTP 503" in text and "Rotate our token" in text


def test_people_without_roaming_rights_see_nothing(client_for, personas):
    partner = PartnerFactory()
    for user in (personas.outsider, personas.delegate):
        client = client_for(user)
        assert client.get("/roaming/").status_code == 403
        assert client.get(f"/roaming/{partner.pk}/").status_code == 403
        assert client.post("/roaming/add/", {"how": "invite", "name": "X"}).status_code == 403
        assert (
            client.post(f"/roaming/{partner.pk}/action/", {"action": "unregister"}).status_code
            == 403
        )
    assert Partner.objects.count() == 1
    assert client_for().get("/roaming/").status_code == 302  # sign in first


def test_the_roaming_pages_speak_french(client_for, personas):
    from django.conf import settings
    from django.utils import translation

    partner = PartnerFactory(name="Peer")
    client = client_for(personas.owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    # the request leaves French active on this thread: restore it for the tests that follow
    with translation.override(settings.LANGUAGE_CODE):
        listing = client.get("/roaming/").content.decode()
        detail = client.get(f"/roaming/{partner.pk}/").content.decode()
        wizard = client.get("/roaming/add/").content.decode()
    assert "Partenaires d’itinérance" in listing and "Itinérance" in listing
    assert "Connecté" in listing
    assert "Renouveler notre jeton" in detail and "0 jeton" in detail
    assert "Récupérer leurs jetons" in detail and "Jetons récupérés le" in detail
    assert "Comment vous connectez-vous ?" in wizard


@override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True)
def test_pulling_tokens_from_an_unreachable_partner_says_so(client_for, personas):
    offers = PartnerFactory(
        endpoints=[
            {"identifier": "tokens", "role": "SENDER", "url": "http://127.0.0.1:9/ocpi/tokens"}
        ]
    )
    receives_only = PartnerFactory(endpoints=[])
    client = client_for(personas.owner)
    assert "Pull their tokens" in client.get(f"/roaming/{offers.pk}/").content.decode()
    assert "Pull their tokens" not in client.get(f"/roaming/{receives_only.pk}/").content.decode()
    page = client.post(f"/roaming/{offers.pk}/action/", {"action": "pull"}, follow=True)
    assert "could not be reached" in page.content.decode()
    offers.refresh_from_db()
    assert offers.tokens_pulled_at is None and offers.last_error.startswith("Tokens pull")
