"""Boots and status reports of many stations written together (group commit): each answer is
the one its station would get alone, a station's reports keep their order, and one bad item
fails alone."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.core import events
from apps.ocpp.services import status_reports
from apps.stations.models import Evse, Station, StatusChange
from apps.stations.services import stations_boot

T0 = dt.datetime(2026, 12, 8, 4, tzinfo=dt.UTC)


def test_boots_are_answered_in_order_and_a_stations_last_boot_stands(
    alpha, django_capture_on_commit_callbacks
):
    accepted = Station.objects.create(identity="BOOT-A", heartbeat_interval=120)
    pending = Station.objects.create(identity="BOOT-P", registration_status="Pending")
    booted = []

    def on_booted(*, event, station_id, **_):
        booted.append(station_id)

    events.subscribe(events.STATION_BOOTED, on_booted)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            answers = stations_boot(
                boots=[
                    {"station_id": pending.pk, "vendor": "V" * 80, "model": "M1"},
                    {"station_id": accepted.pk, "vendor": "Acme", "model": "A1", "imsi": "9" * 30},
                    {"station_id": pending.pk, "vendor": "Later", "model": "M2", "iccid": "1"},
                ]
            )
    finally:
        events.unsubscribe(events.STATION_BOOTED, on_booted)

    assert answers == [("Pending", 300), ("Accepted", 120), ("Pending", 300)]
    accepted.refresh_from_db(), pending.refresh_from_db()
    assert (accepted.vendor, accepted.model, accepted.imsi) == ("Acme", "A1", "9" * 20)
    assert (pending.vendor, pending.model, pending.iccid) == ("Later", "M2", "1")
    assert accepted.last_boot_at is not None and pending.last_boot_at is not None
    assert sorted(booted) == sorted([pending.pk, accepted.pk, pending.pk])


def test_a_boot_of_an_unknown_station_fails_the_batch(alpha):
    known = Station.objects.create(identity="BOOT-K")
    with pytest.raises(Station.DoesNotExist):
        stations_boot(
            boots=[
                {"station_id": known.pk, "vendor": "A", "model": "B"},
                {"station_id": 10**9, "vendor": "A", "model": "B"},
            ]
        )


def test_status_reports_of_a_batch_keep_their_order(alpha):
    station = Station.objects.create(identity="STATUS-B")
    other = Station.objects.create(identity="STATUS-O")
    reports = [
        {"station_id": station.pk, "evse_id": 1, "status": "Preparing", "occurred_at": T0},
        {"station_id": other.pk, "evse_id": 1, "status": "Faulted", "occurred_at": T0},
        {
            "station_id": station.pk,
            "evse_id": 1,
            "status": "Charging",
            "occurred_at": T0 + dt.timedelta(seconds=1),
        },
        {  # late: history only
            "station_id": station.pk,
            "evse_id": 1,
            "status": "Available",
            "occurred_at": T0 - dt.timedelta(seconds=5),
        },
    ]

    assert status_reports(reports=reports) == [None] * 4

    assert Evse.objects.get(station=station, evse_id=1).status == "Charging"
    assert Evse.objects.get(station=other, evse_id=1).status == "Faulted"
    history = StatusChange.objects.filter(station=station, evse__isnull=False).order_by("pk")
    assert [change.status for change in history] == ["Preparing", "Charging", "Available"]
