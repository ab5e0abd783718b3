from __future__ import annotations

import factory

from apps.roaming.choices import PartnerStatus
from apps.roaming.models import Partner


class PartnerFactory(factory.django.DjangoModelFactory):
    """A partner already connected (the handshake is tested against the peer process)."""

    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"eMSP {n}")
    country_code = "NL"
    party_id = factory.Sequence(lambda n: f"E{n % 100:02d}")
    roles = ["EMSP"]
    status = PartnerStatus.CONNECTED
    version = "2.2.1"
    versions_url = "https://emsp.example/ocpi/versions"
    incoming_token = factory.Sequence(lambda n: f"token-c-{n}")
    outgoing_token = factory.Sequence(lambda n: f"token-b-{n}")
    endpoints = [
        {"identifier": "locations", "role": "RECEIVER", "url": "https://emsp.example/ocpi/loc"},
        {"identifier": "tokens", "role": "SENDER", "url": "https://emsp.example/ocpi/tokens"},
    ]


def roaming_inventory() -> dict[str, object]:
    """One object of each roaming model, for the API isolation table."""
    from apps.roaming.models import Push, RemoteCommand, RemoteToken

    partner = PartnerFactory()
    token = RemoteToken.objects.create(
        partner=partner,
        country_code="NL",
        party_id=partner.party_id,
        uid="ISO-1",
        contract_id="NL-E00-C1",
        issuer="eMSP",
        whitelist="ALWAYS",
        last_updated="2026-12-01T00:00:00Z",
    )
    push = Push.objects.create(
        partner=partner, module="locations", method="PATCH", path="/x", body={}
    )
    command = RemoteCommand.objects.create(
        partner=partner, command="STOP_SESSION", body={}, response_url="https://e.example/r"
    )
    return {
        "roaming_partner": partner,
        "roaming_token": token,
        "roaming_push": push,
        "roaming_command": command,
    }
