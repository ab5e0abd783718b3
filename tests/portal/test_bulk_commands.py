"""Bulk commands from the station list: the list's filter picks the stations (only those the
person may command), a job records one item per station, its task sends the command through
the OCPP command service station by station, and the job's page shows the progress."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.monitoring.models import BulkCommand, BulkCommandItem
from apps.monitoring.services.bulk import bulk_command_run
from apps.stations.models import Station


@pytest.fixture
def queued(monkeypatch):
    """The run is queued after commit; here it is recorded, and run by the test."""
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
        if station.identity == "A1-CHARGER-2":
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    monkeypatch.setattr(commands, "station_call", station_call)
    return sent


def tag(*stations, tags=("fleet",)):
    Station.objects.filter(pk__in=[s.pk for s in stations]).update(tags=list(tags))


def test_reset_every_station_of_a_filtered_list(
    network, personas, client_for, queued, station_calls, django_capture_on_commit_callbacks
):
    tag(network.a1_station, network.a1_station_2, network.a2_station)
    client = client_for(personas.owner)
    listing = client.get(reverse("stations:station_list"), {"tag": "fleet"}).content.decode()
    assert 'href="/stations/bulk/?tag=fleet"' in listing
    url = reverse("stations:bulk_command") + "?tag=fleet"
    page = client.get(url)
    assert page.status_code == 200 and page.context["count"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"command": "reset_hard"})
    assert response.status_code == 302
    # (browser tests commit jobs of their own: this one is the one the page redirected to)
    job = BulkCommand.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert response["Location"] == reverse("stations:bulk_command_detail", args=[job.pk])
    assert (job.command, job.arguments, job.filter_query) == (
        "reset",
        {"kind": "hard"},
        "tag=fleet",
    )
    assert queued == [job.pk] and job.items.count() == 3

    progress = bulk_command_run(job_id=job.pk)
    assert progress == {"total": 3, "ok": 2, "failed": 1, "done": 3}
    assert {(call[1], call[2]["type"]) for call in station_calls} == {
        ("Reset", "Hard"),
        ("Reset", "Immediate"),  # A2-CHARGER-1 speaks 2.0.1
    }
    rejected = BulkCommandItem.objects.get(job=job, station=network.a1_station_2)
    assert (rejected.status, rejected.answer) == ("failed", "Rejected")
    job.refresh_from_db()
    assert job.status == "done" and job.finished_at is not None
    # each station's command is audited, as the person who started the job
    entries = AuditEntry.objects.filter(
        action="station.reset",
        object_id__in=[str(pk) for pk in job.items.values_list("station_id", flat=True)],
    )
    assert entries.count() == 3 and {e.user for e in entries} == {personas.owner}
    # a second run (a task delivered twice) sends nothing again
    assert bulk_command_run(job_id=job.pk)["done"] == 3 and len(station_calls) == 3

    detail = client.get(response["Location"]).content.decode()
    assert 'id="bulk-done">3<' in detail and 'id="bulk-failed">1<' in detail
    assert 'data-status="failed"' in detail and "The station answered Rejected." in detail


def test_the_delegate_commands_only_their_site(
    network, personas, client_for, queued, station_calls, django_capture_on_commit_callbacks
):
    client = client_for(personas.delegate)  # site A1 only
    url = reverse("stations:bulk_command")
    assert client.get(url).context["count"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"command": "unavailable"})
    job = BulkCommand.objects.get(created_by=personas.delegate)
    assert set(job.items.values_list("station__identity", flat=True)) == {
        "A1-CHARGER-1",
        "A1-CHARGER-2",
    }
    bulk_command_run(job_id=job.pk)
    assert {call[1] for call in station_calls} == {"ChangeAvailability"}
    # the owner's job over A2 is not the delegate's to see
    other = BulkCommand.objects.create(command="reset", arguments={"kind": "soft"})
    BulkCommandItem.objects.create(job=other, station=network.a2_station)
    assert client.get(reverse("stations:bulk_command_detail", args=[other.pk])).status_code == 404


def test_bad_input_is_shown_on_the_form(network, personas, client_for, queued):
    client = client_for(personas.owner)
    url = reverse("stations:bulk_command")
    missing = client.post(url, {"command": "configuration", "key": ""})
    assert missing.status_code == 400 and "Name the key to change." in missing.content.decode()
    before = BulkCommand.objects.count()
    nothing = client.post(url + "?identity=NO-SUCH-STATION", {"command": "reset_soft"})
    assert nothing.status_code == 400 and BulkCommand.objects.count() == before
    assert client_for(personas.outsider).get(url).status_code == 403
