"""The roaming API as the owner uses it: invite a partner (the token is shown once), list
partners, their tokens and the pushes; registering with an unreachable partner is a 400."""

from __future__ import annotations

from django.test import override_settings

from apps.roaming.models import Partner
from tests.api.conftest import api_client, results


def test_owner_invites_a_partner_and_sees_it(alpha, personas):
    client = api_client(alpha, user=personas.owner)
    created = client.post("/api/v1/roaming/partners/", {"name": "Hubject"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    partner = Partner.objects.get(pk=body["id"])
    assert body["token"] == partner.incoming_token and body["status"] == "invited"
    assert body["our_versions_url"] == "https://alpha.localhost/ocpi/versions"
    listed = client.get("/api/v1/roaming/partners/")
    assert [row["name"] for row in results(listed)] == ["Hubject"]
    assert "token" not in results(listed)[0]  # shown only when created
    assert "incoming_token" not in str(listed.content) and partner.incoming_token not in str(
        listed.content
    )


@override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True)
def test_registering_with_an_unreachable_partner_is_a_400(alpha, personas):
    client = api_client(alpha, user=personas.owner)
    answer = client.post(
        "/api/v1/roaming/partners/",
        {"name": "Down", "versions_url": "http://127.0.0.1:9/ocpi/versions", "token": "t"},
        format="json",
    )
    assert answer.status_code == 400
    assert not Partner.objects.exists()


def test_versions_url_and_token_go_together(alpha, personas):
    client = api_client(alpha, user=personas.owner)
    answer = client.post(
        "/api/v1/roaming/partners/",
        {"name": "Half", "versions_url": "https://x.example/ocpi/versions"},
        format="json",
    )
    assert answer.status_code == 400
