"""Local authorisation lists compiled from the access rules and kept in step with simulated
stations over real websockets (1.6 and 2.0.1): the first list in full, a change as a
differential update, a change while offline sent on reconnect, a station that lost its list
sent the whole list again, the auth cache cleared; offline, the station enforces its list.
Also the payloads against each version's JSON schema."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.access import local_lists, services
from apps.access.choices import RuleKind
from apps.access.models import StationLocalList
from apps.charging.services import token_create
from apps.ocpp import payloads
from apps.ocpp.commands import validate_action_payload
from apps.simulator.station import SimulatedStation, StationConfig
from apps.stations.models import Station
from apps.stations.services import site_create, station_register
from tests.live import LoopThread, unique_identity


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_payloads_follow_the_schemas(version):
    entries = [
        payloads.LocalListEntry(uid="A", expiry="2027-01-01T00:00:00Z", group="FLEET"),
        payloads.LocalListEntry(uid="B", status=None),
    ]
    for full in (True, False):
        call = payloads.send_local_list(version, list_version=3, full=full, entries=entries)
        validate_action_payload(version, call.action, call.payload)
    call = payloads.send_local_list(version, list_version=3, full=False, entries=entries)
    items = call.payload["localAuthorizationList"]
    if version == "1.6":
        assert items[0]["idTagInfo"] == {
            "status": "Accepted",
            "expiryDate": "2027-01-01T00:00:00Z",
            "parentIdTag": "FLEET",
        }
        assert items[1] == {"idTag": "B"}  # no idTagInfo: removed
    else:
        assert items[0]["idTokenInfo"]["groupIdToken"] == {"idToken": "FLEET", "type": "Central"}
        assert items[0]["idTokenInfo"]["cacheExpiryDateTime"] == "2027-01-01T00:00:00Z"
        assert items[1] == {"idToken": {"idToken": "B", "type": "ISO14443"}}


def test_the_difference_of_two_lists():
    held = {"A": {"status": "Accepted"}, "B": {"status": "Accepted"}}
    wanted = {"A": {"status": "Accepted", "expiry": "x"}, "C": {"status": "Accepted"}}
    diff = local_lists.difference(held, wanted)
    assert diff.changed == wanted and diff.removed == ["B"]
    assert local_lists.difference(wanted, wanted).empty


@pytest.fixture
def live_tenant(django_db_blocker, access_server):
    from apps.tenants.models import Tenant

    with django_db_blocker.unblock():
        yield Tenant.objects.get(slug="alpha")


def _wait_offline(station_id: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not Station.objects.get(pk=station_id).is_online:
            return
        time.sleep(0.2)
    raise AssertionError("the server did not record the station offline")


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_station_list_follows_the_rules_through_an_offline_period(
    live_tenant, access_server, version
):
    tag = uuid.uuid4().hex[:8]
    identity = unique_identity("LL")
    password = f"pw-{identity.lower()}-0123456789"
    with tenant_context(live_tenant):
        site = site_create(name=f"Lists {tag}", timezone="Pacific/Auckland")
        station = station_register(identity=identity, password=password, site=site)
        staff, other, visitor = (
            token_create(uid=f"{name}-{tag}".upper()) for name in ("staff", "other", "visitor")
        )
        group = services.group_create(name=f"Staff {tag}")
        services.group_add_tokens(group=group, tokens=[staff])
        services.rule_create(
            name="staff only", kind=RuleKind.MEMBERS, station=station, groups=[group]
        )
    loop = LoopThread()
    sim = SimulatedStation(
        StationConfig(
            identity=identity, url=f"{access_server.ws}/ocpp/", password=password, version=version
        )
    )
    try:
        assert loop.run(sim.connect()) == "Accepted"
        with tenant_context(live_tenant):
            # the first list: whole
            assert local_lists.local_list_sync(station_id=station.pk) == "in_step"
            assert sim.local_list == {staff.uid: "Accepted"} and sim.local_list_version == 1
            # a new member: only the difference
            services.group_add_tokens(group=group, tokens=[other])
            assert local_lists.local_list_sync(station_id=station.pk) == "in_step"
            assert sim.local_list == {staff.uid: "Accepted", other.uid: "Accepted"}
            sent = sim.calls_received("SendLocalList")
            assert [c.payload["updateType"] for c in sent] == ["Full", "Differential"]
            assert sim.local_list_version == 2

            # offline: a member leaves; the station cannot be told, it enforces its list
            loop.run(sim.close())
            _wait_offline(station.pk)
            services.group_remove_tokens(group=group, tokens=[staff])
            assert local_lists.local_list_sync(station_id=station.pk) == "behind"
        assert loop.run(sim.authorize(other.uid)) == "Accepted"  # from its local list
        assert loop.run(sim.authorize(visitor.uid)) == "Invalid"  # not in it: refused

        # back online: the removal follows as a differential update, and the cache is cleared
        assert loop.run(sim.connect()) == "Accepted"
        with tenant_context(live_tenant):
            assert local_lists.local_list_sync(station_id=station.pk, clear_cache=True) == (
                "in_step"
            )
            assert sim.local_list == {other.uid: "Accepted"} and sim.local_list_version == 3
            assert sim.calls_received("ClearCache")
            # a station that lost its list (version 0) gets all of it again
            sim.local_list, sim.local_list_version = {}, 0
            assert local_lists.local_list_sync(station_id=station.pk) == "in_step"
            assert sim.local_list == {other.uid: "Accepted"}
            assert sim.calls_received("SendLocalList")[-1].payload["updateType"] == "Full"
            held = StationLocalList.objects.get(station=station)
            assert held.version == sim.local_list_version and set(held.entries) == {other.uid}
            assert held.per_message == 250  # read from the station
    finally:
        loop.run(sim.close())
        loop.stop()
        connection.close()
