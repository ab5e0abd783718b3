"""The compiled validators (apps/ocpp/validation.py) agree with the ocpp library's own."""

from __future__ import annotations

import copy
from pathlib import Path

import ocpp
import pytest
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallResult, _validate_payload

from apps.ocpp import validation

SCHEMAS = Path(ocpp.__file__).resolve().parent


def _every_schema():
    for version, folder in (("1.6", "v16"), ("2.0.1", "v201")):
        for path in sorted((SCHEMAS / folder / "schemas").glob("*.json")):
            name = path.stem
            if name.endswith("Response"):
                yield version, name.removesuffix("Response"), validation.RESPONSE
            else:
                yield version, name.removesuffix("Request"), validation.REQUEST


@pytest.mark.parametrize(("version", "action", "direction"), list(_every_schema()))
def test_every_schema_of_both_versions_compiles(version, action, direction):
    assert callable(validation.validator(version, action, direction))


VALID = [
    (
        "1.6",
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 7,
            "meterValue": [
                {
                    "timestamp": "2026-11-25T10:00:00Z",
                    "sampledValue": [
                        {"value": "1200", "measurand": "Energy.Active.Import.Register"},
                        {"value": "16.1", "measurand": "Current.Import", "phase": "L1"},
                    ],
                }
            ],
        },
    ),
    (
        "1.6",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "info": "x"},
    ),
    (
        "1.6",
        "StartTransaction",
        {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "t"},
    ),
    (
        "2.0.1",
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": "2026-11-25T10:00:00Z",
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 3,
            "transactionInfo": {"transactionId": "abc"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {"timestamp": "2026-11-25T10:00:00Z", "sampledValue": [{"value": 12.5}]}
            ],
        },
    ),
    (
        "2.0.1",
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}},
    ),
]


def _mutations(payload: dict):
    """Single faults: a key dropped, a value of the wrong type, an unknown key, an overlong
    string, a value outside an enumeration -- at the top level and one level down."""
    yield payload
    for key in payload:
        dropped = copy.deepcopy(payload)
        del dropped[key]
        yield dropped
        for wrong in ("text", 12, 1.5, None, [], {}, True):
            changed = copy.deepcopy(payload)
            changed[key] = wrong
            yield changed
    extra = copy.deepcopy(payload)
    extra["notInTheSchema"] = 1
    yield extra
    for key, value in payload.items():
        if isinstance(value, str):
            longer = copy.deepcopy(payload)
            longer[key] = value * 600
            yield longer
            other = copy.deepcopy(payload)
            other[key] = "NotAnEnumValue"
            yield other
        if isinstance(value, dict):
            for inner in value:
                nested = copy.deepcopy(payload)
                del nested[key][inner]
                yield nested
                nested = copy.deepcopy(payload)
                nested[key][inner] = "text" if not isinstance(value[inner], str) else 5
                yield nested


def _library_verdict(version: str, action: str, payload: dict) -> str | None:
    try:
        _validate_payload(Call("1", action, copy.deepcopy(payload)), version)
    except OCPPError as error:
        return error.code
    return None


def _our_verdict(version: str, action: str, payload: dict) -> str | None:
    try:
        validation.check(version, action, validation.REQUEST, payload)
    except OCPPError as error:
        return error.code
    return None


@pytest.mark.parametrize(("version", "action", "payload"), VALID, ids=lambda v: str(v)[:20])
def test_requests_pass_and_fail_with_the_same_codes_as_the_library(version, action, payload):
    cases = list(_mutations(payload))
    assert len(cases) > 20
    disagreements = [
        (case, _library_verdict(version, action, case), _our_verdict(version, action, case))
        for case in cases
        if _library_verdict(version, action, case) != _our_verdict(version, action, case)
    ]
    assert disagreements == []
    assert _our_verdict(version, action, payload) is None
    assert {_our_verdict(version, action, case) for case in cases} >= {
        None,
        "ProtocolError",
        "TypeConstraintViolation",
        "FormatViolation",
    }


def test_responses_are_checked_against_the_response_schema():
    good = {"currentTime": "2026-11-25T10:00:00Z", "interval": 300, "status": "Accepted"}
    validation.check("1.6", "BootNotification", validation.RESPONSE, good)
    _validate_payload(CallResult("1", good, action="BootNotification"), "1.6")
    with pytest.raises(OCPPError) as caught:
        validation.check(
            "1.6", "BootNotification", validation.RESPONSE, {**good, "status": "Maybe"}
        )
    assert caught.value.code == "FormatViolation"
