"""Fixtures for power management: a garage with an electrical tree and stations, and a fleet
of test stations that answer the commands the services send (and check them against the
OCPP JSON schemas, as the core's command service would)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from apps.ocpp.commands import CommandTimeout, StationOffline, validate_action_payload


@dataclass
class Call:
    identity: str
    action: str
    payload: dict[str, Any]


@dataclass
class StationFleet:
    """Stands in for the stations' side of ``station_call`` in tests.

    Every payload is validated against the station's OCPP version; ``fail`` makes a station
    time out, ``reject`` makes it answer Rejected; applied TxProfile limits are remembered."""

    calls: list[Call] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    reject: set[str] = field(default_factory=set)
    configuration: dict[str, dict[str, Any]] = field(default_factory=dict)
    applied: dict[tuple[str, int], float] = field(default_factory=dict)

    def __call__(self, station, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        validate_action_payload(station.ocpp_version, action, payload)
        self.calls.append(Call(station.identity, action, payload))
        if not station.is_online:
            raise StationOffline("The station is offline.")
        if station.identity in self.fail:
            raise CommandTimeout("The station did not answer.")
        if action in ("GetConfiguration", "GetVariables"):
            return self.configuration.get(station.identity, {})
        if station.identity in self.reject:
            return {"status": "Rejected"}
        if action == "SetChargingProfile":
            if station.ocpp_version == "1.6":
                evse_id = payload["connectorId"]
                profile = payload["csChargingProfiles"]
                periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
            else:
                evse_id = payload["evseId"]
                profile = payload["chargingProfile"]
                periods = profile["chargingSchedule"][0]["chargingSchedulePeriod"]
            if profile["chargingProfilePurpose"] == "TxProfile":
                self.applied[(station.identity, evse_id)] = periods[0]["limit"]
        return {"status": "Accepted"}

    def actions(self, action: str = "SetChargingProfile") -> list[Call]:
        return [call for call in self.calls if call.action == action]


@pytest.fixture
def fleet() -> StationFleet:
    return StationFleet()


@dataclass
class Garage:
    site: Any
    supply: Any
    c1: Any
    c2: Any
    stations: dict[str, Any]

    def evse(self, identity: str, number: int = 1):
        return self.stations[identity].evses.get(evse_id=number)


def online(station, version: str = "1.6"):
    station.is_online = True
    station.ocpp_version = version
    station.save(update_fields=["is_online", "ocpp_version"])
    return station


@pytest.fixture
def garage(alpha):
    """The garage of docs/power.md: a 63 A supply with 15 A of building load per line; C1
    (32 A) holds stations A and B, C2 (40 A) holds C (single-phase on L2), D and E.
    Stations A-C speak OCPP 1.6, D and E 2.0.1."""
    from apps.power import services
    from apps.power.choices import NodeKind, Wiring
    from apps.stations.services import site_create, station_register

    site = site_create(name="Garage", timezone="America/Montreal")
    supply = services.power_node_create(
        site=site,
        name="Supply",
        kind=NodeKind.SUPPLY,
        rating_a=Decimal("63"),
        continuous_factor=Decimal("1.00"),
        fallback_load_kw=Decimal("10.35"),  # 15 A per line at 230 V
    )
    c1 = services.power_node_create(
        site=site,
        name="C1",
        kind=NodeKind.CIRCUIT,
        parent=supply,
        rating_a=Decimal("40"),
        continuous_factor=Decimal("0.80"),
    )
    c2 = services.power_node_create(
        site=site,
        name="C2",
        kind=NodeKind.CIRCUIT,
        parent=supply,
        rating_a=Decimal("50"),
        continuous_factor=Decimal("0.80"),
    )
    stations = {}
    for identity, node, version in (
        ("A", c1, "1.6"),
        ("B", c1, "1.6"),
        ("C", c2, "1.6"),
        ("D", c2, "2.0.1"),
        ("E", c2, "2.0.1"),
    ):
        station = station_register(identity=f"GARAGE-{identity}", password=None, site=site)
        online(station, version)
        services.station_power_set(station=station, node=node)
        stations[identity] = station
    services.evse_power_set(
        evse=stations["C"].evses.get(), wiring=Wiring.SINGLE_PHASE, rotation="STR"
    )
    return Garage(site, supply, c1, c2, stations)


def start_session(station, *, at: dt.datetime, token: str = "CARD-1", number: int = 1):
    from apps.charging.services import session_start

    session, _created = session_start(
        station_id=station.pk,
        evse_id=number,
        id_token=token,
        meter_start_wh=0,
        started_at=at,
    )
    return session
