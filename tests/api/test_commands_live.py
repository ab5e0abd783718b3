"""End to end: an integrator's API request reaches a real OCPP station through a real server
process (uvicorn + Channels), and the station's own answer comes back over HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.roles.models import ApiKey
from apps.stations.models import Station
from apps.stations.services import station_register
from apps.tenants.models import Tenant
from tests.live import ServerProcess, unique_identity, wait_until
from tests.ocpp.clients import Connected, in_db

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(django_db_setup):
    process = ServerProcess("api-live").start()
    yield process
    process.stop()


@pytest.fixture
def live(django_db_blocker):
    """Committed rows the server process can see."""
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(slug="alpha")
        identity = unique_identity("API")
        password = "pw-" + identity.lower() + "-0123456789"
        with tenant_context(tenant):
            from apps.accounts.models import User
            from apps.roles.services import api_key_create

            station = station_register(identity=identity, password=password, evse_count=1)
            owner = User.objects.get(email="owner@alpha.test")
            key, raw = api_key_create(
                name="live", created_by=owner, permissions=["*"], all_sites=True
            )
        connection.set_schema_to_public()
        yield tenant, station, identity, password, raw
        # The station stays (its identity is unique): the server may still be recording the
        # disconnect, and deleting under it races with that write.
        with tenant_context(tenant):
            AuditEntry.objects.filter(object_id=str(station.pk)).delete()
            ApiKey.objects.filter(pk=key.pk).delete()
        connection.set_schema_to_public()


def api(server, tenant, key, method, path, body=None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.http}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Host": tenant.get_primary_domain().domain,
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_api_commands_reach_a_real_station_and_return_its_answer(server, live):
    tenant, station, identity, password, key = live
    base = f"/api/v1/stations/{station.pk}"

    async def call(method, path, body=None):
        return await asyncio.to_thread(api, server, tenant, key, method, base + path, body)

    status, body = await call("POST", "/reset/", {"kind": "hard"})
    assert (status, body["error"]["code"]) == (409, "station_offline")

    async with Connected(server.ws, identity, password, "1.6") as cp:
        await wait_until(
            lambda: in_db(tenant, lambda: Station.objects.get(pk=station.pk).is_online),
            timeout=30,  # a loaded machine (other test runs) can be slow
        )
        status, body = await call("POST", "/reset/", {"kind": "hard"})
        assert (status, body) == (200, {"status": "Accepted", "response": {"status": "Accepted"}})

        status, body = await call("GET", "/configuration/?key=HeartbeatInterval")
        assert status == 200, body
        assert body["values"] == [
            {"key": "HeartbeatInterval", "value": "300", "readonly": False, "status": "Accepted"}
        ]

        status, body = await call(
            "POST", "/ocpp-call/", {"action": "UnlockConnector", "payload": {"connectorId": 1}}
        )
        assert (status, body) == (200, {"response": {"status": "Unlocked"}})

        assert cp.received[0] == ("Reset", {"type": "Hard"})
        assert [action for action, _ in cp.received] == [
            "Reset",
            "GetConfiguration",
            "UnlockConnector",
        ]

    def audited():
        return list(
            AuditEntry.objects.filter(object_id=str(station.pk))
            .order_by("id")
            .values_list("action", "succeeded", "source", "actor_kind")
        )

    assert await in_db(tenant, audited) == [
        ("station.reset", False, "api", "api_key"),
        ("station.reset", True, "api", "api_key"),
        ("station.configuration_read", True, "api", "api_key"),
        ("station.ocpp_call", True, "api", "api_key"),
    ]


def post_and_keep_socket(server, tenant, key, path, body) -> socket.socket:
    """An HTTP client that sends its request; the caller hangs up (closes the socket) without
    reading the answer."""
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {tenant.get_primary_domain().domain}\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(head + data)
    return sock


def remote_starts(station) -> list[dict]:
    return list(
        AuditEntry.objects.filter(object_id=str(station.pk), action="session.remote_start")
        .order_by("id")
        .values("id", "succeeded", "source", "actor_kind", "changes")
    )


async def test_a_remote_start_is_on_record_though_its_client_hung_up(server, live):
    """A station that takes 3 s to accept a remote start and then never starts charging; the
    HTTP client hangs up once the command has reached the station.  The command and its
    acceptance are on record within seconds (the entry used to be written only after a 30 s
    wait for the session, and not at all once the client had gone), and an integrator who
    stays gets the acceptance without waiting for a session."""
    from ocpp.v16 import call_result

    tenant, station, identity, password, key = live
    path = f"/api/v1/stations/{station.pk}/remote-start/"
    body = {"evse_id": 1, "id_token": "GONE-1"}
    async with Connected(server.ws, identity, password, "1.6") as cp:

        async def accept_slowly(**kwargs):
            cp.received.append(("RemoteStartTransaction", kwargs))
            await asyncio.sleep(3)
            return call_result.RemoteStartTransaction(status="Accepted")

        cp.route_map["RemoteStartTransaction"]["_on_action"] = accept_slowly
        await wait_until(
            lambda: in_db(tenant, lambda: Station.objects.get(pk=station.pk).is_online),
            timeout=30,
        )
        client = await asyncio.to_thread(post_and_keep_socket, server, tenant, key, path, body)
        await wait_until(lambda: cp.received, timeout=10)
        client.close()  # gone before the station answers
        assert cp.received == [("RemoteStartTransaction", {"id_tag": "GONE-1", "connector_id": 1})]
        sent = await in_db(tenant, lambda: remote_starts(station))
        assert [(e["changes"]["state"], e["succeeded"]) for e in sent] == [("sent", False)]
        entries = await wait_until(
            lambda: in_db(
                tenant,
                lambda: [e for e in remote_starts(station) if e["changes"]["state"] != "sent"],
            ),
            timeout=10,
        )
        [entry] = entries
        assert entry["succeeded"] and (entry["source"], entry["actor_kind"]) == ("api", "api_key")
        assert entry["changes"]["status"] == "Accepted"
        assert entry["changes"]["calls"] == [
            {"action": "RemoteStartTransaction", "payload": {"connectorId": 1, "idTag": "GONE-1"}}
        ]
        assert "session" not in entry["changes"]  # the station never started

        began = time.monotonic()
        status, answer = await asyncio.to_thread(api, server, tenant, key, "POST", path, body)
        assert time.monotonic() - began < 10, "the caller waited for the session"
        assert status == 200, answer
        assert answer["status"] == "Accepted" and answer["remote_start_id"] is None
        assert len(cp.received) == 2
    starts = await in_db(tenant, lambda: remote_starts(station))
    assert [e["changes"]["state"] for e in starts] == ["answered", "answered"]
    assert answer["command_id"] == starts[1]["id"]
