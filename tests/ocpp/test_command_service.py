"""The command service itself: its typed reply, the audit entry written before the station is
asked and completed with the outcome, and the remote start's session found from the station's
report (no caller waiting)."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.audit.models import AuditEntry
from apps.charging import services as charging
from apps.core.scoping import SystemActor
from apps.ocpp import commands
from tests.api.conftest import make_station

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
SYSTEM = commands.Requester(actor=SystemActor(), source="system")


@pytest.fixture
def stations(alpha_sites):
    site = alpha_sites[0]
    return {
        "1.6": make_station(site, "SVC-16"),
        "2.0.1": make_station(site, "SVC-201", version="2.0.1"),
    }


@pytest.fixture
def transport(monkeypatch):
    """``station_call`` answering from a script; remembers the audit entry's state at the
    moment each call went out."""
    seen = {"states": [], "answer": {"status": "Accepted"}, "error": None}

    def station_call(station, action, payload, *, timeout=None, validate=True):
        seen["states"].append(list(AuditEntry.objects.values_list("changes__state", "succeeded")))
        if seen["error"] is not None:
            raise seen["error"]
        return seen["answer"]

    monkeypatch.setattr(commands, "station_call", station_call)
    return seen


def test_an_accepted_command_is_on_record_before_the_station_is_asked(stations, transport):
    reply = commands.station_reset(requester=SYSTEM, station=stations["1.6"], kind="hard")
    assert transport["states"] == [[("sent", False)]]
    assert isinstance(reply, commands.CommandReply)
    assert (reply.command, reply.action, reply.status, reply.ok) == (
        "station.reset",
        "Reset",
        "Accepted",
        True,
    )
    assert reply.payload == {"status": "Accepted"} and reply.answered and reply.error is None
    entry = AuditEntry.objects.get(pk=reply.audit_id)
    assert entry.succeeded and entry.changes["state"] == "answered"
    assert entry.changes["calls"] == [{"action": "Reset", "payload": {"type": "Hard"}}]
    reply.raise_error()  # nothing to raise


def test_a_refusal_and_a_failure_are_replies_too(stations, transport):
    transport["answer"] = {"status": "Rejected", "statusInfo": {"reasonCode": "Busy"}}
    refused = commands.station_unlock(requester=SYSTEM, station=stations["2.0.1"], evse_id=1)
    assert (refused.status, refused.ok, refused.message) == (
        "Rejected",
        False,
        "The station answered Rejected. Busy",
    )
    assert not AuditEntry.objects.get(pk=refused.audit_id).succeeded

    transport["error"] = commands.CommandTimeout("No answer.")
    timed_out = commands.station_reset(requester=SYSTEM, station=stations["1.6"])
    assert (timed_out.status, timed_out.ok, timed_out.answered) == ("CommandTimeout", False, False)
    with pytest.raises(commands.CommandTimeout):
        timed_out.raise_error()
    entry = AuditEntry.objects.get(pk=timed_out.audit_id)
    assert entry.changes["state"] == "failed" and entry.changes["error"]["type"] == "CommandTimeout"


def test_a_station_that_never_connected_is_refused_without_asking(alpha_sites, transport):
    station = make_station(alpha_sites[0], "SVC-NEVER", version="", online=False)
    reply = commands.station_reset(requester=SYSTEM, station=station)
    assert (reply.status, reply.ok) == ("StationOffline", False)
    assert transport["states"] == []
    assert AuditEntry.objects.get(pk=reply.audit_id).changes["state"] == "failed"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_session_a_remote_start_asked_for_lands_on_its_entry(stations, transport, version):
    station = stations[version]
    reply = commands.session_remote_start(
        requester=SYSTEM, station=station, evse_id=2, id_token="APP-1"
    )
    assert reply.ok
    assert (reply.remote_start_id is None) == (version == "1.6")
    other = commands.session_remote_start(
        requester=SYSTEM, station=station, evse_id=1, id_token="APP-2"
    )
    if version == "1.6":
        session, _ = charging.session_start(
            station_id=station.pk, evse_id=2, id_token="APP-1", meter_start_wh=0, started_at=T0
        )
    else:
        session, _ = charging.session_from_event(
            station_id=station.pk,
            transaction_id="RS-9",
            evse_id=2,
            connector_id=1,
            id_token="APP-1",
            token_type="Central",
            occurred_at=T0,
            is_start=True,
            remote_start_id=reply.remote_start_id,
            reservation_id=None,
            meter_start_wh=None,
        )
    assert commands.remote_start_session_started(session=session) == reply.audit_id
    entry = AuditEntry.objects.get(pk=reply.audit_id)
    assert entry.changes["session"] == {
        "session_id": session.pk,
        "transaction_id": session.transaction_id,
    }
    assert entry.changes["state"] == "answered"  # the outcome stays as it was
    assert "session" not in AuditEntry.objects.get(pk=other.audit_id).changes
    # A second session with the same port and token is not taken for the same command.
    assert commands.remote_start_session_started(session=session) is None


@pytest.mark.parametrize("refusal", ["offline", "rejected"])
def test_a_refused_remote_start_gets_no_session(stations, transport, refusal):
    if refusal == "offline":
        transport["error"] = commands.StationOffline("The station is offline.")
    else:
        transport["answer"] = {"status": "Rejected"}
    station = stations["1.6"]
    reply = commands.session_remote_start(
        requester=SYSTEM, station=station, evse_id=1, id_token="APP-1"
    )
    assert not reply.ok
    session, _ = charging.session_start(
        station_id=station.pk, evse_id=1, id_token="APP-1", meter_start_wh=0, started_at=T0
    )
    assert commands.remote_start_session_started(session=session) is None
    assert "session" not in AuditEntry.objects.get(pk=reply.audit_id).changes
