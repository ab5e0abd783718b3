"""Fleets through real stations (the platform's ASGI server, plain ``ocpp`` clients over
websockets, OCPP 1.6 and 2.0.1): a depot station open to one fleet only (an access rule whose
group lists the whole fleet, resolved through the fleet's TOKEN_MEMBERSHIPS answer), and the
usage of a vehicle recorded from the sessions its card and its Autocharge id start and stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from apps.access import services as access
from apps.access.choices import RuleKind
from apps.charging.services import token_create
from apps.fleet import services
from apps.fleet.choices import CardKind
from apps.fleet.models import VehicleSession
from apps.stations.services import site_create, station_register
from apps.tenants.models import Tenant
from tests.live import ServerProcess, blocking, unique_identity
from tests.ocpp.clients import Connected

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def fleet_server(django_db_setup):
    process = ServerProcess("fleet").start()
    yield process
    process.stop()


@pytest.fixture
def live_alpha(django_db_blocker):
    with django_db_blocker.unblock():
        yield Tenant.objects.get(slug="alpha")


def build(tenant):
    """A depot with a fleet-only station and an open one; a van with a card and an Autocharge
    id, a driver's card, and a stranger's card."""

    def create():
        with tenant_context(tenant):
            try:
                tag = uuid.uuid4().hex[:6].upper()
                site = site_create(name=f"Depot {tag}", timezone="America/Montreal")
                fleet = services.fleet_create(name=f"Vans {tag}", site=site)
                van = services.vehicle_create(
                    fleet=fleet,
                    make="Ford",
                    model="E-Transit",
                    battery_kwh=Decimal("68"),
                    vin=f"WF0{tag}".ljust(17, "7"),
                    plate=f"V-{tag}",
                    depot=site,
                )
                card = services.card_create(fleet=fleet, uid=f"VAN-{tag}", vehicle=van)
                mac = ":".join(f"{b:02X}" for b in uuid.uuid4().bytes[:6])
                services.card_create(fleet=fleet, uid=mac, kind=CardKind.AUTOCHARGE, vehicle=van)
                driver = services.card_create(fleet=fleet, uid=f"DRV-{tag}", driver_name="Ann")
                stranger = token_create(uid=f"STRANGER-{tag}")
                group = access.group_create(name=f"Fleet {tag}")
                access.group_add_member(group=group, key=f"fleet.fleet:{fleet.pk}")
                stations = {}
                for name in ("depot", "open"):
                    identity = unique_identity("FLT")
                    password = f"pw-{identity.lower()}-0123456789"
                    station = station_register(
                        identity=identity, password=password, site=site, evse_count=2
                    )
                    stations[name] = (identity, password)
                    if name == "depot":
                        access.rule_create(
                            name="fleet only",
                            kind=RuleKind.MEMBERS,
                            station=station,
                            groups=[group],
                        )
                uids = {
                    "card": card.token.uid,
                    "mac": mac,
                    "driver": driver.token.uid,
                    "stranger": stranger.uid,
                }
                return uids, stations, van.pk
            finally:
                connection.close()

    return blocking(create)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


async def authorize16(server, station, uid: str) -> str:
    identity, password = station
    async with Connected(server.ws, identity, password, "1.6") as cp:
        answer = await cp.call(call16.Authorize(id_tag=uid), suppress=False)
        return answer.id_tag_info["status"]


async def authorize201(server, station, uid: str) -> str:
    identity, password = station
    async with Connected(server.ws, identity, password, "2.0.1") as cp:
        answer = await cp.call(
            call201.Authorize(id_token={"idToken": uid, "type": "ISO14443"}), suppress=False
        )
        return answer.id_token_info["status"]


async def test_fleet_only_depot_station(fleet_server, live_alpha):
    uids, stations, _ = build(live_alpha)
    for who in ("card", "mac", "driver"):
        assert await authorize16(fleet_server, stations["depot"], uids[who]) == "Accepted", who
        assert await authorize201(fleet_server, stations["depot"], uids[who]) == "Accepted", who
    assert await authorize16(fleet_server, stations["depot"], uids["stranger"]) == "Blocked"
    assert (
        await authorize201(fleet_server, stations["depot"], uids["stranger"]) == "NotAtThisLocation"
    )
    # the open station of the same depot: everyone with a valid card
    assert await authorize16(fleet_server, stations["open"], uids["stranger"]) == "Accepted"


def usage_of(tenant, vehicle_id: int) -> list[tuple[str, int, str]]:
    def read():
        with tenant_context(tenant):
            try:
                return [
                    (u.session.id_token, u.session.energy_wh, u.session.status)
                    for u in VehicleSession.objects.filter(vehicle_id=vehicle_id)
                    .select_related("session")
                    .order_by("started_at", "pk")
                ]
            finally:
                connection.close()

    return blocking(read)


async def wait_for(predicate, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_vehicle_usage_from_real_sessions(fleet_server, live_alpha):
    """A 1.6 session with the van's RFID card and one with its Autocharge id (plugged in,
    authorised by the vehicle's identifier) are both the van's usage, with their energy."""
    uids, stations, van_id = build(live_alpha)
    identity, password = stations["depot"]
    async with Connected(fleet_server.ws, identity, password, "1.6") as cp:
        for connector, uid, energy in ((1, uids["card"], 12_500), (2, uids["mac"], 7_000)):
            assert (await cp.call(call16.Authorize(id_tag=uid), suppress=False)).id_tag_info[
                "status"
            ] == "Accepted"
            started = await cp.call(
                call16.StartTransaction(
                    connector_id=connector, id_tag=uid, meter_start=1_000, timestamp=_now()
                ),
                suppress=False,
            )
            assert started.id_tag_info["status"] == "Accepted"
            await cp.call(
                call16.StopTransaction(
                    transaction_id=started.transaction_id,
                    meter_stop=1_000 + energy,
                    timestamp=_now(),
                    id_tag=uid,
                ),
                suppress=False,
            )

    async def two_ended():
        rows = usage_of(live_alpha, van_id)
        return rows if len(rows) == 2 and all(r[2] != "active" for r in rows) else None

    rows = await wait_for(two_ended)
    assert rows, usage_of(live_alpha, van_id)
    assert [(uid, energy) for uid, energy, _ in rows] == [
        (uids["card"], 12_500),
        (uids["mac"], 7_000),
    ]
