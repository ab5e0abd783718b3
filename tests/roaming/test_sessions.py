"""Sessions and CDRs of a partner's driver: PUT at start, PATCH with energy and at the end,
and the CDR with billing's amounts (the receipt's total) once the session is priced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.billing import services as billing
from apps.billing.models import SessionCost
from apps.billing.services.sessions import session_running_price
from apps.charging.metering import Sample
from apps.charging.services import meter_values_record, session_start, session_stop
from apps.ocpp.samples import SignedValue, signed_from
from apps.ocpp.services import signed_values_received
from apps.roaming import services, shapes211
from apps.roaming.models import Push, SignedMeterValue
from apps.stations.services import site_create, station_register
from tests.live import unique_identity

from .factories import PartnerFactory

T0 = dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC)  # Monday 15:00 in Montreal
ENDPOINTS = [
    {"identifier": e, "role": "RECEIVER", "url": f"https://emsp.example/ocpi/{e}"}
    for e in ("locations", "sessions", "cdrs")
]
TARIFF = {"currency": "CAD", "session_fee": "1.00", "energy": [{"price_per_kwh": "0.25"}]}


@pytest.fixture
def roaming_session_setup(alpha):
    site = site_create(name=f"Roaming {unique_identity()}", timezone="America/Montreal")
    station = station_register(identity=unique_identity(), password=None, site=site)
    tariff = billing.tariff_create(
        name="Public", definition=TARIFF, effective_from=T0 - dt.timedelta(days=30)
    )
    billing.tariff_assign(tariff=tariff, site=site)
    billing.tax_rate_set(site=site, code="GST", name="GST", rate=Decimal("0.05"), position=1)
    partner = PartnerFactory(party_id="EMS", endpoints=ENDPOINTS)
    services.token_store(
        partner=partner,
        data={
            "contract_id": "NL-EMS-C00000001",
            "issuer": "Peer eMSP",
            "valid": True,
            "whitelist": "ALWAYS",
        },
        country_code="NL",
        party_id="EMS",
        uid="ROAM1",
    )
    return station, partner


def test_session_pushed_at_start_and_end_and_cdr_with_the_receipt_amounts(
    roaming_session_setup, django_capture_on_commit_callbacks
):
    station, partner = roaming_session_setup
    session, _ = session_start(
        station_id=station.pk,
        evse_id=1,
        id_token="ROAM1",
        meter_start_wh=10_000,
        started_at=T0,
    )
    put = Push.objects.get(module="sessions", method="PUT")
    assert put.partner == partner and put.path == f"/CA/ALP/{session.pk}"
    assert put.body["status"] == "ACTIVE" and put.body["kwh"] == 0
    assert put.body["cdr_token"] == {
        "country_code": "NL",
        "party_id": "EMS",
        "uid": "ROAM1",
        "type": "RFID",
        "contract_id": "NL-EMS-C00000001",
    }
    assert put.body["evse_uid"] == f"{station.pk}-1" and put.body["currency"] == "CAD"
    # the session fee so far, priced by billing as the receipt will be
    assert put.body["total_cost"] == {"excl_vat": 1.0, "incl_vat": 1.05}

    meter_values_record(
        station_id=station.pk,
        evse_id=1,
        session=session,
        samples=[
            Sample(
                timestamp=T0 + dt.timedelta(minutes=30),
                measurand="Energy.Active.Import.Register",
                value=Decimal(20_000),
                unit="Wh",
            )
        ],
    )
    running = Push.objects.get(module="sessions", method="PATCH")
    assert running.body["kwh"] == 10.0
    # 1.00 + 10 kWh × 0.25 = 3.50, + 5 % GST = 3.675 → 3.68: billing's own running price
    excl, incl = session_running_price(session_id=session.pk)
    assert (excl, incl) == (Decimal("3.50"), Decimal("3.68"))
    assert running.body["total_cost"] == {"excl_vat": 3.5, "incl_vat": 3.68}
    running.delete()

    session_stop(
        station_id=station.pk,
        transaction_id=session.transaction_id,
        meter_stop_wh=30_500,
        ended_at=T0 + dt.timedelta(hours=1),
    )
    end = Push.objects.get(module="sessions", method="PATCH")
    assert end.body["status"] == "COMPLETED" and end.body["kwh"] == 20.5
    assert end.body["end_date_time"] == "2026-03-02T21:00:00Z"

    with django_capture_on_commit_callbacks(execute=True):
        billing.session_bill(session_id=session.pk)
    cost = SessionCost.objects.get(session=session)
    (cdr_push,) = Push.objects.filter(module="cdrs")
    cdr = cdr_push.body
    assert cdr_push.method == "POST" and cdr_push.partner == partner
    # the receipt: 1.00 + 20.5 kWh × 0.25 = 6.125 → 6.13 (rounded as billing does) + 5 % GST
    assert Decimal(str(cdr["total_cost"]["incl_vat"])) == cost.total
    assert Decimal(str(cdr["total_cost"]["excl_vat"])) == cost.total_excl_tax
    assert Decimal(str(cdr["total_energy"])) == Decimal("20.5")
    assert cdr["id"] == cost.receipt_number and cdr["session_id"] == str(session.pk)
    assert cdr["tariffs"][0]["elements"] and cdr["cdr_token"]["uid"] == "ROAM1"
    assert cdr["cdr_location"]["evse_uid"] == f"{station.pk}-1"


def test_our_own_drivers_sessions_are_not_pushed(roaming_session_setup):
    station, _ = roaming_session_setup
    session_start(
        station_id=station.pk, evse_id=1, id_token="LOCAL", meter_start_wh=0, started_at=T0
    )
    assert not Push.objects.filter(module="sessions").exists()


OCMF_BEGIN = (
    'OCMF|{"FV":"1.0","RD":[{"TM":"2026-03-02T15:00:00,000-0500 S","RV":10.0}]}|{"SD":"3045"}'
)
OCMF_END = (
    'OCMF|{"FV":"1.0","RD":[{"TM":"2026-03-02T16:00:00,000-0500 S","RV":30.5}]}|{"SD":"3046"}'
)


def test_signed_meter_values_parsed_from_both_versions():
    v16 = signed_from(
        [
            {
                "timestamp": "2026-03-02T20:00:00Z",
                "sampled_value": [
                    {"value": "10000", "context": "Transaction.Begin"},
                    {"value": OCMF_BEGIN, "format": "SignedData", "context": "Transaction.Begin"},
                ],
            }
        ],
        "1.6",
    )
    assert v16 == [
        SignedValue(
            "2026-03-02T20:00:00Z",
            "Transaction.Begin",
            "Energy.Active.Import.Register",
            OCMF_BEGIN,
            "OCMF",
            plain="10000",
        )
    ]
    v201 = signed_from(
        [
            {
                "timestamp": "2026-03-02T21:00:00Z",
                "sampled_value": [
                    {
                        "value": 30500,
                        "context": "Transaction.End",
                        "signed_meter_value": {
                            "signed_meter_data": "c2lnbmVk",
                            "signing_method": "ECDSA-secp256r1-SHA256",
                            "encoding_method": "EDL",
                            "public_key": "cHVibGlj",
                        },
                    },
                    {"value": 7.2, "measurand": "Power.Active.Import"},  # not signed
                ],
            }
        ],
        "2.0.1",
    )
    assert [(v.signed_data, v.encoding, v.public_key, v.plain) for v in v201] == [
        ("c2lnbmVk", "EDL", "cHVibGlj", "30500")
    ]
    assert signed_from([{"sampled_value": [{"value": "5"}]}], "1.6") == []


def test_signed_readings_reach_the_cdr(roaming_session_setup, django_capture_on_commit_callbacks):
    station, partner = roaming_session_setup
    session, _ = session_start(
        station_id=station.pk, evse_id=1, id_token="ROAM1", meter_start_wh=10_000, started_at=T0
    )

    def signed(context, blob, plain):
        return SignedValue("2026-03-02T20:00:00Z", context, "Energy.Active.Import.Register",
                           blob, "OCMF", plain=plain)  # fmt: skip

    received = signed_values_received
    received(
        station_id=station.pk,
        evse_id=1,
        transaction_id=session.transaction_id,
        signed=[signed("Transaction.Begin", OCMF_BEGIN, "10000")],
    )
    received(station_id=station.pk, evse_id=1, transaction_id=None,  # the port's session
             signed=[signed("Sample.Periodic", "OCMF|{}|{}", "20000"),
                     signed("Transaction.End", OCMF_END, "30500"),
                     signed("Sample.Periodic", "x" * 5001, "")])  # fmt: skip
    session_stop(
        station_id=station.pk,
        transaction_id=session.transaction_id,
        meter_stop_wh=30_500,
        ended_at=T0 + dt.timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        billing.session_bill(session_id=session.pk)
    (cdr_push,) = Push.objects.filter(module="cdrs")
    assert cdr_push.body["signed_data"] == {
        "encoding_method": "OCMF",
        "signed_values": [
            {"nature": "Start", "plain_data": "10000", "signed_data": OCMF_BEGIN},
            {"nature": "Intermediate", "plain_data": "20000", "signed_data": "OCMF|{}|{}"},
            {"nature": "End", "plain_data": "30500", "signed_data": OCMF_END},
        ],  # the 5001-character one is left out, not cut
    }
    assert "signed_data" not in shapes211.cdr(cdr_push.body)  # 2.1.1 has none


def test_our_own_drivers_signed_readings_are_not_kept(roaming_session_setup):
    station, _ = roaming_session_setup
    session, _ = session_start(
        station_id=station.pk, evse_id=1, id_token="OURS-1", meter_start_wh=0, started_at=T0
    )
    signed_values_received(
        station_id=station.pk,
        evse_id=1,
        transaction_id=session.transaction_id,
        signed=[SignedValue("t", "Transaction.Begin", "E", OCMF_BEGIN)],
    )
    assert not SignedMeterValue.objects.exists()
