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
