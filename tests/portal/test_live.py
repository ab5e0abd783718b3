"""The browsers' live feed (/ws/live/) with the real Redis channel layer: a change committed
by a service reaches a signed-in person's socket, scoped to their sites; strangers are
refused at the handshake."""

from __future__ import annotations

import uuid

import pytest
from channels.routing import URLRouter
from django.conf import settings
from django.db import transaction
from django.test import Client
from django_tenants.utils import tenant_context

from apps.dashboard import consumers
from apps.dashboard.routing import websocket_urlpatterns
from apps.tenants.models import Tenant
from tests.live import blocking
from tests.portal.websocket import WebsocketClient

application = URLRouter(websocket_urlpatterns)


@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    """Committed data: the consumer reads it on its own thread and connection."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def world(live_db):
    """Two sites, a station on each, a viewer of the first site only (all committed)."""
    from apps.roles.services import role_assign, role_by_slug
    from apps.stations.services import site_create
    from tests.factories import UserFactory
    from tests.portal.factories import make_station

    tag = uuid.uuid4().hex[:8]

    def create():
        alpha = Tenant.objects.get(slug="alpha")
        beta = Tenant.objects.get(slug="beta")
        with tenant_context(alpha):
            mine = site_create(name=f"Live mine {tag}")
            other = site_create(name=f"Live other {tag}")
            station = make_station(mine, f"LIVE-{tag}-1", statuses=("Available",))
            hidden = make_station(other, f"LIVE-{tag}-2", statuses=("Available",))
            viewer = UserFactory(email=f"viewer-{tag}@alpha.test")
            role_assign(user=viewer, role=role_by_slug("viewer"), sites=[mine])
            nobody = UserFactory(email=f"nobody-{tag}@alpha.test")
        return {
            "alpha": alpha,
            "beta": beta,
            "host": alpha.get_primary_domain().domain,
            "beta_host": beta.get_primary_domain().domain,
            "station": station,
            "hidden": hidden,
            "viewer": viewer,
            "nobody": nobody,
        }

    return blocking(create)


def session_cookie(tenant, user) -> str:
    def login():
        with tenant_context(tenant):
            client = Client(HTTP_HOST=tenant.get_primary_domain().domain)
            client.force_login(user)
            return client.cookies[settings.SESSION_COOKIE_NAME].value

    return blocking(login)


def communicator(host: str, cookie: str | None, path: str = "/ws/live/", origin: str | None = None):
    headers = [(b"host", host.encode())]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    headers.append((b"origin", (origin or f"http://{host}").encode()))
    return WebsocketClient(application, path, headers=headers)


def set_status(tenant, station, status: str, evse_id: int = 1) -> None:
    """A port status change through the core's service, committed (handlers run after)."""
    from django.utils import timezone

    from apps.stations.models import Evse
    from apps.stations.services import evse_set_status

    def change():
        with tenant_context(tenant), transaction.atomic():
            evse = Evse.objects.get(station=station, evse_id=evse_id)
            evse_set_status(evse=evse, status=status, at=timezone.now())

    blocking(change)


def report_power(tenant, station, watts: int) -> None:
    from apps.core import events

    def emit():
        with tenant_context(tenant), transaction.atomic():
            events.emit(
                events.METER_VALUES_RECEIVED,
                station_id=station.pk,
                site_id=station.site_id,
                evse_id=1,
                session_id=None,
                power_w=watts,
                current_a=None,
                energy_wh=None,
            )

    blocking(emit)


async def test_status_change_reaches_the_viewer_of_that_site_only(world):
    socket = communicator(world["host"], session_cookie(world["alpha"], world["viewer"]))
    connected, _ = await socket.connect()
    assert connected
    set_status(world["alpha"], world["hidden"], "Faulted")  # another site: not forwarded
    set_status(world["alpha"], world["station"], "Charging")
    message = await socket.receive_json_from(timeout=5)
    assert message["kind"] == "station"
    assert message["station_id"] == world["station"].pk
    assert message["state"] == "charging"
    assert message["evses"] == [{"evse_id": 1, "status": "Charging", "state": "charging"}]
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


