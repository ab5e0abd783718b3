"""End to end, for real: a 1.6 and a 2.0.1 station (the `ocpp` library's clients over
websockets) talk to the platform's ASGI server in its own process; two Celery worker processes
run the waitlist's tasks.

Three drivers tap their cards on the busy group and queue; a session ends and the port is
reserved on the station for the first driver (ReserveNow on that connector), who taps and
charges on it; the next hold expires and passes on (CancelReservation, ReserveNow for the next
driver); a station refuses the reservation and the port passes on again; and two workers race on
one freed port: exactly one driver gets it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect

from apps.charging.models import ChargingSession, IdToken
from apps.stations.services import site_create, station_register
from apps.waitlist import services, tasks
from apps.waitlist.choices import EntryStatus
from apps.waitlist.models import WaitlistEntry, WaitlistGroup
from config.celery import app as celery_app
from tests.live import ServerProcess, basic_auth, wait_until
from tests.ocpp.clients import Client16, Client201, in_db
from tests.workers import WorkerProcess, started

pytestmark = pytest.mark.slow


class Station16(Client16):
    refuse = False

    @on("ReserveNow")
    def reserve(self, connector_id, expiry_date, id_tag, reservation_id, **kw):
        self.record(
            "ReserveNow",
            {"connector_id": connector_id, "id_tag": id_tag, "reservation_id": reservation_id},
        )
        return result16.ReserveNow(status="Rejected" if self.refuse else "Accepted")


class Station201(Client201):
    refuse = False

    @on("ReserveNow")
    def reserve(self, id, expiry_date_time, id_token, evse_id=None, **kw):
        self.record("ReserveNow", {"id": id, "evse_id": evse_id, "id_token": id_token["id_token"]})
        return result201.ReserveNow(status="Rejected" if self.refuse else "Accepted")

    @on("SetDisplayMessage")
    def display(self, message):
        self.record("SetDisplayMessage", message)
        return result201.SetDisplayMessage(status="Accepted")


class Connected:
    def __init__(self, base_url, identity, password, cls):
        self.url, self.identity, self.password, self.cls = (
            f"{base_url}/ocpp/{identity}",
            identity,
            password,
            cls,
        )

    async def __aenter__(self):
        version = "1.6" if issubclass(self.cls, Client16) else "2.0.1"
        self.ws = await connect(
            self.url,
            subprotocols=[f"ocpp{version}"],
            additional_headers={"Authorization": basic_auth(self.identity, self.password)},
            open_timeout=10,
        )
        self.cp = self.cls(self.identity, self.ws)
        self.task = asyncio.create_task(self.cp.start())
        return self.cp

    async def __aexit__(self, *exc):
        self.task.cancel()
        await self.ws.close()


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def platform(wl_tenant):
    celery_app.control.purge()
    server = ServerProcess("waitlist-e2e").start()
    workers = started(WorkerProcess("waitlist-a"), WorkerProcess("waitlist-b"))
    yield server
    for worker in workers:
        worker.stop()
    server.stop()


@pytest.fixture
def setup(wl_tenant):
    site = site_create(name="Garage", timezone="America/Montreal")
    stations = {}
    for version in ("1.6", "2.0.1"):
        identity = f"WL{version.replace('.', '')}-{uuid.uuid4().hex[:8]}"
        password = f"pw-{identity.lower()}-0123456789"
        station = station_register(identity=identity, password=password, site=site)
        stations[version] = (station, identity, password)
    group = WaitlistGroup.objects.create(site=site, name="Level 2", hold_minutes=10)
    group.stations.set([s for s, _, _ in stations.values()])
    uids = [
        IdToken.objects.create(uid=f"{name}{uuid.uuid4().hex[:6].upper()}").uid for name in "ABCXY"
    ]
    return group, stations, uids


def entry(tenant, uid):
    return in_db(tenant, lambda: WaitlistEntry.objects.filter(token_uid=uid).first())


async def reserve_nows(cp):
    return [payload for action, payload in cp.received if action == "ReserveNow"]


async def nth_reserve(cp, n):
    sent = await reserve_nows(cp)
    return sent[n] if len(sent) > n else None


def test_three_drivers_queue_on_two_busy_ports_of_both_versions(wl_tenant, platform, setup):
    group, stations, (d1, d2, d3, x, y) = setup
    (_, id16, pw16), (_, id201, pw201) = stations["1.6"], stations["2.0.1"]

    async def scenario():
        async with (
            Connected(platform.ws, id16, pw16, Station16) as a,
            Connected(platform.ws, id201, pw201, Station201) as b,
        ):
            await a.call(call16.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            await b.call(
                call201.BootNotification(
                    charging_station={"vendor_name": "V", "model": "M"}, reason="PowerUp"
                )
            )
            # both ports busy: X charges on the 1.6 station, Y on the 2.0.1 one
            started = await a.call(
                call16.StartTransaction(
                    connector_id=1, id_tag=x, meter_start=0, timestamp=now_iso()
                )
            )
            await a.call(
                call16.StatusNotification(
                    connector_id=1, error_code="NoError", status="Charging", timestamp=now_iso()
                )
            )
            await b.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp=now_iso(),
                    trigger_reason="Authorized",
                    seq_no=0,
                    transaction_info={"transaction_id": "TY", "charging_state": "Charging"},
                    evse={"id": 1, "connector_id": 1},
                    id_token={"id_token": y, "type": "ISO14443"},
                )
            )
            await b.call(
                call201.StatusNotification(
                    timestamp=now_iso(), connector_status="Occupied", evse_id=1, connector_id=1
                )
            )
            # three drivers tap: 1.6, 2.0.1, 1.6
            for cp, uid in ((a, d1), (b, d2), (a, d3)):
                if cp is a:
                    answer = await cp.call(call16.Authorize(id_tag=uid))
                    assert answer.id_tag_info["status"] == "Accepted"
                else:
                    answer = await cp.call(
                        call201.Authorize(id_token={"id_token": uid, "type": "ISO14443"})
                    )
                    assert answer.id_token_info["status"] == "Accepted"
                await wait_until(lambda uid=uid: entry(wl_tenant, uid), timeout=10)
            # the 2.0.1 display shows the second driver's place
            shown = await wait_until(  # (billing shows the price too: another message id)
                lambda: [
                    p
                    for act, p in b.received
                    if act == "SetDisplayMessage" and p["id"] == services.DISPLAY_MESSAGE_ID
                ],
                timeout=20,
            )
            assert "2" in shown[0]["message"]["content"]

            # X's session ends on the 1.6 station: its port is reserved for D1
            await a.call(
                call16.StopTransaction(
                    meter_stop=5000, timestamp=now_iso(), transaction_id=started.transaction_id
                )
            )
            await a.call(
                call16.StatusNotification(
                    connector_id=1, error_code="NoError", status="Available", timestamp=now_iso()
                )
            )
            reserved = (await wait_until(lambda: reserve_nows(a), timeout=20))[0]
            assert reserved["connector_id"] == 1 and reserved["id_tag"] == d1
            held = await wait_until(
                lambda: in_db(
                    wl_tenant,
                    lambda: WaitlistEntry.objects.filter(
                        token_uid=d1, status=EntryStatus.HELD, reservation_state="accepted"
                    ).first(),
                ),
                timeout=10,
            )
            assert held.reservation_id == reserved["reservation_id"]
            # D1 taps and charges on the held port
            await a.call(call16.Authorize(id_tag=d1))
            await a.call(
                call16.StartTransaction(
                    connector_id=1,
                    id_tag=d1,
                    meter_start=5000,
                    timestamp=now_iso(),
                    reservation_id=reserved["reservation_id"],
                )
            )
            served = await wait_until(
                lambda: in_db(
                    wl_tenant,
                    lambda: WaitlistEntry.objects.filter(
                        token_uid=d1, status=EntryStatus.CHARGING
                    ).first(),
                ),
                timeout=20,
            )
            assert served.session_id is not None

            # Y's session ends on the 2.0.1 station: D2's hold there expires, D3 gets it
            await b.call(
                call201.TransactionEvent(
                    event_type="Ended",
                    timestamp=now_iso(),
                    trigger_reason="EVDeparted",
                    seq_no=1,
                    transaction_info={"transaction_id": "TY", "stopped_reason": "EVDisconnected"},
                    evse={"id": 1, "connector_id": 1},
                )
            )
            await b.call(
                call201.StatusNotification(
                    timestamp=now_iso(), connector_status="Available", evse_id=1, connector_id=1
                )
            )
            first_b = (await wait_until(lambda: reserve_nows(b), timeout=20))[0]
            assert first_b["evse_id"] == 1 and first_b["id_token"] == d2
            await wait_until(
                lambda: in_db(
                    wl_tenant,
                    lambda: WaitlistEntry.objects.filter(
                        token_uid=d2, reservation_state="accepted"
                    ).exists(),
                ),
                timeout=10,
            )

            def expire_now():
                WaitlistEntry.objects.filter(token_uid=d2).update(hold_expires_at=timezone.now())
                held_id = WaitlistEntry.objects.get(token_uid=d2).pk
                tasks.hold_expire.delay(held_id)

            await in_db(wl_tenant, expire_now)
            second_b = await wait_until(lambda: nth_reserve(b, 1), timeout=20)
            assert second_b["id_token"] == d3
            await wait_until(
                lambda: [p for act, p in b.received if act == "CancelReservation"], timeout=20
            )
            cancelled = [p for act, p in b.received if act == "CancelReservation"]
            assert cancelled[0]["reservation_id"] == first_b["id"]
            d2_entry = await entry(wl_tenant, d2)
            assert d2_entry.status == EntryStatus.WAITING and d2_entry.no_shows == 1

            # the station now refuses reservations: D3's hold expires, the port passes to D2,
            # refused too; both keep their place in the queue
            b.refuse = True

            def expire_d3():
                WaitlistEntry.objects.filter(token_uid=d3).update(hold_expires_at=timezone.now())
                tasks.hold_expire.delay(WaitlistEntry.objects.get(token_uid=d3).pk)

            await in_db(wl_tenant, expire_d3)
            refused = [
                await wait_until(lambda: nth_reserve(b, 2), timeout=30),
                await wait_until(lambda: nth_reserve(b, 3), timeout=30),
            ]
            assert [p["id_token"] for p in refused] == [d2, d3]
            await asyncio.sleep(1)

            def states():
                return {e.token_uid: e.status for e in WaitlistEntry.objects.filter(group=group)}

            assert await in_db(wl_tenant, states) == {
                d1: EntryStatus.CHARGING,
                d2: EntryStatus.WAITING,
                d3: EntryStatus.WAITING,
            }

    asyncio.run(scenario())
    assert ChargingSession.objects.filter(id_token=d1).count() == 1


def test_two_workers_racing_on_one_freed_port_give_it_to_exactly_one_driver(
    wl_tenant, platform, setup
):
    group, stations, uids = setup
    _, identity, password = stations["1.6"]

    async def scenario():
        async with Connected(platform.ws, identity, password, Station16) as a:
            await a.call(call16.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            await a.call(
                call16.StatusNotification(
                    connector_id=1, error_code="NoError", status="Charging", timestamp=now_iso()
                )
            )

            def queue():
                from apps.waitlist import services

                for uid in uids:
                    services.entry_join(group=group, token_uid=uid, via="api")

            await in_db(wl_tenant, queue)

            def free_twice():
                from apps.stations.models import Evse

                Evse.objects.filter(station__identity=identity).update(status="Available")
                station_id = group.stations.get(identity=identity).pk
                # the station's own Available and a duplicate: three claims at once
                for _ in range(2):
                    tasks.port_freed.delay(station_id, 1)

            await in_db(wl_tenant, free_twice)
            await a.call(
                call16.StatusNotification(
                    connector_id=1, error_code="NoError", status="Available", timestamp=now_iso()
                )
            )
            await wait_until(lambda: reserve_nows(a), timeout=20)
            await asyncio.sleep(3)  # every claim has run by now
            assert len(await reserve_nows(a)) == 1

            def held():
                return list(
                    WaitlistEntry.objects.filter(status=EntryStatus.HELD).values_list(
                        "token_uid", flat=True
                    )
                )

            assert await in_db(wl_tenant, held) == [uids[0]]

    asyncio.run(scenario())
