"""Fleets, vehicles and cards through the services: VIN checks, cards linked to the core's
tokens (never copied), the memberships a token stands for in access groups, usage recorded
from sessions with their cost, and telemetry (API and signed webhook)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.access import selectors as access_selectors
from apps.access import services as access
from apps.access.choices import Refusal, RuleKind
from apps.charging.models import IdToken
from apps.charging.services import token_create
from apps.core import events, policies
from apps.fleet import selectors, services
from apps.fleet.choices import CardKind, TelemetrySource
from apps.fleet.models import TelemetryReading, VehicleSession
from apps.fleet.vin import validate_vin
from tests.factories import ChargingSessionFactory

from .conftest import VIN_A, VIN_B, VIN_EU


def test_vin_check_digit():
    validate_vin(VIN_A)
    validate_vin(VIN_B)
    validate_vin(VIN_EU)  # outside North America only the format is checked
    with pytest.raises(ValidationError, match="check digit"):
        validate_vin("1M8GDM9A1KP042788")
    for bad in ("1M8GDM9AXKP04278", "1M8GDM9AXKP04278O", "", "WVWZZZ1KZAW00000I"):
        with pytest.raises(ValidationError, match="17 letters"):
            validate_vin(bad)


def test_vehicle_vin_unique_and_upper(fleet):
    the_fleet, van, _ = fleet
    assert van.vin == VIN_A
    with pytest.raises(ValidationError):
        services.vehicle_create(
            fleet=the_fleet, make="X", model="Y", battery_kwh=Decimal(50), vin=VIN_A.lower()
        )


def test_card_links_existing_token_without_copying(fleet):
    the_fleet, van, _ = fleet
    existing = token_create(uid="OLD-CARD", label="old")
    card = services.card_create(fleet=the_fleet, uid="OLD-CARD", vehicle=van)
    assert card.token == existing
    assert IdToken.objects.filter(uid="OLD-CARD").count() == 1
    with pytest.raises(ValidationError, match="already belongs"):
        services.card_create(fleet=the_fleet, uid="OLD-CARD", driver_name="Ann")
    with pytest.raises(ValidationError, match="vehicle or a driver"):
        services.card_create(fleet=the_fleet, uid="NOBODY")
    auto = services.card_create(
        fleet=the_fleet, uid="0A:1B:2C:3D:4E:5F", kind=CardKind.AUTOCHARGE, vehicle=van
    )
    assert auto.token.token_type == "MacAddress"
    services.card_delete(card=card)
    assert IdToken.objects.filter(uid="OLD-CARD").exists()  # unlinked, not deleted


def test_token_memberships(fleet, personas):
    the_fleet, van, card = fleet
    driver_card = services.card_create(
        fleet=the_fleet, uid="DRIVER-1", driver_name="Ann", driver=personas.outsider
    )
    assert selectors.token_memberships(uid=card.token.uid) == [
        f"fleet.fleet:{the_fleet.pk}",
        f"fleet.vehicle:{van.pk}",
    ]
    assert selectors.token_memberships(uid=driver_card.token.uid) == [
        f"fleet.fleet:{the_fleet.pk}",
        f"accounts.user:{personas.outsider.pk}",
    ]
    assert selectors.token_memberships(uid="NOT-A-FLEET-CARD") is None


def test_fleet_only_depot_through_access_group(fleet, depot):
    """A members rule whose group lists the whole fleet admits every card of the fleet and
    refuses others; a group listing one vehicle admits that vehicle's cards only."""
    the_fleet, van, card = fleet
    site, station = depot
    stranger = token_create(uid="STRANGER")
    other_van = services.vehicle_create(
        fleet=the_fleet, make="Ford", model="E-Transit", battery_kwh=Decimal(68), vin=VIN_B
    )
    other_card = services.card_create(fleet=the_fleet, uid="VAN-2-CARD", vehicle=other_van)
    group = access.group_create(name="Vans fleet")
    access.group_add_member(group=group, key=f"fleet.fleet:{the_fleet.pk}", label="Vans")
    access.rule_create(name="fleet only", kind=RuleKind.MEMBERS, station=station, groups=[group])
    assert access_selectors.access_decision(uid=card.token.uid, station=station).allowed
    assert access_selectors.access_decision(uid=other_card.token.uid, station=station).allowed
    refused = access_selectors.access_decision(uid=stranger.uid, station=station)
    assert not refused.allowed and refused.reason == Refusal.NOT_AT_THIS_LOCATION

    access.group_remove_member(group=group, key=f"fleet.fleet:{the_fleet.pk}")
    access.group_add_member(group=group, key=f"fleet.vehicle:{van.pk}")
    assert access_selectors.access_decision(uid=card.token.uid, station=station).allowed
    assert not access_selectors.access_decision(uid=other_card.token.uid, station=station).allowed
    with pytest.raises(ValidationError):
        access.group_add_member(group=group, key="no-kind")


