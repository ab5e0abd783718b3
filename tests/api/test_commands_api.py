"""Remote commands as endpoints: the payload each OCPP version gets, the station's answer, the
HTTP status of each failure, and one audit entry per command whatever happened.

The command service's transport (``commands.station_call``) is replaced by a recorder here (its own tests drive real stations;
``test_commands_live.py`` goes through a real server and station end to end)."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEntry
from apps.ocpp import commands
from tests.api.conftest import make_session, make_station


class FakeStation:
    """Stands in for ``commands.station_call``: records calls, answers from a script."""

    def __init__(self, answers=None, error: Exception | None = None):
        self.calls: list[tuple[str, str, dict]] = []
        self.answers = answers or {}
        self.error = error

    def __call__(self, station, action, payload, *, timeout=None, validate=True):
        if validate:
            commands.validate_action_payload(station.ocpp_version, action, payload)
        self.calls.append((station.identity, action, payload))
        if self.error is not None:
            raise self.error
        answer = self.answers.get(action, {"status": "Accepted"})
        return answer(payload) if callable(answer) else answer


@pytest.fixture
def fake(monkeypatch):
    def install(**kwargs) -> FakeStation:
        station = FakeStation(**kwargs)
        monkeypatch.setattr(commands, "station_call", station)
        return station

    return install


@pytest.fixture
def stations(alpha_sites):
    a1 = alpha_sites[0]
    return {
        "1.6": make_station(a1, "CMD-16"),
        "2.0.1": make_station(a1, "CMD-201", version="2.0.1"),
    }


def data_as_sent(data: dict, command: str) -> dict:
    """The validated input, defaults included, as the audit log keeps it."""
    defaults = {
        "reset": {"kind": "soft"},
        "unlock": {"connector_id": 1},
        "availability": {"evse_id": None},
        "trigger-message": {"evse_id": None},
    }
    return {**defaults.get(command, {}), **data}


def post(client, station, command, data):
    return client.post(f"/api/v1/stations/{station.pk}/{command}/", data, format="json")


@pytest.mark.parametrize(
    "version,command,data,action,payload",
    [
        ("1.6", "reset", {"kind": "hard"}, "Reset", {"type": "Hard"}),
        ("1.6", "reset", {}, "Reset", {"type": "Soft"}),
        ("2.0.1", "reset", {"kind": "hard"}, "Reset", {"type": "Immediate"}),
        ("2.0.1", "reset", {"kind": "soft"}, "Reset", {"type": "OnIdle"}),
        ("1.6", "unlock", {"evse_id": 2}, "UnlockConnector", {"connectorId": 2}),
        ("2.0.1", "unlock", {"evse_id": 2}, "UnlockConnector", {"evseId": 2, "connectorId": 1}),
        (
            "1.6",
            "availability",
            {"operative": False},
            "ChangeAvailability",
            {"connectorId": 0, "type": "Inoperative"},
        ),
        (
            "2.0.1",
            "availability",
            {"operative": True, "evse_id": 1},
            "ChangeAvailability",
            {"operationalStatus": "Operative", "evse": {"id": 1}},
        ),
        (
            "1.6",
            "trigger-message",
            {"message": "StatusNotification", "evse_id": 1},
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "connectorId": 1},
        ),
        (
            "2.0.1",
            "trigger-message",
            {"message": "Heartbeat"},
            "TriggerMessage",
            {"requestedMessage": "Heartbeat"},
        ),
    ],
)
def test_each_version_gets_its_own_words(
    version, command, data, action, payload, stations, fake, personas, api_for
):
    station = stations[version]
    recorder = fake()
    response = post(api_for(personas.delegate), station, command, data)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "Accepted", "response": {"status": "Accepted"}}
    assert recorder.calls == [(station.identity, action, payload)]
    entry = AuditEntry.objects.get()
    assert entry.action == f"station.{command.replace('-', '_')}"
    assert entry.succeeded and entry.source == "api" and entry.site_id == station.site_id
    assert entry.changes == {
        "input": data_as_sent(data, command),
        "calls": [{"action": action, "payload": payload}],
        "state": "answered",
        "status": "Accepted",
        "responses": [{"status": "Accepted"}],
        "error": None,
    }


@pytest.mark.parametrize(
    "error,status,code",
    [
        (commands.StationOffline("The station is offline."), 409, "station_offline"),
        (commands.CommandTimeout("No answer within 30 s."), 504, "station_timeout"),
        (commands.CommandRejected("NotSupported", "no reset here"), 502, "station_rejected"),
        (commands.CommandError("Lost the channel layer"), 502, "command_failed"),
    ],
)
def test_failures_map_to_http_and_are_audited(
    error, status, code, stations, fake, personas, api_for
):
    fake(error=error)
    response = post(api_for(personas.owner), stations["1.6"], "reset", {"kind": "soft"})
    assert response.status_code == status
    body = response.json()["error"]
    assert body["code"] == code
    if code == "station_rejected":
        assert body["details"] == {"code": "NotSupported", "description": "no reset here"}
    entry = AuditEntry.objects.get()
    assert entry.action == "station.reset" and not entry.succeeded
    assert entry.changes["error"]["type"] == type(error).__name__


def test_a_station_that_never_connected_is_offline(alpha_sites, fake, personas, api_for):
    station = make_station(alpha_sites[0], "NEVER", version="", online=False)
    recorder = fake()
    response = post(api_for(personas.owner), station, "reset", {})
    assert response.status_code == 409 and response.json()["error"]["code"] == "station_offline"
    assert recorder.calls == []
    entry = AuditEntry.objects.get()  # the attempt is on record too
    assert (entry.action, entry.succeeded) == ("station.reset", False)
    assert entry.changes["error"]["type"] == "StationOffline"


def test_invalid_input_is_refused_before_reaching_the_station(stations, fake, personas, api_for):
    recorder = fake()
    client = api_for(personas.owner)
    assert post(client, stations["1.6"], "unlock", {"evse_id": 0}).status_code == 400
    assert post(client, stations["1.6"], "availability", {}).status_code == 400
    bad_trigger = post(client, stations["1.6"], "trigger-message", {"message": "Coffee"})
    assert bad_trigger.status_code == 400
    assert bad_trigger.json()["error"]["code"] == "invalid_payload"
    assert "requestedMessage" in str(bad_trigger.json()["error"]["details"])
    assert recorder.calls == []


def test_configuration_read_in_both_versions(stations, fake, personas, api_for):
    recorder = fake(
        answers={
            "GetConfiguration": {
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
                ],
                "unknownKey": ["Nope"],
            },
            "GetVariables": lambda payload: {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "300",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    },
                    {
                        "attributeStatus": "UnknownVariable",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "Nope"},
                    },
                ]
            },
        }
    )
    client = api_for(personas.delegate)
    old = client.get(
        f"/api/v1/stations/{stations['1.6'].pk}/configuration/",
        {"key": ["HeartbeatInterval", "Nope"]},
    )
    assert old.status_code == 200, old.content
    assert old.json()["values"] == [
        {"key": "HeartbeatInterval", "value": "300", "readonly": False, "status": "Accepted"}
    ]
    assert old.json()["unknown"] == ["Nope"]
    new = client.get(
        f"/api/v1/stations/{stations['2.0.1'].pk}/configuration/",
        {"key": ["OCPPCommCtrlr/HeartbeatInterval", "OCPPCommCtrlr/Nope"]},
    )
    assert new.status_code == 200, new.content
    assert new.json()["values"][0]["key"] == "OCPPCommCtrlr/HeartbeatInterval"
    assert new.json()["values"][0]["value"] == "300"
    assert new.json()["unknown"] == ["OCPPCommCtrlr/Nope"]
    assert recorder.calls[0][1:] == (
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "Nope"]},
    )
    assert recorder.calls[1][2]["getVariableData"][0] == {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
    }
    # 2.0.1 has no "everything": a key is required, and must name a component
    assert client.get(f"/api/v1/stations/{stations['2.0.1'].pk}/configuration/").status_code == 400
    bad = client.get(
        f"/api/v1/stations/{stations['2.0.1'].pk}/configuration/", {"key": "HeartbeatInterval"}
    )
    assert bad.status_code == 400
    assert AuditEntry.objects.filter(action="station.configuration_read").count() == 2


def test_configuration_keys_may_also_be_spelt_with_dots(stations, fake, personas, api_for):
    """``Component.Variable`` (the portal's spelling) is accepted and answered as written."""
    recorder = fake(
        answers={
            "GetVariables": {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "300",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    }
                ]
            }
        }
    )
    response = api_for(personas.delegate).get(
        f"/api/v1/stations/{stations['2.0.1'].pk}/configuration/",
        {"key": "OCPPCommCtrlr.HeartbeatInterval"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["values"][0]["key"] == "OCPPCommCtrlr.HeartbeatInterval"
    assert recorder.calls[0][2]["getVariableData"] == [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    ]


def test_configuration_change_in_both_versions(stations, fake, personas, api_for):
    recorder = fake(
        answers={
            "ChangeConfiguration": lambda p: {
                "status": "RebootRequired" if p["key"] == "WebSocketPingInterval" else "Accepted"
            },
            "SetVariables": lambda p: {
                "setVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "component": item["component"],
                        "variable": item["variable"],
                    }
                    for item in p["setVariableData"]
                ]
            },
        }
    )
    client = api_for(personas.delegate)
    old = post(
        client,
        stations["1.6"],
        "configuration",
        {
            "changes": [
                {"key": "HeartbeatInterval", "value": "120"},
                {"key": "WebSocketPingInterval", "value": "30"},
            ]
        },
    )
    assert old.status_code == 200, old.content
    assert old.json()["results"] == [
        {"key": "HeartbeatInterval", "status": "Accepted"},
        {"key": "WebSocketPingInterval", "status": "RebootRequired"},
    ]
    new = post(
        client,
        stations["2.0.1"],
        "configuration",
        {"changes": [{"key": "OCPPCommCtrlr/HeartbeatInterval", "value": "120", "evse_id": 1}]},
    )
    assert new.status_code == 200, new.content
    assert new.json()["results"] == [
        {"key": "OCPPCommCtrlr/HeartbeatInterval", "status": "Accepted"}
    ]
    assert [c[1] for c in recorder.calls] == [
        "ChangeConfiguration",
        "ChangeConfiguration",
        "SetVariables",
    ]
    assert recorder.calls[2][2]["setVariableData"][0]["component"] == {
        "name": "OCPPCommCtrlr",
        "evse": {"id": 1},
    }
    entry = AuditEntry.objects.filter(action="station.configuration_change").earliest("id")
    assert entry.changes["calls"][0]["payload"] == {
        "key": "HeartbeatInterval",
        "value": "120",
    }


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_remote_start_answers_at_once_with_the_command(version, stations, fake, personas, api_for):
    """The station's acceptance is the answer: nobody waits for the session, which the
    command's audit entry (``command_id``) gains when the station reports it."""
    recorder = fake()
    client = api_for(personas.delegate)
    station = stations[version]
    response = post(client, station, "remote-start", {"evse_id": 1, "id_token": "APP-1"})
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action="session.remote_start")
    [(identity, action, payload)] = recorder.calls
    if version == "1.6":
        assert (action, payload) == ("RemoteStartTransaction", {"connectorId": 1, "idTag": "APP-1"})
        remote_start_id = None
    else:
        remote_start_id = payload["remoteStartId"]
        assert (action, payload) == (
            "RequestStartTransaction",
            {
                "evseId": 1,
                "remoteStartId": remote_start_id,
                "idToken": {"idToken": "APP-1", "type": "Central"},
            },
        )
    assert response.json() == {
        "status": "Accepted",
        "command_id": entry.pk,
        "remote_start_id": remote_start_id,
    }
    assert entry.succeeded and entry.changes["state"] == "answered"
    assert entry.changes["input"] == {"evse_id": 1, "id_token": "APP-1", "token_type": "Central"}
    assert post(client, station, "remote-start", {"evse_id": 9, "id_token": "X"}).status_code == 400


