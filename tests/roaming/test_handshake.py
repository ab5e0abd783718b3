"""The credentials handshake both ways against the independent eMSP peer (a separate
process): it registers with us from a token we issued, we register with it from a token it
issued, then token rotation and unregistering.  A real ASGI server serves ``/ocpi/``."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.roaming import services
from apps.roaming.choices import PartnerStatus
from apps.roaming.models import Partner

from .conftest import ALPHA_HOST

pytestmark = pytest.mark.slow


def cpo_versions_url() -> str:
    return f"http://{ALPHA_HOST}/ocpi/versions"


def test_peer_registers_with_us_from_our_token_a(live_alpha, peer):
    invited = services.partner_invite(name="Peer eMSP")
    token_a = invited.incoming_token

    result = peer.control("register", {"versions_url": cpo_versions_url(), "token": token_a})

    assert result == {"ok": True, "error": None}
    partner = Partner.objects.get(pk=invited.pk)
    state = peer.state()
    assert partner.status == PartnerStatus.CONNECTED
    assert (partner.country_code, partner.party_id, partner.roles) == ("NL", "EMS", ["EMSP"])
    assert partner.version == "2.2.1"
    assert partner.endpoint("locations") == f"{peer.url}/ocpi/2.2.1/locations"
    # token A was exchanged: they call us with our token C, we call them with their token B
    assert state["cpo_token"] == partner.incoming_token != token_a
    assert partner.outgoing_token == state["issued_token"]
    assert state["cpo_roles"][0]["role"] == "CPO"

    # token A no longer opens anything; token C does
    old = peer.control("call", {"method": "GET", "url": cpo_versions_url(), "token": token_a})
    assert old["status"] == 401 and old["body"]["status_code"] == 2000
    now = peer.control("call", {"method": "GET", "url": cpo_versions_url()})
    assert now["status"] == 200 and now["body"]["status_code"] == 1000
    assert {v["version"] for v in now["body"]["data"]} == {"2.2.1", "2.1.1"}
    assert {k.lower() for k in now["headers"]} >= {"x-request-id", "x-correlation-id"}

    # a second POST is refused: registered parties update with PUT
    again = peer.control(
        "call",
        {
            "method": "POST",
            "url": f"http://{ALPHA_HOST}/ocpi/2.2.1/credentials",
            "body": {"token": "x", "url": peer.versions_url, "roles": []},
        },
    )
    assert again["status"] == 405

    # they unregister: our token stops working
    gone = peer.control(
        "call", {"method": "DELETE", "url": f"http://{ALPHA_HOST}/ocpi/2.2.1/credentials"}
    )
    assert gone["status"] == 200 and gone["body"]["status_code"] == 1000
    assert Partner.objects.get(pk=invited.pk).status == PartnerStatus.UNREGISTERED
    after = peer.control("call", {"method": "GET", "url": cpo_versions_url()})
    assert after["status"] == 401


def test_we_register_with_the_peer_rotate_and_unregister(live_alpha, peer):
    peer.control("issue", {"token": "their-token-A"})

    with override_settings(
        ROAMING_ALLOW_PRIVATE_NETWORKS=True, ROAMING_PUBLIC_BASE_URL=f"http://{ALPHA_HOST}"
    ):
        partner = services.partner_register(
            name="Peer eMSP", versions_url=peer.versions_url, token="their-token-A"
        )
        state = peer.state()
        assert partner.status == PartnerStatus.CONNECTED
        assert (partner.country_code, partner.party_id) == ("NL", "EMS")
        # they fetched our versions with our token B while handling our POST
        assert state["cpo_token"] == partner.incoming_token
        assert state["cpo_versions_url"] == f"http://{ALPHA_HOST}/ocpi/versions"
        assert {e["identifier"] for e in state["cpo_endpoints"]} >= {"credentials", "locations"}
        assert partner.outgoing_token == state["issued_token"]
        assert "their-token-A" not in state["registration_tokens"]

        old_incoming = partner.incoming_token
        partner = services.partner_rotate(partner=partner)
        state = peer.state()
        assert partner.incoming_token != old_incoming
        assert state["cpo_token"] == partner.incoming_token
        assert partner.outgoing_token == state["issued_token"]
        stale = peer.control(
            "call", {"method": "GET", "url": cpo_versions_url(), "token": old_incoming}
        )
        assert stale["status"] == 401

        services.partner_unregister(partner=partner)
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.UNREGISTERED
    assert peer.state()["cpo_token"] is None


def test_registration_with_an_unreachable_partner_fails_cleanly(live_alpha):
    with override_settings(ROAMING_ALLOW_PRIVATE_NETWORKS=True):
        with pytest.raises(services.client.OcpiError):
            services.partner_register(
                name="Nobody", versions_url="http://127.0.0.1:9/ocpi/versions", token="t"
            )
    assert not Partner.objects.exists()
