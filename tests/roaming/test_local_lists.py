"""Partners' tokens in stations' OCPP local lists: roaming answers the core's
LOCAL_LIST_TOKENS and the access app's compiler merges them (per the OCPI whitelist rules)."""

from __future__ import annotations

from django.test import override_settings

from apps.access.local_lists import compile_list
from apps.roaming import services
from apps.roaming.choices import PartnerStatus
from apps.stations.models import Station
from apps.stations.services import station_register
from tests.factories import SiteFactory
from tests.live import unique_identity

from .factories import PartnerFactory

LONG_UID = "04A1B2C3D4E5F60718293A4B5C6D7E"  # 30 characters: too long for OCPP 1.6


def _token(partner, uid, whitelist="ALWAYS", *, valid=True, token_type="RFID", group=""):
    services.token_store(
        partner=partner,
        data={
            "contract_id": f"NL-E01-{uid[:8]}",
            "issuer": "eMSP",
            "valid": valid,
            "whitelist": whitelist,
            "group_id": group,
        },
        country_code="NL",
        party_id=partner.party_id,
        uid=uid,
        token_type=token_type,
    )


def _station(version: str) -> Station:
    station = station_register(identity=unique_identity(), password=None, site=SiteFactory())
    Station.objects.filter(pk=station.pk).update(ocpp_version=version)
    station.refresh_from_db()
    return station


def test_partner_tokens_join_local_lists_by_their_whitelist(alpha):
    partner = PartnerFactory()
    _token(partner, "ALWAYS-1")
    _token(partner, "ALLOWED-1", "ALLOWED", group="FLEET-7")
    _token(partner, "OFFLINE-1", "ALLOWED_OFFLINE")  # only when the eMSP is unreachable
    _token(partner, "NEVER-1", "NEVER")
    _token(partner, "BLOCKED-1", valid=False)
    _token(partner, "APP-1", token_type="APP_USER")  # not a card a reader sees
    _token(partner, LONG_UID)
    gone = PartnerFactory(status=PartnerStatus.UNREGISTERED)
    _token(gone, "GONE-1")

    listed = compile_list(station=_station("1.6"))
    assert set(listed) == {"ALWAYS-1", "ALLOWED-1"}
    assert listed["ALLOWED-1"] == {
        "status": "Accepted",
        "expiry": None,
        "group": "FLEET-7",
        "type": "ISO14443",
    }
    # 2.0.1 id tokens hold 36 characters
    assert set(compile_list(station=_station("2.0.1"))) == {"ALWAYS-1", "ALLOWED-1", LONG_UID}
    # a partner's token that turns NEVER leaves the lists
    _token(partner, "ALWAYS-1", "NEVER")
    assert set(compile_list(station=_station("1.6"))) == {"ALLOWED-1"}


def test_at_most_the_configured_number_newest_first(alpha):
    partner = PartnerFactory()
    for n in range(5):
        _token(partner, f"CARD-{n}")
    with override_settings(ROAMING_LOCAL_LIST_MAX=2):
        assert set(compile_list(station=_station("1.6"))) == {"CARD-4", "CARD-3"}
    assert len(compile_list(station=_station("1.6"))) == 5
