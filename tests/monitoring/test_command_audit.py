"""The portal's remote control and the REST API are two doors to one command service: the same
command writes the same audit entry through either (only the source differs)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.monitoring import queue as monitoring_queue
from apps.monitoring.services.remote import remote_start_run
from apps.ocpp import commands
from tests.api.conftest import api_client, make_session, make_station

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def station_calls(monkeypatch):
    """The transport under the command service, answering Accepted like a station."""
    sent = []

    def station_call(station, action, payload, *, timeout=None, validate=True):
        commands.validate_action_payload(station.ocpp_version, action, payload)
        sent.append((action, payload))
        if action == "GetConfiguration":
            return {"configurationKey": [{"key": "A", "readonly": True, "value": "1"}]}
        return {"status": "Accepted"}

    monkeypatch.setattr(commands, "station_call", station_call)
    # The portal queues a remote start for a worker (its answer then reaches the page live):
    # here the worker's job runs in this process, as soon as it is queued.
    monkeypatch.setattr(monitoring_queue, "remote_start", lambda **job: remote_start_run(**job))
    return sent


# (portal view, portal form data, API method, API path, API body); {session} is filled in
CASES = {
    "reset": ("station_reset", {"reset-reset_type": "Hard"}, "post", "reset", {"kind": "hard"}),
    "unlock": ("station_unlock", {"unlock-evse_id": "2"}, "post", "unlock", {"evse_id": 2}),
    "availability": (
        "station_availability",
        {"availability-evse_id": "0", "availability-operative": "0"},
        "post",
        "availability",
        {"operative": False},
    ),
    "trigger": (
        "station_trigger",
        {"trigger-message": "StatusNotification", "trigger-evse_id": "1"},
        "post",
        "trigger-message",
        {"message": "StatusNotification", "evse_id": 1},
    ),
    "configuration_read": (
        "station_configuration_read",
        {"configuration_read-keys": ""},
        "get",
        "configuration",
        None,
    ),
    "configuration_change": (
        "station_configuration_change",
        {"configuration_change-key": "HeartbeatInterval", "configuration_change-value": "60"},
        "post",
        "configuration",
        {"changes": [{"key": "HeartbeatInterval", "value": "60"}]},
    ),
    "remote_start": (
        "station_remote_start",
        {"remote_start-evse_id": "1", "remote_start-id_token": "APP-1"},
        "post",
        "remote-start",
        {"evse_id": 1, "id_token": "APP-1"},
    ),
    "remote_stop": (
        "station_remote_stop",
        {"remote_stop-session": "{session}"},
        "post",
        "remote-stop",
        {"session_id": "{session}"},
    ),
}


def filled(data, session_id: int):
    """The session's id where the case says {session} (a form posts it as text)."""
    if data is None:
        return None
    return {
        key: (str(session_id) if "-" in key else session_id) if value == "{session}" else value
        for key, value in data.items()
    }


@pytest.mark.parametrize("command", list(CASES))
def test_portal_and_api_write_the_same_entry(
    command, alpha, alpha_sites, personas, client_for, station_calls
):
    station = make_station(alpha_sites[0], "SAME-1")
    session = make_session(station, uid="T1", active=True)
    session.transaction_id = "31"
    session.save()
    view, form, method, path, body = CASES[command]

    portal = client_for(personas.owner).post(
        reverse(f"stations:{view}", args=[station.pk]), filled(form, session.pk), **HTMX
    )
    assert portal.status_code == 200
    api = api_client(alpha, user=personas.owner)
    url = f"/api/v1/stations/{station.pk}/{path}/"
    if method == "get":
        response = api.get(url)
    else:
        response = api.post(url, filled(body, session.pk), format="json")
    assert response.status_code == 200, response.content

    via_portal, via_api = AuditEntry.objects.order_by("id")
    assert (via_portal.source, via_api.source) == ("portal", "api")
    assert station_calls[0] == station_calls[1]
    keep = ("action", "object_type", "object_id", "site_id", "user_id", "succeeded", "changes")
    assert {f: getattr(via_portal, f) for f in keep} == {f: getattr(via_api, f) for f in keep}
    assert via_api.succeeded and via_api.changes["state"] == "answered"
    assert via_api.changes["calls"] == [{"action": a, "payload": p} for a, p in station_calls[:1]]