def test_remote_stop_only_for_an_active_session_of_this_station(stations, fake, personas, api_for):
    recorder = fake()
    station, other = stations["1.6"], stations["2.0.1"]
    active = make_session(station, uid="T1", active=True)
    active.transaction_id = "31"  # 1.6 transaction ids are the CSMS's integers
    active.save()
    ended = make_session(other, uid="T2")
    client = api_for(personas.delegate)
    assert post(client, station, "remote-stop", {"session_id": ended.pk}).status_code == 400
    ended.station = station
    ended.transaction_id = "done"
    ended.save()
    finished = post(client, station, "remote-stop", {"session_id": ended.pk})
    assert finished.status_code == 409
    response = post(client, station, "remote-stop", {"session_id": active.pk})
    assert response.status_code == 200 and response.json()["status"] == "Accepted"
    assert recorder.calls == [("CMD-16", "RemoteStopTransaction", {"transactionId": 31})]
    entry = AuditEntry.objects.get(action="session.remote_stop")
    assert entry.succeeded and entry.changes["input"] == {"session_id": active.pk}


def test_raw_ocpp_call_is_validated_before_sending(stations, fake, personas, api_for):
    recorder = fake(answers={"DataTransfer": {"status": "Accepted", "data": "pong"}})
    owner = api_for(personas.owner)
    station = stations["1.6"]
    invalid = post(owner, station, "ocpp-call", {"action": "DataTransfer", "payload": {"x": 1}})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "invalid_payload"
    unknown = post(owner, station, "ocpp-call", {"action": "MakeCoffee", "payload": {}})
    assert unknown.status_code == 400
    # a 2.0.1 action is not an action of a 1.6 station
    wrong_version = post(
        owner, station, "ocpp-call", {"action": "GetVariables", "payload": {"getVariableData": []}}
    )
    assert wrong_version.status_code == 400
    assert recorder.calls == []
    # a lax station skips the service's check, never the raw call's
    station.lax_validation = True
    station.save()
    assert (
        post(owner, station, "ocpp-call", {"action": "DataTransfer", "payload": {}}).status_code
        == 400
    )
    assert recorder.calls == []
    ok = post(
        owner,
        station,
        "ocpp-call",
        {"action": "DataTransfer", "payload": {"vendorId": "com.example", "messageId": "ping"}},
    )
    assert ok.status_code == 200 and ok.json() == {
        "response": {"status": "Accepted", "data": "pong"}
    }
    assert recorder.calls == [
        ("CMD-16", "DataTransfer", {"vendorId": "com.example", "messageId": "ping"})
    ]
    assert AuditEntry.objects.filter(action="station.ocpp_call", succeeded=True).count() == 1


def test_raw_calls_are_for_site_admins_only(stations, fake, personas, api_for):
    fake()
    response = post(
        api_for(personas.delegate),
        stations["1.6"],
        "ocpp-call",
        {"action": "Reset", "payload": {"type": "Soft"}},
    )
    assert response.status_code == 403


def test_a_viewer_cannot_command(stations, fake, personas, api_for):
    recorder = fake()
    response = post(api_for(personas.fleet_manager), stations["1.6"], "reset", {})
    assert response.status_code == 403
    assert recorder.calls == [] and not AuditEntry.objects.exists()
