"""The core's domain events reach power management: work is queued, draws are recorded."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.cache import cache

from apps.core import events
from apps.power import services, tasks
from apps.power.models import SessionPower

from .conftest import start_session

NOW = dt.datetime(2026, 3, 2, 23, 0, tzinfo=dt.UTC)


@pytest.fixture
def queued(garage):
    """Calls to the power tasks, instead of the broker (and a clean debounce)."""
    for site_id in (garage.site.pk,):
        cache.delete(tasks._pending_key(site_id))
    with (
        mock.patch.object(tasks.rebalance_site, "apply_async") as rebalance,
        mock.patch.object(tasks.session_started, "delay") as started,
        mock.patch.object(tasks.station_connected, "delay") as connected,
        mock.patch.object(tasks.station_defaults, "delay") as defaults,
    ):
        yield {
            "rebalance": rebalance,
            "session_started": started,
            "station_connected": connected,
            "station_defaults": defaults,
        }
    cache.delete(tasks._pending_key(garage.site.pk))


def test_a_started_session_is_set_up_by_a_task(garage, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        session = start_session(garage.stations["A"], at=NOW)
    queued["session_started"].assert_called_once_with(session.pk)


@pytest.mark.parametrize(
    "event", [events.SESSION_ENDED, events.STATUS_CHANGED, events.STATION_DISCONNECTED]
)
def test_changes_at_a_station_rebalance_its_site_once_per_burst(
    garage, queued, django_capture_on_commit_callbacks, event
):
    station = garage.stations["B"]
    payloads = {
        events.SESSION_ENDED: {"session_id": 1, "station_id": station.pk, "evse_id": 1},
        events.STATUS_CHANGED: {
            "station_id": station.pk,
            "evse_id": 1,
            "status": "Available",
            "live_state": "available",
        },
        events.STATION_DISCONNECTED: {"station_id": station.pk},
    }
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(event, **payloads[event])
        events.emit(event, **payloads[event])
    queued["rebalance"].assert_called_once_with((garage.site.pk,), countdown=2)


def test_a_connected_station_gets_its_defaults(garage, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.STATION_CONNECTED, station_id=garage.stations["D"].pk)
    queued["station_connected"].assert_called_once_with(garage.stations["D"].pk)


def test_meter_values_record_the_draw_and_rebalance_when_capacity_is_unused(
    garage, queued, django_capture_on_commit_callbacks
):
    session = start_session(garage.stations["A"], at=NOW)
    services.session_power_start(session_id=session.pk, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(
            events.METER_VALUES_RECEIVED,
            station_id=garage.stations["A"].pk,
            evse_id=1,
            session_id=session.pk,
            power_w=2300,
            current_a={"L1": 10.0, "L2": 0.0, "L3": 0.0},
            energy_wh=100,
        )
    power = SessionPower.objects.get(session=session)
    assert power.vehicle_phases == 1
    queued["rebalance"].assert_called_once()


def test_changing_a_power_selection_reinstalls_the_station_maximum(
    garage, queued, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    with django_capture_on_commit_callbacks(execute=True):
        services.station_power_set(
            station=garage.stations["E"], node=garage.c2, breaker_rating_a=Decimal("16")
        )
    queued["station_defaults"].assert_called_once_with(garage.stations["E"].pk)
    queued["rebalance"].assert_called_once()


def test_the_periodic_task_visits_every_site_with_a_tree(garage, queued):
    assert tasks.rebalance_all() == 1
    queued["rebalance"].assert_called_once_with((garage.site.pk,), countdown=2)


def test_the_beat_schedule_fans_out_to_every_tenant():
    from apps.power.schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["power-rebalance"] == {
        "task": "core.fan_out",
        "schedule": 30.0,
        "args": ["power.rebalance_all"],
    }