def status_batch(tenant, stations) -> None:
    """A batch of station events, as the OCPP runtime delivers a storm (apps/core/events.py,
    "Batches"): one call of the dashboard's batch handler, one live message."""
    from apps.core import events
    from apps.dashboard.live import on_stations_changed

    def deliver():
        with tenant_context(tenant):
            on_stations_changed(
                entries=[(events.STATION_CONNECTED, {"station_id": s.pk}) for s in stations]
            )

    blocking(deliver)


async def test_a_batch_reaches_the_viewer_as_one_message_per_station_of_their_sites(world):
    socket = communicator(world["host"], session_cookie(world["alpha"], world["viewer"]))
    connected, _ = await socket.connect()
    assert connected
    status_batch(world["alpha"], [world["hidden"], world["station"], world["station"]])
    message = await socket.receive_json_from(timeout=5)
    assert message["kind"] == "station"
    assert message["station_id"] == world["station"].pk
    assert await socket.receive_nothing(timeout=0.5)  # the other site's, and no duplicate
    await socket.disconnect()


async def test_power_only_for_the_station_the_page_follows(world):
    cookie = session_cookie(world["alpha"], world["viewer"])
    follows = communicator(world["host"], cookie, f"/ws/live/?power={world['station'].pk}")
    ignores = communicator(world["host"], cookie)
    assert (await follows.connect())[0] and (await ignores.connect())[0]
    report_power(world["alpha"], world["station"], 7200)
    message = await follows.receive_json_from(timeout=5)
    assert message["kind"] == "power" and message["power_w"] == 7200
    assert await ignores.receive_nothing(timeout=0.5)
    await follows.disconnect()
    await ignores.disconnect()


@pytest.mark.parametrize(
    "who", ["anonymous", "no role", "other tenant", "wrong host", "cross-site"]
)
async def test_strangers_are_refused_at_the_handshake(world, who):
    host, cookie, origin = world["host"], None, None
    if who == "no role":
        cookie = session_cookie(world["alpha"], world["nobody"])
    elif who == "other tenant":
        beta_owner = blocking(lambda: _beta_owner(world["beta"]))
        cookie = session_cookie(world["beta"], beta_owner)  # a beta session, shown to alpha
    elif who == "wrong host":
        host = "unknown.example.org"
        cookie = session_cookie(world["alpha"], world["viewer"])
    elif who == "cross-site":
        cookie = session_cookie(world["alpha"], world["viewer"])
        origin = "https://evil.example.org"
    socket = communicator(host, cookie, origin=origin)
    connected, code = await socket.connect()
    assert not connected
    await socket.disconnect()


def _beta_owner(beta):
    from apps.accounts.models import User

    with tenant_context(beta):
        return User.objects.get(email="owner@beta.test")


async def test_a_revoked_role_closes_the_feed(world, monkeypatch):
    monkeypatch.setattr(consumers, "SCOPE_REFRESH_SECONDS", 0.0)
    socket = communicator(world["host"], session_cookie(world["alpha"], world["viewer"]))
    assert (await socket.connect())[0]

    def revoke():
        from apps.roles.services import role_by_slug, role_revoke

        with tenant_context(world["alpha"]):
            role_revoke(user=world["viewer"], role=role_by_slug("viewer"))

    blocking(revoke)
    set_status(world["alpha"], world["station"], "Faulted")
    output = await socket.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4403}


def publish_command_answer(tenant, station, ref: str) -> None:
    from apps.core.live import publish_live

    def publish():
        with tenant_context(tenant):
            publish_live(
                {
                    "kind": "command",
                    "command": "session.remote_start",
                    "ref": ref,
                    "station_id": station.pk,
                    "site_id": station.site_id,
                    "evse_id": 1,
                    "ok": True,
                    "status": "Accepted",
                    "message": "The station accepted.",
                }
            )

    blocking(publish)


async def test_a_commands_answer_reaches_the_viewer_of_that_site_only(world):
    """A remote start's answer, published by the worker (monitoring), reaches those who see
    the station's site, not the others."""
    socket = communicator(world["host"], session_cookie(world["alpha"], world["viewer"]))
    assert (await socket.connect())[0]
    publish_command_answer(world["alpha"], world["hidden"], "hidden")
    publish_command_answer(world["alpha"], world["station"], "seen")
    message = await socket.receive_json_from(timeout=5)
    assert message["kind"] == "command" and message["ref"] == "seen"
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
