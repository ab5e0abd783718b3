"""Signed meter values from live stations (both OCPP versions) reach a partner's session's
CDR data: the adapters hand them on as they came (core event), roaming keeps them."""

from __future__ import annotations

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from apps.charging.models import ChargingSession
from apps.roaming import services
from apps.roaming.choices import PartnerStatus
from apps.roaming.models import Partner
from apps.roaming.sessions import signed_data
from apps.stations.models import Site, Station
from apps.stations.services import station_register
from apps.tenants.models import StationIdentity
from tests.factories import SiteFactory
from tests.live import unique_identity
from tests.ocpp.clients import Connected, in_db

OCMF = 'OCMF|{"FV":"1.0","RD":[{"RV":%s}]}|{"SD":"30%s"}'


def _partner_with_card(uid: str) -> None:
    partner = Partner.objects.create(
        name="eMSP",
        country_code="NL",
        party_id="SIG",
        status=PartnerStatus.CONNECTED,
        version="2.2.1",
        incoming_token=f"in-{unique_identity()}",
    )
    data = {"contract_id": "NL-SIG-C1", "issuer": "eMSP", "valid": True, "whitelist": "ALWAYS"}
    services.token_store(partner=partner, data=data, country_code="NL", party_id="SIG", uid=uid)


@pytest.mark.slow
async def test_signed_values_from_live_stations_reach_the_cdr_data(roaming_server, live_alpha):
    identity, password = unique_identity(), "pw-signed-0123456789"

    def setup():
        _partner_with_card("SIGNED-1")
        return station_register(
            identity=identity, password=password, site=SiteFactory(name=f"Site {identity}")
        )

    station = await in_db(live_alpha, setup)
    try:
        async with Connected(roaming_server.ws, identity, password, "1.6") as cp:
            start = await cp.call(
                call16.StartTransaction(
                    connector_id=1, id_tag="SIGNED-1", meter_start=1000,
                    timestamp="2026-12-07T12:00:00Z",
                ),
                suppress=False,
            )  # fmt: skip

            def reading(context, wh, at):
                return [
                    {
                        "timestamp": at,
                        "sampledValue": [
                            {"value": str(wh), "context": context, "unit": "Wh"},
                            {"value": OCMF % (wh, wh), "format": "SignedData",
                             "context": context},
                        ],
                    }
                ]  # fmt: skip

            await cp.call(
                call16.MeterValues(
                    connector_id=1, transaction_id=start.transaction_id,
                    meter_value=reading("Transaction.Begin", 1000, "2026-12-07T12:00:00Z"),
                )
            )  # fmt: skip
            await cp.call(
                call16.StopTransaction(
                    transaction_id=start.transaction_id, meter_stop=8500,
                    timestamp="2026-12-07T12:30:00Z",
                    transaction_data=reading("Transaction.End", 8500, "2026-12-07T12:30:00Z"),
                ),
                suppress=False,
            )  # fmt: skip
        async with Connected(roaming_server.ws, identity, password, "2.0.1") as cp:
            signed = {"signedMeterData": "c2lnbmVk", "signingMethod": "ECDSA-secp256r1-SHA256",
                      "encodingMethod": "EDL", "publicKey": "cHVi"}  # fmt: skip
            await cp.call(
                call201.TransactionEvent(
                    event_type="Started", timestamp="2026-12-07T13:00:00Z",
                    trigger_reason="Authorized", seq_no=0,
                    transaction_info={"transactionId": "TX-SIGNED"},
                    id_token={"idToken": "SIGNED-1", "type": "ISO14443"},
                    evse={"id": 1, "connectorId": 1},
                    meter_value=[{"timestamp": "2026-12-07T13:00:00Z", "sampledValue": [
                        {"value": 100, "context": "Transaction.Begin",
                         "signedMeterValue": signed}]}],
                ),
                suppress=False,
            )  # fmt: skip

        def check():
            first, second = ChargingSession.objects.filter(station_id=station.pk).order_by("pk")
            return signed_data(first), signed_data(second)

        v16, v201 = await in_db(live_alpha, check)
        assert v16 == {
            "encoding_method": "OCMF",
            "signed_values": [
                {"nature": "Start", "plain_data": "1000", "signed_data": OCMF % (1000, 1000)},
                {"nature": "End", "plain_data": "8500", "signed_data": OCMF % (8500, 8500)},
            ],
        }
        assert v201 == {
            "encoding_method": "EDL",
            "public_key": "cHVi",
            "signed_values": [{"nature": "Start", "plain_data": "100", "signed_data": "c2lnbmVk"}],
        }
    finally:

        def cleanup():
            ChargingSession.objects.filter(station_id=station.pk).delete()
            Station.objects.filter(pk=station.pk).delete()
            Site.objects.filter(pk=station.site_id).delete()
            StationIdentity.objects.filter(identity=identity).delete()

        await in_db(live_alpha, cleanup)
