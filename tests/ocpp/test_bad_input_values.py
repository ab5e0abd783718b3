"""The pure rules behind the bad-input answers, case by case (no server): which value gets
which CallError, which frames are replies never to be answered, meter values out of range,
timestamps out of range."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from ocpp.exceptions import (
    FormatViolationError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)

from apps.charging.metering import SampleError, SampleRangeError, normalise
from apps.ocpp import protocol
from apps.ocpp.samples import samples_from
from apps.ocpp.times import parse_time
from apps.ocpp.validation import check_values


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"idTag": "A\x00B"}, PropertyConstraintViolationError),
        ({"idTag": "A\ud800"}, PropertyConstraintViolationError),
        ({"idToken": {"idToken": "\udfff", "type": "ISO14443"}}, PropertyConstraintViolationError),
        ({"vendorId": "V", "data": {"k\ud83d": 1}}, PropertyConstraintViolationError),  # a key
        ({"vendorId": "V", "data": ["ok", ["\x00"]]}, PropertyConstraintViolationError),
        ({"connectorId": -1}, PropertyConstraintViolationError),
        ({"evseId": -1}, PropertyConstraintViolationError),
        ({"evse": {"id": -3, "connectorId": 1}}, PropertyConstraintViolationError),
        ({"connectorId": 10**30}, TypeConstraintViolationError),
        ({"connectorId": 2**31}, TypeConstraintViolationError),
        ({"seqNo": -(2**31) - 1}, TypeConstraintViolationError),
        ({"meterStart": 2**63}, TypeConstraintViolationError),
        ({"value": float("inf")}, TypeConstraintViolationError),
        ({"data": json.loads("[" * 70 + "]" * 70)}, FormatViolationError),
    ],
)
def test_values_the_database_cannot_hold_get_the_named_error(payload, error):
    with pytest.raises(error):
        check_values(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"idTag": "Zoë 😀", "connectorId": 0, "transactionId": -5},  # astral chars: fine
        {"connectorId": 2**31 - 1, "reservationId": -(2**31)},
        {"meterStart": 2**40, "meterStop": 2**63 - 1},  # Wh registers may pass 2^31
        {"data": "a\\u0000 is six characters here", "ok": True, "n": None, "x": 1.5},
    ],
)
def test_storable_values_pass(payload):
    check_values(payload)


@pytest.mark.parametrize(
    ("raw", "unit", "multiplier"),
    [
        ("1e30", None, 0),
        ("-1e16", None, 0),
        ("1e999999999", None, 0),  # would overflow the decimal context
        (1, None, 10**6),
        (1, None, -(10**9)),
        (10_000_000_000_000, "kWh", 0),  # 10^16 Wh
    ],
)
def test_meter_values_no_meter_produces_are_out_of_range(raw, unit, multiplier):
    with pytest.raises(SampleRangeError):
        normalise(
            measurand="Energy.Active.Import.Register",
            raw_value=raw,
            unit=unit,
            multiplier=multiplier,
        )


def test_power_is_held_to_32_bits_and_plain_values_still_normalise():
    with pytest.raises(SampleRangeError):
        normalise(measurand="Power.Active.Import", raw_value=2200, unit="kW", multiplier=3)
    assert normalise(measurand="Power.Active.Import", raw_value="350", unit="kW") == (
        Decimal("350000.0000"),
        "W",
    )
    assert normalise(
        measurand="Energy.Active.Import.Register", raw_value="9999999999999.9999", unit="kWh"
    ) == (Decimal("9999999999999999.9000"), "Wh")
    with pytest.raises(SampleError) as raised:
        normalise(measurand="Energy.Active.Import.Register", raw_value="abc", unit=None)
    assert not isinstance(raised.value, SampleRangeError)


def test_a_meter_value_out_of_range_refuses_the_report_a_non_number_is_skipped():
    good = {"value": "12", "measurand": "Energy.Active.Import.Register"}
    signed = {"value": "not-a-number", "measurand": "Energy.Active.Import.Register"}
    report = [{"timestamp": "2026-01-01T00:00:00Z", "sampled_value": [good, signed]}]
    assert [s.value for s in samples_from(report, "1.6")] == [Decimal("12.0000")]
    report[0]["sampled_value"].append({"value": "1e30"})
    with pytest.raises(PropertyConstraintViolationError):
        samples_from(report, "1.6")


@pytest.mark.parametrize(
    "frame",
    [
        '[3, "id"]',
        "[3]",
        '[4, "id"]',
        "[3, 7, {}]",
        '[3, "id", []]',
        '[3, "id", {}, {}]',
        '[4, "id", 1, "d", {}]',
        '[4, "id", "GenericError", "d", {}, 1]',
        '[3, "id", {"v": NaN}]',
        '[4, "id", "GenericError", "d", {',
        ' [ 3 , "id"]',
    ],
)
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_malformed_replies_are_ignored_never_answered(frame, version):
    checked = protocol.precheck(frame, version, 65536, {"Heartbeat"})
    assert isinstance(checked, protocol.Rejection) and checked.reply is None


def test_well_formed_replies_pass_and_non_json_calls_are_answered():
    assert protocol.precheck('[3, "id", {}]', "1.6", 65536, set()).message_type == 3
    assert protocol.precheck('[4, "id", "GenericError", "d"]', "1.6", 65536, set())
    assert protocol.precheck('[4, "id", "GenericError", "d", {}]', "1.6", 65536, set())
    for text in ('[2, "id", "Heartbeat", {"v": NaN}]', "[" * 5000 + "]" * 5000):
        rejection = protocol.precheck(text, "2.0.1", 65536, {"Heartbeat"})
        assert '"RpcFrameworkError"' in rejection.reply


def test_timestamps_out_of_range_or_not_text_mean_now():
    before = timezone.now()
    for value in ("9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+01:00", 12, None, "x"):
        assert parse_time(value) >= before
    assert parse_time("2026-01-01T01:00:00+01:00") == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
