"""OCPP payloads of charging profiles, checked against the official JSON schemas.  Pure."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ocpp.commands import validate_action_payload
from apps.power import profiles
from apps.power.profiles import Period

START = dt.datetime(2026, 3, 2, 23, 0, tzinfo=dt.UTC)


def tx(version: str, **changes):
    arguments = {
        "version": version,
        "evse_id": 2,
        "purpose": profiles.TX,
        "profile_id": profiles.tx_profile_id(2),
        "stack_level": 3,
        "unit": "A",
        "watts_per_amp": 690,
        "phases": 3,
        "periods": [Period(0, 163)],
        "start": START,
        "transaction_id": "4711",
    } | changes
    return profiles.set_charging_profile(**arguments)


def test_a_1_6_tx_profile():
    payload = tx("1.6")
    validate_action_payload("1.6", "SetChargingProfile", payload)
    assert payload == {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": 102,
            "transactionId": 4711,
            "stackLevel": 3,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2026-03-02T23:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.3, "numberPhases": 3}],
            },
        },
    }


def test_a_2_0_1_tx_profile():
    payload = tx("2.0.1", transaction_id="b7e3-11")
    validate_action_payload("2.0.1", "SetChargingProfile", payload)
    profile = payload["chargingProfile"]
    assert payload["evseId"] == 2
    assert profile["id"] == 102 and profile["transactionId"] == "b7e3-11"
    assert profile["chargingSchedule"][0]["id"] == 1
    assert profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 16.3


def test_a_2_0_1_tx_profile_needs_its_transaction():
    with pytest.raises(ValueError, match="transaction"):
        tx("2.0.1", transaction_id=None)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_station_maximum_and_default_on_evse_0(version):
    maximum = "ChargePointMaxProfile" if version == "1.6" else "ChargingStationMaxProfile"
    for purpose, expected in (
        (profiles.STATION_MAX, maximum),
        (profiles.TX_DEFAULT, "TxDefaultProfile"),
    ):
        payload = profiles.set_charging_profile(
            version=version,
            evse_id=0,
            purpose=purpose,
            profile_id=profiles.STATION_MAX_ID,
            stack_level=0,
            unit="A",
            watts_per_amp=690,
            phases=3,
            periods=[Period(0, 160)],
            start=START,
        )
        validate_action_payload(version, "SetChargingProfile", payload)
        body = payload.get("csChargingProfiles") or payload["chargingProfile"]
        assert body["chargingProfilePurpose"] == expected
        assert "transactionId" not in body


def test_watts_are_total_power_and_exact():
    payload = tx("1.6", unit="W", watts_per_amp=208, phases=1)
    validate_action_payload("1.6", "SetChargingProfile", payload)
    period = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert period == {"startPeriod": 0, "limit": 3390.4, "numberPhases": 1}  # 16.3 A x 208 V


@settings(max_examples=300, deadline=None)
@given(
    limit=st.integers(0, 8000),
    unit=st.sampled_from(["A", "W"]),
    watts_per_amp=st.sampled_from([120, 208, 230, 240, 400, 690, 720]),
    version=st.sampled_from(["1.6", "2.0.1"]),
)
def test_every_limit_passes_the_schema(limit, unit, watts_per_amp, version):
    """1.6 requires multiples of 0.1: deciamps (x volts) / 10 always are, as floats too."""
    payload = tx(version, unit=unit, watts_per_amp=watts_per_amp, periods=[Period(0, limit)])
    validate_action_payload(version, "SetChargingProfile", payload)


def test_a_scheduled_start_is_a_second_period():
    payload = tx("1.6", periods=[Period(0, 0), Period(3600, 60)])
    validate_action_payload("1.6", "SetChargingProfile", payload)
    periods = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, 0.0), (3600, 6.0)]


def test_abilities_of_a_1_6_station():
    action, payload = profiles.capabilities_request("1.6")
    validate_action_payload("1.6", action, payload)
    abilities = profiles.parse_capabilities(
        "1.6",
        {
            "configurationKey": [
                {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "5"},
                {
                    "key": "ChargingScheduleAllowedChargingRateUnit",
                    "readonly": True,
                    "value": "Current,Power",
                },
                {"key": "ChargingScheduleMaxPeriods", "readonly": True, "value": "24"},
            ],
            "unknownKey": [],
        },
    )
    assert abilities == profiles.Capabilities(5, ("A", "W"), 24)
    assert profiles.preferred_unit(abilities) == "A"


def test_abilities_of_a_2_0_1_station():
    action, payload = profiles.capabilities_request("2.0.1")
    validate_action_payload("2.0.1", action, payload)
    abilities = profiles.parse_capabilities(
        "2.0.1",
        {
            "getVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "RateUnit"},
                    "attributeValue": "W",
                },
                {
                    "attributeStatus": "UnknownVariable",
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "ProfileStackLevel"},
                },
            ]
        },
    )
    assert abilities == profiles.Capabilities(None, ("W",), None)
    assert profiles.preferred_unit(abilities) == "W"


def test_a_station_that_says_nothing_gets_amps():
    assert profiles.preferred_unit(profiles.parse_capabilities("1.6", {})) == "A"
