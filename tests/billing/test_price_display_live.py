"""The price reaches real station displays: OCPP 2.0.1 websocket clients boot against the
platform's ASGI server (a separate process); the boot event queues ``billing.push_price_display``
on Redis; a Celery worker process sends SetDisplayMessage through the core's command service.
A station that refuses and one that never answers change nothing for the others; a 1.6
station is sent nothing; a new price is pushed again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect

from apps.billing import services
from apps.billing.services.display import PRICE_MESSAGE_ID
from apps.stations.services import site_create, station_register
from config.celery import app as celery_app
from tests.live import ServerProcess, basic_auth, wait_until
from tests.ocpp.clients import Client16, Client201, in_db
from tests.workers import WorkerProcess

pytestmark = pytest.mark.slow


class Refusing(Client201):
    @on("SetDisplayMessage")
    def display(self, message):
        self.record("SetDisplayMessage", {"message": message})
        return result201.SetDisplayMessage(status="Rejected")


class Silent(Client201):
    @on("SetDisplayMessage")
    async def display(self, message):
        self.record("SetDisplayMessage", {"message": message})
        await asyncio.sleep(20)  # far beyond the platform's wait
        return result201.SetDisplayMessage(status="Accepted")


class Station:
    def __init__(self, server, identity, password, cls, version):
        self.url = f"{server.ws}/ocpp/{identity}"
        self.identity, self.password, self.cls, self.version = identity, password, cls, version

    async def __aenter__(self):
        self.ws = await connect(
            self.url,
            subprotocols=[f"ocpp{self.version}"],
            additional_headers={"Authorization": basic_auth(self.identity, self.password)},
            open_timeout=10,
        )
        self.cp = self.cls(self.identity, self.ws)
        self.task = asyncio.create_task(self.cp.start())
        return self.cp

    async def __aexit__(self, *exc):
        self.task.cancel()
        await self.ws.close()


def shown(cp) -> list[dict]:
    return [payload["message"] for action, payload in cp.received if action == "SetDisplayMessage"]


@pytest.fixture
def server(race_tenant):
    process = ServerProcess("billing-display").start()
    yield process
    process.stop()


@pytest.fixture
def worker(race_tenant):
    celery_app.control.purge()
    process = WorkerProcess("billing-display", settings={"BILLING_DISPLAY_TIMEOUT": 2}).start()
    yield process
    process.stop()


@pytest.fixture
def french(race_tenant):
    race_tenant.language = "fr"
    race_tenant.save(update_fields=["language"])
    yield race_tenant
    race_tenant.language = "en"
    race_tenant.save(update_fields=["language"])


def test_201_displays_get_the_price_on_boot_and_when_it_changes(french, server, worker):
    site = site_create(name="Display garage", timezone="America/Montreal")
    tariff = services.tariff_create(
        name="Display",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
        effective_from=timezone.now() - timedelta(days=1),
    )
    services.tariff_assign(tariff=tariff, site=site)
    stations = {}
    for name, cls, version in [
        ("good", Client201, "2.0.1"),
        ("refusing", Refusing, "2.0.1"),
        ("silent", Silent, "2.0.1"),
        ("old", Client16, "1.6"),
    ]:
        identity, password = f"DISP-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
        station_register(identity=identity, password=password, site=site)
        stations[name] = Station(server, identity, password, cls, version)

    async def scenario():
        async with (
            stations["good"] as good,
            stations["refusing"] as refusing,
            stations["silent"] as silent,
            stations["old"] as old,
        ):
            for cp in (silent, refusing, good):
                boot = await cp.call(
                    call201.BootNotification(
                        charging_station={"model": "DC50", "vendor_name": "ACME"},
                        reason="PowerUp",
                    ),
                    suppress=False,
                )
                assert boot.status == "Accepted"
            boot16 = await old.call(
                call16.BootNotification(charge_point_vendor="ACME", charge_point_model="AC22"),
                suppress=False,
            )
            assert boot16.status == "Accepted"

            await wait_until(lambda: shown(good) and shown(refusing) and shown(silent), 40)
            first = shown(good)[0]
            assert first["id"] == PRICE_MESSAGE_ID and first["priority"] == "NormalCycle"
            assert first["message"] == {
                "format": "UTF8",
                "language": "fr",
                "content": "Prix : 0,25 CAD/kWh",
            }
            assert shown(refusing)[0]["message"]["content"] == "Prix : 0,25 CAD/kWh"

            # A new price, effective now: pushed again once the change commits.
            await in_db(
                french,
                lambda: services.tariff_version_add(
                    tariff=tariff,
                    definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.40"}]},
                ),
            )
            await wait_until(lambda: len(shown(good)) >= 2 and len(shown(refusing)) >= 2, 40)
            assert shown(good)[-1]["message"]["content"] == "Prix : 0,40 CAD/kWh"
            assert shown(good)[-1]["id"] == PRICE_MESSAGE_ID  # replaces the first one

            # The refusing station still works, and the 1.6 station was sent nothing.
            beat = await refusing.call(call201.Heartbeat(), suppress=False)
            assert beat.current_time
            # (access keeps every station's local authorisation list in step: not a price)
            local_list = {"GetConfiguration", "GetLocalListVersion", "SendLocalList", "ClearCache"}
            assert [action for action, _ in old.received if action not in local_list] == []

    asyncio.run(scenario())
    log = worker.log()
    assert "answered Rejected" in log, log
    assert "did not answer" in log, log
