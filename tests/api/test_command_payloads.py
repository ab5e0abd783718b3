"""The one command-payload builder (``apps.ocpp.payloads``) that the API and the portal share,
checked against the official OCPP JSON schemas.  Pure: nothing is sent."""

from __future__ import annotations

import pytest

from apps.ocpp import payloads
from apps.ocpp.commands import validate_action_payload

V16, V201 = payloads.V16, payloads.V201


def valid(version: str, call: payloads.Call) -> payloads.Call:
    validate_action_payload(version, call.action, call.payload)
    return call


@pytest.mark.parametrize(
    ("version", "hard", "word"),
    [(V16, False, "Soft"), (V16, True, "Hard"), (V201, False, "OnIdle"), (V201, True, "Immediate")],
)
def test_reset_speaks_each_versions_words(version, hard, word):
    assert valid(version, payloads.reset(version, hard=hard)).payload == {"type": word}


def test_the_whole_station_is_evse_none_or_zero():
    for evse_id in (None, 0):
        assert valid(V16, payloads.availability(V16, operative=False, evse_id=evse_id)).payload == {
            "connectorId": 0,
            "type": "Inoperative",
        }
        assert valid(
            V201, payloads.availability(V201, operative=True, evse_id=evse_id)
        ).payload == {"operationalStatus": "Operative"}
    port = valid(V201, payloads.availability(V201, operative=True, evse_id=2))
    assert port.payload["evse"] == {"id": 2}


def test_unlock_and_trigger_name_the_port_in_each_versions_words():
    assert valid(V16, payloads.unlock(V16, evse_id=2)).payload == {"connectorId": 2}
    assert valid(V201, payloads.unlock(V201, evse_id=2, connector_id=1)).payload == {
        "evseId": 2,
        "connectorId": 1,
    }
    assert valid(V16, payloads.trigger(V16, message="MeterValues", evse_id=2)).payload == {
        "requestedMessage": "MeterValues",
        "connectorId": 2,
    }
    assert valid(V201, payloads.trigger(V201, message="MeterValues", evse_id=2)).payload == {
        "requestedMessage": "MeterValues",
        "evse": {"id": 2},
    }
    assert payloads.trigger(V201, message="Heartbeat", evse_id=None).payload == {
        "requestedMessage": "Heartbeat"
    }


def test_both_key_spellings_name_the_same_variable():
    pair = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    assert payloads.parse_variable("OCPPCommCtrlr/HeartbeatInterval") == pair
    assert payloads.parse_variable(" OCPPCommCtrlr.HeartbeatInterval ") == pair
    with_instance = payloads.parse_variable("SampledDataCtrlr/TxEndedMeasurands/Default", 3)
    assert with_instance == {
        "component": {"name": "SampledDataCtrlr", "evse": {"id": 3}},
        "variable": {"name": "TxEndedMeasurands", "instance": "Default"},
    }
    assert payloads.key_of(with_instance) == "SampledDataCtrlr/TxEndedMeasurands/Default"
    for bad in ("HeartbeatInterval", "A/", "/B", "A//C", "A/B/C/D", ""):
        with pytest.raises(payloads.BadKey):
            payloads.parse_variable(bad)


def test_get_variables_needs_a_key_and_answers_in_the_callers_spelling():
    with pytest.raises(payloads.BadKey):
        payloads.configuration_get(V201, keys=[])
    assert payloads.configuration_get(V16, keys=[]).payload == {}
    keys = ["OCPPCommCtrlr.HeartbeatInterval", "AuthCtrlr/Nope"]
    call = valid(V201, payloads.configuration_get(V201, keys=keys))
    assert [item["variable"]["name"] for item in call.payload["getVariableData"]] == [
        "HeartbeatInterval",
        "Nope",
    ]
    answer = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeValue": "60",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            },
            {
                "attributeStatus": "UnknownVariable",
                "component": {"name": "AuthCtrlr"},
                "variable": {"name": "Nope"},
            },
            {  # not asked for by name: the documented spelling
                "attributeStatus": "Accepted",
                "attributeValue": "true",
                "component": {"name": "TxCtrlr"},
                "variable": {"name": "StopTxOnEVSideDisconnect"},
            },
        ]
    }
    values = payloads.configuration_values(V201, answer, keys=keys)
    assert [row["key"] for row in values.values] == [
        "OCPPCommCtrlr.HeartbeatInterval",
        "TxCtrlr/StopTxOnEVSideDisconnect",
    ]
    assert values.unknown == ["AuthCtrlr/Nope"]


def test_configuration_changes_one_call_per_key_in_16_one_in_201():
    changes = [
        {"key": "HeartbeatInterval", "value": "60"},
        {"key": "MeterValueSampleInterval", "value": "30"},
    ]
    calls = payloads.configuration_set(V16, changes=changes)
    assert [valid(V16, call).payload["key"] for call in calls] == [
        "HeartbeatInterval",
        "MeterValueSampleInterval",
    ]
    assert payloads.configuration_results(
        V16, changes, [{"status": "Accepted"}, {"status": "RebootRequired"}]
    ) == [
        {"key": "HeartbeatInterval", "status": "Accepted"},
        {"key": "MeterValueSampleInterval", "status": "RebootRequired"},
    ]
    changes = [{"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60", "evse_id": None}]
    [call] = payloads.configuration_set(V201, changes=changes)
    valid(V201, call)
    answer = {
        "setVariableResult": [
            {
                "attributeStatus": "Rejected",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            }
        ]
    }
    assert payloads.configuration_results(V201, changes, [answer]) == [
        {"key": "OCPPCommCtrlr.HeartbeatInterval", "status": "Rejected"}
    ]
