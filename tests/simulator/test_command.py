"""The simulate_stations command and the registration it does in a tenant."""

from __future__ import annotations

import asyncio
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


async def test_a_fleet_runs_drivers_and_ends_their_sessions_on_stop(csms):
    out = io.StringIO()
    await asyncio.to_thread(
        call_command,
        "simulate_stations",
        "--no-register",
        "--password=pw",
        f"--url={csms.url}",
        "--count=3",
        "--evses=2",
        "--tokens=TAG1,TAG2",
        "--speed=3000",  # a driver arrives within about a second
        "--duration=3",
        "--seed=7",
        stdout=out,
    )
    identities = {"SIM-001", "SIM-002", "SIM-003"}
    booted = {i for i, action, _ in csms.calls if action == "BootNotification"}
    assert booted == identities
    # mixed versions: odd stations speak 1.6, even ones 2.0.1
    assert "chargePointVendor" in csms.received("SIM-001", "BootNotification")[0]
    assert "chargingStation" in csms.received("SIM-002", "BootNotification")[0]
    starts = [p for i, a, p in csms.calls if a == "StartTransaction"]
    stops = [p for i, a, p in csms.calls if a == "StopTransaction"]
    started = [
        p for i, a, p in csms.calls if a == "TransactionEvent" and p["eventType"] == "Started"
    ]
    ended = [p for i, a, p in csms.calls if a == "TransactionEvent" and p["eventType"] == "Ended"]
    assert starts or started, "no driver charged"
    assert len(stops) == len(starts) and len(ended) == len(started)  # nothing left open
    assert all(s["meterStop"] >= 0 for s in stops)
    assert "Simulator stopped: 0/3 stations online" in out.getvalue()


def test_the_command_needs_credentials_without_a_database():
    with pytest.raises(CommandError, match="--password"):
        call_command("simulate_stations", "--no-register", "--duration=1")


def test_missing_stations_and_cards_are_registered_once(alpha):
    from apps.charging.models import IdToken
    from apps.simulator.provisioning import (
        demo_tokens_ensure,
        station_password,
        stations_ensure,
    )
    from apps.stations.models import Station
    from apps.stations.services import station_set_password
    from apps.tenants.models import StationIdentity

    identities = ["SIMT-001", "SIMT-002"]
    specs = stations_ensure(tenant=alpha, identities=identities, evse_count=2, max_current_a=16)
    assert [(s.identity, s.evse_count, s.max_current_a) for s in specs] == [
        ("SIMT-001", 2, 16.0),
        ("SIMT-002", 2, 16.0),
    ]
    registry = StationIdentity.objects.get(identity="SIMT-001")
    assert registry.tenant_id == alpha.pk
    assert registry.check_password(station_password("alpha", "SIMT-001"))
    assert specs[0].password == station_password("alpha", "SIMT-001") != specs[1].password
    # Someone changed a password: the rerun puts the derived one back and creates nothing.
    station_set_password(
        station=Station.objects.get(identity="SIMT-002"), password="other-password-0123"
    )
    again = stations_ensure(tenant=alpha, identities=identities, evse_count=4)
    assert [s.evse_count for s in again] == [2, 2]  # existing stations keep their EVSEs
    assert Station.objects.filter(identity__startswith="SIMT-").count() == 2
    assert StationIdentity.objects.get(identity="SIMT-002").check_password(specs[1].password)
    uids = demo_tokens_ensure(tenant=alpha, prefix="SIMT", count=3)
    assert uids == ["SIMTTAG01", "SIMTTAG02", "SIMTTAG03"]
    demo_tokens_ensure(tenant=alpha, prefix="SIMT", count=3)
    assert IdToken.objects.filter(uid__startswith="SIMTTAG").count() == 3
