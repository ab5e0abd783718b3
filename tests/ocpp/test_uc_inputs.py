"""Issue 12, item 7: one rule for inputs, whichever door they come through.

A token created over the API as inactive is stored inactive (it answered 500); a station
password follows one rule (16-40 printable ASCII characters: OCPP 2.0.1 BasicAuthPassword)
in the API, the ``register_station`` command and the services; a legacy 1.6 station that
registers itself with the shorter password its firmware holds still connects (Pending)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context
from websockets.asyncio.client import connect

from apps.charging.models import IdToken
from apps.stations.models import Station
from apps.stations.services import station_register
from apps.tenants.models import StationIdentity
from tests.live import basic_auth, unique_identity
from tests.ocpp.clients import in_db, raw_exchange


@pytest.fixture
def api_key(live_alpha):
    from apps.accounts.models import User
    from apps.roles.services import api_key_create

    with tenant_context(live_alpha):
        owner = User.objects.get(email="owner@alpha.test")
        _, raw = api_key_create(name="uc7", created_by=owner, permissions=["*"], all_sites=True)
    connection.set_schema_to_public()
    return raw


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
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_inactive_token_over_the_api_is_stored_inactive(server, live_alpha, api_key):
    uid = unique_identity("T7")[:20]
    status, body = api(
        server, live_alpha, api_key, "POST", "/api/v1/tokens/", {"uid": uid, "is_active": False}
    )
    assert status == 201, body
    assert body["is_active"] is False
    with tenant_context(live_alpha):
        assert IdToken.objects.get(uid=uid).is_active is False


def test_one_password_rule_in_api_command_and_services(server, live_alpha, api_key):
    short = "8charsPW"
    status, body = api(
        server,
        live_alpha,
        api_key,
        "POST",
        "/api/v1/stations/",
        {"identity": unique_identity("P7"), "password": short, "site": None},
    )
    assert status == 400, body
    assert body["error"]["details"]["password"] == ["A station password has 16 to 40 characters."]
    identity = unique_identity("P7")
    with pytest.raises(CommandError, match="16 to 40"):
        call_command("register_station", identity, tenant="alpha", password=short)
    with tenant_context(live_alpha):
        assert not Station.objects.filter(identity=identity).exists()
        with pytest.raises(ValidationError):
            station_register(identity=unique_identity("P7"), password="x" * 41)
        with pytest.raises(ValidationError):
            station_register(identity=unique_identity("P7"), password="sixteen chars ok")  # space
        station = station_register(identity=identity, password="p" * 16)
    assert StationIdentity.objects.get(identity=station.identity).check_password("p" * 16)


async def test_legacy_16_station_with_short_password_registers_itself_pending(server, live_alpha):
    from apps.tenants.models import Tenant

    def open_tenant(flag):
        Tenant.objects.filter(pk=live_alpha.pk).update(accept_unknown_stations=flag)

    await in_db(live_alpha, lambda: open_tenant(True))
    identity = unique_identity("L7")
    try:
        # the tenant comes from the host name the station dials
        async with connect(
            f"ws://alpha.localhost:{server.port}/ocpp/{identity}",
            subprotocols=["ocpp1.6"],
            host="127.0.0.1",
            port=server.port,
            additional_headers={"Authorization": basic_auth(identity, "legacy16")},
        ) as ws:
            reply = await raw_exchange(
                ws, '[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
            )
            assert reply[0] == 3 and reply[2]["status"] == "Pending"
    finally:
        await in_db(live_alpha, lambda: open_tenant(False))
    status = await in_db(
        live_alpha, lambda: Station.objects.get(identity=identity).registration_status
    )
    assert status == "Pending"
