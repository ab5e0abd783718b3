"""Issue 12, item 5: rotating a station's Basic-auth password, over a real server.

1.6 (security whitepaper): ChangeConfiguration AuthorizationKey; 2.0.1 (A01): SetVariables
SecurityCtrlr.BasicAuthPassword.  When the station accepts, the registry takes the new
password; the old one keeps working until the station logs in with the new, then stops.  A
station that refuses keeps its old password.  The audit entry never holds the password."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.db import connection
from ocpp.routing import on
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from apps.audit.models import AuditEntry
from apps.core.scoping import SystemActor
from apps.ocpp import commands
from apps.stations.models import Station
from tests.live import basic_auth
from tests.ocpp.clients import Client201, Connected, in_db

SYSTEM = commands.Requester(actor=SystemActor(), source="system")


async def handshake(server, identity: str, password: str, version: str = "1.6") -> int:
    """The HTTP status of the websocket handshake (101 when the station gets in)."""
    try:
        async with connect(
            f"{server.ws}/ocpp/{identity}",
            subprotocols=[f"ocpp{version}"],
            additional_headers={"Authorization": basic_auth(identity, password)},
            open_timeout=10,
        ):
            return 101
    except InvalidStatus as error:
        return error.response.status_code


def audit_text(live_alpha, station_pk) -> str:
    def read():
        entries = AuditEntry.objects.filter(object_id=str(station_pk)).values_list(
            "changes", flat=True
        )
        return json.dumps(list(entries))

    return read


async def test_16_accepted_authorization_key_replaces_the_password(
    server, make_station, live_alpha
):
    station, identity, old = make_station()
    new = "0123456789abcdef0123456789abcdef"  # 16 bytes in hex, as the whitepaper writes it
    async with Connected(server.ws, identity, old, "1.6") as cp:

        def change():
            return commands.station_configuration_change(
                requester=SYSTEM,
                station=Station.objects.get(pk=station.pk),
                changes=[{"key": "AuthorizationKey", "value": new}],
            )

        reply = await in_db(live_alpha, change)
        assert reply.ok and reply.rows == [{"key": "AuthorizationKey", "status": "Accepted"}]
        assert cp.received == [("ChangeConfiguration", {"key": "AuthorizationKey", "value": new})]
    # until the station has logged in with the new one, the old one still works
    assert await handshake(server, identity, old) == 101
    assert await handshake(server, identity, new) == 101  # (today: 401, locked out)
    assert await handshake(server, identity, old) == 401  # and from then on only the new
    assert await handshake(server, identity, new) == 101
    text = await in_db(live_alpha, audit_text(live_alpha, station.pk))
    assert "AuthorizationKey" in text and new not in text


class Refusing201(Client201):
    @on("SetVariables")
    def set_variables(self, set_variable_data):
        self.record("SetVariables", {"data": set_variable_data})
        return result201.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Rejected",
                    "component": d["component"],
                    "variable": d["variable"],
                }
                for d in set_variable_data
            ]
        )


def api(server, tenant, key, method, path) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.http}{path}",
        method=method,
        headers={"Host": tenant.get_primary_domain().domain, "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_201_rotate_password_command_through_the_api(server, make_station, live_alpha):
    from apps.accounts.models import User
    from apps.roles.services import api_key_create

    def make_key():
        owner = User.objects.get(email="owner@alpha.test")
        return api_key_create(name="uc5", created_by=owner, permissions=["*"], all_sites=True)[1]

    key = await in_db(live_alpha, make_key)
    station, identity, old = make_station()
    path = f"/api/v1/stations/{station.pk}/rotate-password/"
    async with Connected(server.ws, identity, old, "2.0.1") as cp:
        status, body = await _to_thread(api, server, live_alpha, key, "POST", path)
        assert status == 200 and body["status"] == "Accepted", body
        [(action, sent)] = cp.received
        [item] = sent["data"]
        assert action == "SetVariables"
        assert item["component"] == {"name": "SecurityCtrlr"}
        assert item["variable"] == {"name": "BasicAuthPassword"}
        new = item["attribute_value"]
        assert len(new) == 40 and int(new, 16) >= 0  # strong: 20 random bytes in hex
    assert await handshake(server, identity, new, "2.0.1") == 101
    assert await handshake(server, identity, old, "2.0.1") == 401
    text = await in_db(live_alpha, audit_text(live_alpha, station.pk))
    assert "BasicAuthPassword" in text and new not in text

    # a station that refuses its new password keeps the one it has
    ws = await connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=["ocpp2.0.1"],
        additional_headers={"Authorization": basic_auth(identity, new)},
    )
    import asyncio

    refusing = Refusing201(identity, ws)
    task = asyncio.create_task(refusing.start())
    try:
        status, body = await _to_thread(api, server, live_alpha, key, "POST", path)
        assert status == 502 or body.get("status") == "Rejected", body
        refused = refusing.received[0][1]["data"][0]["attribute_value"]
    finally:
        task.cancel()
        await ws.close()
    assert await handshake(server, identity, refused, "2.0.1") == 401
    assert await handshake(server, identity, new, "2.0.1") == 101


async def _to_thread(fn, *args):
    import asyncio

    def run():
        try:
            return fn(*args)
        finally:
            connection.close()

    return await asyncio.to_thread(run)
