"""The API of the portal's bulk actions (issue 13): start a job over station ids or the
station list's filters, read its progress and each station's outcome; the worker's run is the
portal's (tests/portal/test_bulk_commands.py), run here by the test."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEntry
from apps.monitoring.models import BulkCommand
from apps.monitoring.services.bulk import bulk_command_run
from apps.stations.models import Station
from tests.api.conftest import make_station, results

URL = "/api/v1/bulk-commands/"


@pytest.fixture
def queued(monkeypatch):
    from apps.monitoring import tasks

    jobs: list[int] = []
    monkeypatch.setattr(tasks.bulk_command_run, "delay", jobs.append)
    return jobs


@pytest.fixture
def station_calls(monkeypatch):
    from apps.ocpp import commands

    sent = []

    def station_call(station, action, payload, *, timeout=None, validate=True):
        commands.validate_action_payload(station.ocpp_version, action, payload)
        sent.append((station.identity, action, payload))
        return {"status": "Rejected" if station.identity.endswith("-2") else "Accepted"}

    monkeypatch.setattr(commands, "station_call", station_call)
    return sent


@pytest.fixture
def fleet(alpha_sites):
    a1, a2 = alpha_sites
    stations = [
        make_station(a1, "BULK-A1-1"),
        make_station(a1, "BULK-A1-2"),
        make_station(a2, "BULK-A2-1"),
    ]
    Station.objects.filter(pk__in=[s.pk for s in stations]).update(tags=["fleet"])
    return stations


def test_start_by_filter_then_follow_progress_and_outcomes(
    fleet,
    personas,
    api_for,
    queued,
    station_calls,
    django_capture_on_commit_callbacks,
):
    api = api_for(personas.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            URL,
            {"command": "reset", "arguments": {"kind": "hard"}, "filter": {"tag": "fleet"}},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    job = BulkCommand.objects.get(pk=body["id"])
    assert queued == [job.pk] and station_calls == []  # answered at once; the worker sends
    assert body["status"] == "pending" and body["command"] == "reset"
    assert body["progress"] == {"total": 3, "done": 0, "ok": 0, "failed": 0}
    assert body["sites"] == sorted({s.site_id for s in fleet})
    assert job.filter_query == "tag=fleet"
    assert AuditEntry.objects.filter(action="bulk_command.create").exists()

    bulk_command_run(job_id=job.pk)
    assert sorted(call[0] for call in station_calls) == [s.identity for s in fleet]
    body = api.get(f"{URL}{job.pk}/").json()
    assert body["status"] == "done"
    assert body["progress"] == {"total": 3, "done": 3, "ok": 2, "failed": 1}
    items = results(api.get(f"{URL}{job.pk}/items/"))
    assert [(i["station_identity"], i["status"], i["answer"]) for i in items] == [
        ("BULK-A1-1", "ok", "Accepted"),
        ("BULK-A1-2", "failed", "Rejected"),
        ("BULK-A2-1", "ok", "Accepted"),
    ]
    assert [row["id"] for row in results(api.get(URL))] == [job.pk]


def test_the_delegate_sees_only_their_sites_stations_of_a_job(
    fleet, personas, api_for, queued, django_capture_on_commit_callbacks
):
    owner = api_for(personas.owner)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = owner.post(
            URL,
            {
                "command": "availability",
                "arguments": {"operative": False},
                "stations": [s.pk for s in fleet],
            },
            format="json",
        ).json()["id"]
    delegate = api_for(personas.delegate)  # site A1 only
    body = delegate.get(f"{URL}{job_id}/").json()
    assert body["progress"]["total"] == 2 and body["sites"] == [fleet[0].site_id]
    identities = [i["station_identity"] for i in results(delegate.get(f"{URL}{job_id}/items/"))]
    assert identities == ["BULK-A1-1", "BULK-A1-2"]


def test_a_delegate_starts_a_job_on_their_stations_only(
    fleet, personas, api_for, queued, django_capture_on_commit_callbacks
):
    delegate = api_for(personas.delegate)
    with django_capture_on_commit_callbacks(execute=True):
        response = delegate.post(
            URL,
            {"command": "reset", "arguments": {"kind": "soft"}, "stations": [fleet[2].pk]},
            format="json",
        )
    # A2's station is not theirs: nothing to send, nothing recorded.
    assert response.status_code == 400 and "stations" in response.json()["error"]["details"]
    assert queued == [] and not BulkCommand.objects.exists()


@pytest.mark.parametrize(
    "data,field",
    [
        ({"command": "explode", "arguments": {}, "stations": [1]}, "command"),
        ({"command": "reset", "arguments": {"kind": "medium"}, "stations": [1]}, "arguments"),
        ({"command": "reset", "arguments": {"kind": "soft"}}, "stations"),
        (
            {
                "command": "reset",
                "arguments": {"kind": "soft"},
                "stations": [1],
                "filter": {"a": "b"},
            },
            "stations",
        ),
        ({"command": "reset", "arguments": {"kind": "soft"}, "stations": ["x"]}, "stations"),
        (
            {"command": "reset", "arguments": {"kind": "soft"}, "filter": {"status": "Exploded"}},
            "filter",
        ),
        (  # a misspelt filter must not select every station
            {"command": "reset", "arguments": {"kind": "soft"}, "filter": {"tga": "fleet"}},
            "filter",
        ),
    ],
)
def test_bad_input_is_a_400_with_field_errors(fleet, personas, api_for, queued, data, field):
    response = api_for(personas.owner).post(URL, data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"], response.json()
    assert not BulkCommand.objects.exists()