def test_session_of_a_fleet_card_is_vehicle_usage(fleet, depot, monkeypatch):
    the_fleet, van, card = fleet
    _site, station = depot
    emitted = []
    monkeypatch.setattr(events, "emit", lambda name, **payload: emitted.append((name, payload)))
    session = ChargingSessionFactory(
        station=station, evse=station.evses.first(), token=card.token, id_token=card.token.uid
    )
    usage = services.vehicle_session_record(session_id=session.pk)
    assert usage.vehicle == van and usage.fleet == the_fleet and usage.card == card
    assert services.vehicle_session_record(session_id=session.pk) == usage  # once
    assert [name for name, _ in emitted] == [events.VEHICLE_SESSION_STARTED]
    data = emitted[0][1]["data"]
    assert data["vehicle"]["vin"] == VIN_A and data["fleet"]["name"] == "Vans"
    services.vehicle_session_ended(session_id=session.pk)
    assert emitted[-1][0] == events.VEHICLE_SESSION_ENDED
    other = ChargingSessionFactory(station=station, evse=station.evses.first())
    assert services.vehicle_session_record(session_id=other.pk) is None
    assert VehicleSession.objects.count() == 1
    # The reports' by-vehicle breakdown asks the fleet app which vehicle charged.
    assert policies.ask(policies.SESSION_VEHICLES, session_ids=[session.pk, other.pk]) == {
        session.pk: {"id": van.pk, "label": f"{van} (Vans)"}
    }
    assert policies.ask(policies.SESSION_VEHICLES, session_ids=[other.pk]) is None


def test_usage_rows_priced_from_receipts(fleet, depot, monkeypatch):
    the_fleet, van, card = fleet
    _site, station = depot
    start = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    sessions = []
    for day in range(3):
        session = ChargingSessionFactory(
            station=station,
            evse=station.evses.first(),
            token=card.token,
            id_token=card.token.uid,
            started_at=start + dt.timedelta(days=day),
            ended_at=start + dt.timedelta(days=day, minutes=90),
            energy_wh=10_000 + day,
        )
        services.vehicle_session_record(session_id=session.pk)
        sessions.append(session)
    receipts = {
        sessions[0].pk: {
            "receipt_number": "R-1",
            "total": "5.75",
            "total_excl_tax": "5.00",
            "currency": "CAD",
        }
    }
    from apps.core import policies

    monkeypatch.setattr(
        policies, "ask", lambda q, **kw: receipts if q == policies.SESSION_RECEIPTS else None
    )
    rows = selectors.usage_rows(
        VehicleSession.objects.filter(vehicle=van), start=start, end=start + dt.timedelta(days=2)
    )
    assert [r.energy_wh for r in rows] == [10_000, 10_001]
    assert rows[0].total == Decimal("5.75") and rows[0].minutes == 90
    assert rows[1].total is None
    summary = selectors.usage_summary(rows)
    assert summary.sessions == 2 and summary.energy_wh == 20_001
    assert summary.totals == {"CAD": Decimal("5.75")} and summary.unpriced == 1
    assert summary.stations == (station.identity,)


def test_telemetry_api_keeps_newest(fleet):
    _, van, _ = fleet
    t1 = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)
    services.telemetry_record(vehicle=van, recorded_at=t1, soc_percent=Decimal("40"))
    services.telemetry_record(
        vehicle=van, recorded_at=t1 - dt.timedelta(hours=1), odometer_km=Decimal("1200")
    )
    van.refresh_from_db()
    assert van.soc_percent == Decimal("40") and van.telemetry_at == t1
    assert van.odometer_km is None  # the older reading does not overwrite the latest state
    with pytest.raises(ValidationError):
        services.telemetry_record(vehicle=van, recorded_at=t1)


def test_telematics_webhook_signature(fleet):
    the_fleet, van, _ = fleet
    body = json.dumps(
        {
            "readings": [
                {
                    "vin": van.vin.lower(),
                    "recorded_at": "2026-03-02T08:00:00Z",
                    "soc_percent": 55.5,
                    "odometer_km": 12345.6,
                }
            ]
        }
    ).encode()
    good = services.telematics_signature(the_fleet.telematics_secret, body)
    with pytest.raises(services.BadSignature):
        services.telematics_webhook_receive(fleet=the_fleet, body=body, signature="sha256=00")
    with pytest.raises(services.BadSignature):
        services.telematics_webhook_receive(fleet=the_fleet, body=body + b" ", signature=good)
    assert services.telematics_webhook_receive(fleet=the_fleet, body=body, signature=good) == 1
    reading = TelemetryReading.objects.get()
    assert reading.source == TelemetrySource.WEBHOOK and reading.soc_percent == Decimal("55.5")
    bad = json.dumps({"readings": [{"vin": VIN_B, "recorded_at": "2026-03-02T08:00:00"}]}).encode()
    with pytest.raises(ValidationError) as error:
        services.telematics_webhook_receive(
            fleet=the_fleet,
            body=bad,
            signature=services.telematics_signature(the_fleet.telematics_secret, bad),
        )
    assert "readings[0]" in error.value.message_dict


def test_local_list_holds_the_fleets_cards(fleet, depot):
    """A station's compiled local list (access) holds every card of a fleet its group lists,
    through the fleet's MEMBER_TOKENS answer, and no other token."""
    from apps.access.local_lists import compile_list

    the_fleet, van, card = fleet
    _site, station = depot
    driver = services.card_create(fleet=the_fleet, uid="DRIVER-2", driver_name="Ann")
    token_create(uid="STRANGER-2")
    group = access.group_create(name="Depot fleet")
    access.group_add_member(group=group, key=f"fleet.fleet:{the_fleet.pk}")
    access.rule_create(name="fleet only", kind=RuleKind.MEMBERS, station=station, groups=[group])
    assert set(compile_list(station=station)) == {card.token.uid, driver.token.uid}
    access.group_remove_member(group=group, key=f"fleet.fleet:{the_fleet.pk}")
    access.group_add_member(group=group, key=f"fleet.vehicle:{van.pk}")
    assert set(compile_list(station=station)) == {card.token.uid}
    assert selectors.member_tokens(keys=["other.kind:1", "fleet.fleet:x"]) is None
