"""The core's domain events reach power management: work is queued, draws are recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from apps.core import events
from apps.power import handlers, queue, services, tasks
from apps.power.models import SessionPower
from tests.queued import record_tasks

from .conftest import start_session

NOW = dt.datetime(2026, 3, 2, 23, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def no_draws_seen():
    """Forget the meter readings earlier runs left in this Redis database (session ids repeat
    when the test database is created again)."""

    def clear():
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(match="*power:draw:*"):
            client.delete(key)

    clear()
    yield
    clear()


@pytest.fixture
def queued(garage, monkeypatch):
    """The power tasks queued (by name, through apps.power.queue), instead of the broker (and a
    clean debounce): the rebalance is recorded with its options, the others with their ids."""
    for site_id in (garage.site.pk,):
        cache.delete(queue.pending_key(site_id))
    calls = {
        "rebalance": mock.Mock(),
        "session_started": mock.Mock(),
        "station_connected": mock.Mock(),
        "station_defaults": mock.Mock(),
    }

    record_tasks(
        monkeypatch,
        "power.rebalance_site",
        lambda *args, **options: calls["rebalance"](args, **options),
    )
    for name in ("session_started", "station_connected", "station_defaults"):
        record_tasks(monkeypatch, f"power.{name}", calls[name])
    yield calls
    cache.delete(queue.pending_key(garage.site.pk))


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


def test_the_periodic_task_visits_every_site_with_a_tree(
    garage, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # a worker runs it in autocommit
        assert tasks.rebalance_all() == 1
    queued["rebalance"].assert_called_once_with((garage.site.pk,), countdown=2)


def test_the_beat_schedule_fans_out_to_every_tenant():
    from apps.power.schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["power-rebalance"] == {
        "task": "core.fan_out",
        "schedule": 30.0,
        "args": ["power.rebalance_all"],
    }


def meter(station, session, **current_a):
    """What power's handler does with one MeterValues (other apps' handlers left out: their
    queries are theirs)."""
    handlers.on_meter_values(
        event=events.METER_VALUES_RECEIVED,
        station_id=station.pk,
        evse_id=1,
        session_id=session.pk,
        current_a=current_a,
        energy_wh=100,
    )


@pytest.fixture
def drawing(garage, queued):
    """Session A, under power management, told 16 A at the last rebalance."""
    from apps.power.models import EvseAllocation

    session = start_session(garage.stations["A"], at=NOW)
    services.session_power_start(session_id=session.pk, now=NOW)
    cache.delete(services._draw_key(session.pk))
    EvseAllocation.objects.update_or_create(
        evse=garage.evse("A"),
        defaults={"session": session, "limit_da": 160, "reason": "share", "since": NOW},
    )
    yield session
    cache.delete(services._draw_key(session.pk))


def test_a_steady_draw_reaches_the_database_and_the_queue_once(
    garage, queued, drawing, django_capture_on_commit_callbacks, django_assert_num_queries
):
    station = garage.stations["A"]
    with django_capture_on_commit_callbacks(execute=True):
        meter(station, drawing, L1=7.0, L2=7.1, L3=6.9)  # 7 A of 16: capacity unused
    queued["rebalance"].assert_called_once_with((garage.site.pk,), countdown=2)
    assert SessionPower.objects.get(session=drawing).draw_a == Decimal("7.1")
    # The same draw, give or take half an amp, a hundred times: no query, nothing queued.
    with django_assert_num_queries(0), django_capture_on_commit_callbacks(execute=True):
        for i in range(100):
            meter(station, drawing, L1=7.0 + (i % 5) / 10, L2=7.1, L3=6.9)
    queued["rebalance"].assert_called_once()


def test_a_draw_that_moves_is_recorded_and_the_site_recomputed_at_once(
    garage, queued, drawing, django_capture_on_commit_callbacks
):
    station = garage.stations["A"]
    with django_capture_on_commit_callbacks(execute=True):
        # Uses all of its 16 A; the first reading tells it is a three-phase vehicle: recompute.
        meter(station, drawing, L1=15.9, L2=15.9, L3=15.9)
    queued["rebalance"].assert_called_once()
    cache.delete(queue.pending_key(garage.site.pk))  # that rebalance has started
    with django_capture_on_commit_callbacks(execute=True):
        meter(station, drawing, L1=15.5, L2=15.9, L3=15.6)  # nothing new
        meter(station, drawing, L1=8.0, L2=8.0, L3=8.0)  # drops: 8 A unused
    assert queued["rebalance"].call_count == 2
    assert SessionPower.objects.get(session=drawing).draw_a == Decimal("8.0")
    # The rebalance has started (its pending mark is gone): the vehicle now uses only one
    # phase, which frees two lines for the others -- queued again, at once.
    cache.delete(queue.pending_key(garage.site.pk))
    with django_capture_on_commit_callbacks(execute=True):
        meter(station, drawing, L1=8.0, L2=0.0, L3=0.0)
    assert queued["rebalance"].call_count == 3
    assert SessionPower.objects.get(session=drawing).vehicle_phases == 1


def test_readings_of_sessions_without_power_management_cost_one_query_per_minute(
    garage, queued, django_capture_on_commit_callbacks, django_assert_num_queries
):
    station = garage.stations["B"]
    session = start_session(station, at=NOW)  # no session_power_start: not managed
    cache.delete(services._draw_key(session.pk))
    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            meter(station, session, L1=10.0, L2=10.0, L3=10.0)
    queued["rebalance"].assert_not_called()
    # Once it is managed, its readings count again straight away.
    with django_capture_on_commit_callbacks(execute=True):
        services.session_power_start(session_id=session.pk, now=NOW)
        meter(station, session, L1=10.0, L2=10.0, L3=10.0)
    assert SessionPower.objects.get(session=session).draw_a == Decimal("10.0")
    cache.delete(services._draw_key(session.pk))


def test_a_burst_of_events_from_many_stations_queues_one_rebalance_per_site(
    garage, queued, django_capture_on_commit_callbacks
):
    """Session starts and stops, status changes, a limit change: one queued rebalance while
    one is pending, another once it has started."""
    with django_capture_on_commit_callbacks(execute=True):
        for identity in "ABCDE":
            station = garage.stations[identity]
            events.emit(events.STATUS_CHANGED, station_id=station.pk, evse_id=1, status="Charging")
        services.limit_override_create(
            node=garage.supply, source="manual", limit_a=Decimal("40"), starts_at=NOW
        )
    queued["rebalance"].assert_called_once_with((garage.site.pk,), countdown=2)
    cache.delete(queue.pending_key(garage.site.pk))  # the rebalance task started
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.SESSION_ENDED, station_id=garage.stations["A"].pk, session_id=1)
    assert queued["rebalance"].call_count == 2
