"""The handshake: identity, password (security profile 1) and subprotocol, before accepting."""

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from apps.stations.models import Station
from tests.live import basic_auth, unique_identity, wait_until
from tests.ocpp.clients import Connected, in_db


async def refused_with(url: str, headers=None, subprotocols=("ocpp1.6",)) -> int:
    with pytest.raises(InvalidStatus) as error:
        async with connect(url, subprotocols=list(subprotocols), additional_headers=headers or {}):
            pass
    return error.value.response.status_code


async def test_unknown_identity_is_404(server, live_db):
    status = await refused_with(
        f"{server.ws}/ocpp/NOBODY-HERE", {"Authorization": basic_auth("NOBODY-HERE", "x" * 16)}
    )
    assert status == 404


async def test_wrong_or_missing_password_is_401(server, make_station):
    station, identity, password = make_station()
    url = f"{server.ws}/ocpp/{identity}"
    assert await refused_with(url, {"Authorization": basic_auth(identity, password + "x")}) == 401
    assert await refused_with(url) == 401
    # the user part of Basic auth must be the identity itself
    assert await refused_with(url, {"Authorization": basic_auth("someone-else", password)}) == 401


async def test_unsupported_subprotocol_is_refused(server, make_station):
    station, identity, password = make_station()
    headers = {"Authorization": basic_auth(identity, password)}
    assert (
        await refused_with(f"{server.ws}/ocpp/{identity}", headers, subprotocols=("ocpp1.5",))
        == 400
    )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_good_credentials_connect_with_the_negotiated_version(
    server, make_station, live_alpha, version
):
    station, identity, password = make_station()
    async with Connected(server.ws, identity, password, version) as cp:
        assert cp._connection.subprotocol == f"ocpp{version}"

        def online():
            return Station.objects.values_list("is_online", "ocpp_version").get(pk=station.pk)

        # Marked online just after the accept (off the handshake path), before any answer.
        await wait_until(lambda: in_db(live_alpha, lambda: online()[0]), timeout=5)
        assert await in_db(live_alpha, online) == (True, version)


async def test_both_offered_prefers_201(server, make_station):
    station, identity, password = make_station()
    async with connect(
        f"{server.ws}/ocpp/{identity}",
        subprotocols=["ocpp1.6", "ocpp2.0.1"],
        additional_headers={"Authorization": basic_auth(identity, password)},
    ) as ws:
        assert ws.subprotocol == "ocpp2.0.1"


async def test_unknown_station_on_an_open_tenant_is_registered_pending(server, live_alpha):
    from apps.tenants.models import Tenant

    def open_tenant(flag):
        Tenant.objects.filter(pk=live_alpha.pk).update(accept_unknown_stations=flag)

    await in_db(live_alpha, lambda: open_tenant(True))
    try:
        identity = unique_identity("NEWBIE")
        # the tenant comes from the host name the station dials
        url = f"ws://alpha.localhost:{server.port}/ocpp/{identity}"
        async with connect(
            url,
            subprotocols=["ocpp1.6"],
            host="127.0.0.1",
            port=server.port,
            additional_headers={"Authorization": basic_auth(identity, "first-password-123")},
        ) as ws:
            from tests.ocpp.clients import raw_exchange

            reply = await raw_exchange(
                ws, '[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
            )
            assert reply[0] == 3 and reply[2]["status"] == "Pending"
            # anything but BootNotification is refused while pending
            reply = await raw_exchange(ws, '[2,"h1","Heartbeat",{}]')
            assert reply[:3] == [4, "h1", "SecurityError"]
        station = await in_db(live_alpha, lambda: Station.objects.get(identity=identity))
        assert station.registration_status == "Pending"
    finally:
        await in_db(live_alpha, lambda: open_tenant(False))
