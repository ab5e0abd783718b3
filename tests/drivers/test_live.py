"""The finder's live feed (/ws/drivers/finder/) with the real Redis channel layer: a port
status committed by the core's service reaches anonymous listeners of that tenant only, with
the public row (no identity); another site's page cannot listen through the visitor."""

from __future__ import annotations

import uuid

import pytest
from channels.routing import URLRouter
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.drivers.routing import websocket_urlpatterns
from apps.tenants.models import Tenant
from tests.live import blocking
from tests.portal.websocket import WebsocketClient

application = URLRouter(websocket_urlpatterns)


@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def world(live_db):
    from apps.drivers import services
    from tests.drivers.conftest import make_station

    tag = uuid.uuid4().hex[:8]

    def create():
        alpha = Tenant.objects.get(slug="alpha")
        beta = Tenant.objects.get(slug="beta")
        with tenant_context(alpha):
            from apps.stations.services import site_create

            listed = site_create(name=f"Live listed {tag}", latitude="45.5", longitude="-73.6")
            hidden = site_create(name=f"Live hidden {tag}", latitude="45.5", longitude="-73.6")
            services.listing_save(site=listed)
            station = make_station(listed, "Listed")
            unlisted = make_station(hidden, "Unlisted")
        return {
            "alpha": alpha,
            "host": alpha.get_primary_domain().domain,
            "beta_host": beta.get_primary_domain().domain,
            "station": station,
            "unlisted": unlisted,
        }

    world = blocking(create)
    yield world

    def remove():  # committed rows: leave the tenant as other tests expect it
        with tenant_context(world["alpha"]):
            from apps.stations.models import Site

            sites = [world["station"].site_id, world["unlisted"].site_id]
            for station in (world["station"], world["unlisted"]):
                station.delete()
            Site.objects.filter(pk__in=sites).delete()

    blocking(remove)


def listener(host: str, origin: str | None = None) -> WebsocketClient:
    headers = [(b"host", host.encode()), (b"origin", (origin or f"http://{host}").encode())]
    return WebsocketClient(application, "/ws/drivers/finder/", headers=headers)


def set_status(tenant, station, status: str, evse_id: int = 1) -> None:
    from apps.stations.models import Evse
    from apps.stations.services import evse_set_status

    def change():
        with tenant_context(tenant), transaction.atomic():
            evse = Evse.objects.get(station=station, evse_id=evse_id)
            evse_set_status(evse=evse, status=status, at=timezone.now())

    blocking(change)


async def test_a_station_starting_to_charge_reaches_the_finder_of_its_network_only(world):
    mine, theirs = listener(world["host"]), listener(world["beta_host"])
    assert (await mine.connect())[0] and (await theirs.connect())[0]
    set_status(world["alpha"], world["unlisted"], "Charging")  # not in the finder: nothing
    set_status(world["alpha"], world["station"], "Charging")
    message = await mine.receive_json_from(timeout=5)
    assert message["kind"] == "station"
    row = message["station"]
    assert row["id"] == world["station"].pk
    assert (row["free"], row["total"]) == (1, 2)
    assert row["ports"] == [["cType2", 7.4, 1, 2]]
    assert "identity" not in row
    assert await mine.receive_nothing(timeout=0.5)
    assert await theirs.receive_nothing(timeout=0.5)
    await mine.disconnect()
    await theirs.disconnect()


@pytest.mark.parametrize("who", ["unknown host", "cross-site page"])
async def test_strangers_are_refused(world, who):
    if who == "unknown host":
        socket = listener("unknown.example.org")
    else:
        socket = listener(world["host"], origin="https://evil.example")
    connected, _ = await socket.connect()
    assert not connected
