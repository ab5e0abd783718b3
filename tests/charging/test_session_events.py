"""The session rules a station's transaction events obey (charging's services; the OCPP 2.0.1
adapter only translates TransactionEvent into these calls)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.charging import services
from apps.charging.metering import ENERGY_REGISTER, Sample
from apps.stations.models import Evse
from tests.api.conftest import make_station

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def station(alpha_sites):
    return make_station(alpha_sites[0], "EV-RULES", version="2.0.1")


def event(station, **overrides):
    arguments = {
        "station_id": station.pk,
        "transaction_id": "TX-1",
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "",
        "token_type": "",
        "occurred_at": T0,
        "is_start": False,
        "remote_start_id": None,
        "reservation_id": None,
        "meter_start_wh": None,
    }
    return services.session_from_event(**{**arguments, **overrides})


def register(wh: int, context: str = "", phase: str = "", at: dt.datetime = T0) -> Sample:
    return Sample(at, ENERGY_REGISTER, Decimal(wh), "Wh", phase=phase, context=context)


def test_the_first_event_seen_opens_the_session_later_ones_find_it(station):
    session, created = event(station, occurred_at=T0 + dt.timedelta(minutes=5), meter_start_wh=10)
    assert (
        created
        and session.transaction_id == "TX-1"
        and session.started_at == T0 + dt.timedelta(minutes=5)
    )
    assert (session.meter_start_wh, session.evse.evse_id) == (10, 1)
    again, created = event(station, occurred_at=T0 + dt.timedelta(minutes=9))
    assert (again.pk, created) == (session.pk, False)
    assert again.started_at == T0 + dt.timedelta(minutes=5)  # only a start event moves it


def test_a_late_started_event_moves_the_start_back(station):
    session, _ = event(station, occurred_at=T0 + dt.timedelta(minutes=5))
    event(station, occurred_at=T0 + dt.timedelta(minutes=7), is_start=True)  # not earlier
    session.refresh_from_db()
    assert session.started_at == T0 + dt.timedelta(minutes=5)
    event(station, occurred_at=T0, is_start=True)
    session.refresh_from_db()
    assert session.started_at == T0


def test_token_and_remote_start_id_are_filled_once_never_replaced(station):
    session, _ = event(station)
    assert (session.id_token, session.remote_start_id) == ("", None)
    event(station, id_token="TAG-1", token_type="ISO14443", remote_start_id=42)
    event(station, id_token="TAG-2", token_type="Central", remote_start_id=43)
    session.refresh_from_db()
    assert (session.id_token, session.token_type, session.remote_start_id) == (
        "TAG-1",
        "ISO14443",
        42,
    )


def test_an_event_naming_no_port_opens_nothing(station):
    assert event(station, evse_id=None) == (None, False)
    assert not station.sessions.exists()


def test_registers_at_begin_and_end(station):
    samples = [
        Sample(T0, "Power.Active.Import", Decimal(7000), "W", context="Transaction.Begin"),
        register(500, context="Transaction.Begin", phase="L1"),
        register(1200, context="Transaction.Begin"),
    ]
    assert services.meter_start_from(samples) == 1200  # the whole meter's energy register
    assert services.meter_start_from([register(1, context="Sample.Periodic")]) is None
    ending = [
        register(5000, context="Transaction.End"),
        register(5100),
        register(9999, context="Sample.Periodic"),
        register(7000, context="Transaction.End", phase="L1"),
    ]
    assert services.meter_stop_from(ending) == 5100
    assert services.meter_stop_from([]) is None


def test_port_state_finishing_once_energy_flowed_and_never_older_than_recorded(station):
    session, _ = event(station)
    evse = Evse.objects.get(pk=session.evse_id)
    services.session_port_state(
        session=session, port_status="Preparing", state="EVConnected", at=T0
    )
    evse.refresh_from_db()
    assert evse.status == "Preparing"  # nothing drawn yet
    session.refresh_from_db()
    assert session.charging_ended_at == T0  # EVConnected: energy is not flowing

    services.session_port_state(
        session=session, port_status="Charging", state="Charging", at=T0 + dt.timedelta(minutes=1)
    )
    session.refresh_from_db()
    assert session.charging_ended_at is None
    session.energy_wh = 800
    session.save()
    services.session_port_state(
        session=session,
        port_status="Preparing",
        state="EVConnected",
        at=T0 + dt.timedelta(minutes=30),
    )
    evse.refresh_from_db()
    assert evse.status == "Finishing"  # charged, still plugged in
    # An event from the offline queue, older than what the port shows, leaves the port alone.
    session.refresh_from_db()
    session.evse.refresh_from_db()
    services.session_port_state(
        session=session, port_status="Charging", state="Charging", at=T0 + dt.timedelta(minutes=2)
    )
    evse.refresh_from_db()
    assert (evse.status, evse.status_changed_at) == ("Finishing", T0 + dt.timedelta(minutes=30))
