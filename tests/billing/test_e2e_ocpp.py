"""End to end, for real: stations speak OCPP 1.6J over websockets to the platform's ASGI server
(a separate process) through a simulated February; every StopTransaction ends a session, whose
event queues ``billing.bill_session`` on Redis; two Celery workers bill them; then the February
payout task is sent twice and both workers run it at the same time.  Exactly one payout exists,
it equals the receipts minus the platform fees, and its bank file is valid pain.001.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from ocpp.v16 import call as call16

from apps.billing import selectors, services
from apps.billing.bankfiles.pain001 import validate_pain001
from apps.billing.choices import DriverAccountKind, PayoutStatus, TransactionKind
from apps.billing.models import LedgerTransaction, Payout, PayoutLine, SessionCost
from apps.charging.models import ChargingSession, IdToken
from apps.stations.services import site_create, station_register
from config.celery import app as celery_app
from tests.live import ServerProcess
from tests.ocpp.clients import Connected
from tests.workers import WorkerProcess, started

from .conftest import PAYOUT_DEBTOR, RACE_SLUG
from .helpers import at

pytestmark = pytest.mark.slow
D = Decimal


@pytest.fixture
def ocpp_server(race_tenant):
    server = ServerProcess("billing-e2e").start()
    yield server
    server.stop()


@pytest.fixture
def two_workers(race_tenant, tmp_path):
    """Two worker processes; their pain.001 build is slowed (and recorded) so that the
    second payout task collides with the first one's claim."""
    celery_app.control.purge()  # nothing left over from another run on this broker database
    builds = tmp_path / "pain001-builds"
    builds.touch()
    env = {"CG_TEST_WORKER_SLOW_PAYOUT": f"0.5:{builds}"}
    same = {  # what race_tenant set in this process
        "BILLING_PAYOUT_DEBTOR": PAYOUT_DEBTOR,
        "BILLING_PLATFORM_FEE_PERCENT": "4.5",
        "BILLING_PLATFORM_FEE_FIXED": "0.05",
    }
    workers = started(
        WorkerProcess("billing-a", settings=same, env=env),
        WorkerProcess("billing-b", settings=same, env=env),
    )
    yield builds
    for worker in workers:
        worker.stop()


def ocpp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def charge(
    cp, *, connector: int, uid: str, start: datetime, minutes: int, idle: int, wh: int, meter: int
):
    """One driver's session as a 1.6 station reports it; returns the meter after it."""
    stop = start + timedelta(minutes=minutes)
    await cp.call(
        call16.StatusNotification(
            connector_id=connector,
            error_code="NoError",
            status="Preparing",
            timestamp=ocpp_time(start),
        )
    )
    authorized = await cp.call(call16.Authorize(id_tag=uid), suppress=False)
    assert authorized.id_tag_info["status"] == "Accepted", (uid, authorized)
    started = await cp.call(
        call16.StartTransaction(
            connector_id=connector, id_tag=uid, meter_start=meter, timestamp=ocpp_time(start)
        ),
        suppress=False,
    )
    await cp.call(
        call16.StatusNotification(
            connector_id=connector,
            error_code="NoError",
            status="Charging",
            timestamp=ocpp_time(start),
        )
    )
    for step in range(15, minutes, 15):
        reading = meter + wh * step // minutes
        sampled = [
            {"value": str(reading), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        ]
        await cp.call(
            call16.MeterValues(
                connector_id=connector,
                transaction_id=started.transaction_id,
                meter_value=[
                    {
                        "timestamp": ocpp_time(start + timedelta(minutes=step)),
                        "sampledValue": sampled,
                    }
                ],
            )
        )
    await cp.call(
        call16.StatusNotification(
            connector_id=connector,
            error_code="NoError",
            status="SuspendedEV",
            timestamp=ocpp_time(stop),
        )
    )
    unplugged = stop + timedelta(minutes=idle)
    await cp.call(
        call16.StopTransaction(
            meter_stop=meter + wh,
            timestamp=ocpp_time(unplugged),
            transaction_id=started.transaction_id,
        ),
        suppress=False,
    )
    await cp.call(
        call16.StatusNotification(
            connector_id=connector,
            error_code="NoError",
            status="Available",
            timestamp=ocpp_time(unplugged),
        )
    )
    return meter + wh


async def simulate_february(server, stations, uids, rng) -> int:
    async def one_station(identity: str, password: str) -> int:
        count, meter = 0, 1_000_000
        moment = at("2026-02-01 07:00") + timedelta(minutes=rng.randint(0, 600))
        async with Connected(server.ws, identity, password, "1.6") as cp:
            boot = await cp.call(
                call16.BootNotification(charge_point_vendor="ACME", charge_point_model="AC22"),
                suppress=False,
            )
            assert boot.status == "Accepted"
            while moment < at("2026-02-27 12:00"):
                minutes, idle = rng.randint(25, 240), rng.choice([0, 5, 30, 90])
                meter = await charge(
                    cp,
                    connector=1,
                    uid=rng.choice(uids),
                    start=moment,
                    minutes=minutes,
                    idle=idle,
                    wh=rng.randint(2_000, 45_000),
                    meter=meter,
                )
                count += 1
                moment += timedelta(minutes=minutes + idle + rng.randint(300, 3000))
        return count

    counts = await asyncio.gather(
        *(one_station(identity, password) for identity, password in stations)
    )
    return sum(counts)


def wait_for(predicate, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_a_month_of_ocpp_sessions_billed_by_workers_and_paid_out_once(
    race_tenant, ocpp_server, two_workers
):
    assert race_tenant.slug == RACE_SLUG
    rng = random.Random(20260201)
    services.billing_profile_update(
        payout_account_holder="Race Parking Inc.",
        payout_account_number="7654321",
        payout_clearing_system="CACPA",
        payout_clearing_member_id="081500001",
        payout_file_format="pain.001.001.03",
    )
    site = site_create(name="E2E garage", timezone="America/Montreal")
    stations = []
    for _ in range(3):
        identity, password = f"E2E-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
        station_register(identity=identity, password=password, site=site)
        stations.append((identity, password))
    tariff = services.tariff_create(
        name="Public",
        definition={
            "currency": "CAD",
            "session_fee": "0.50",
            "energy": [
                {
                    "price_per_kwh": "0.31",
                    "windows": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "start": "16:00",
                            "end": "21:00",
                        }
                    ],
                },
                {"price_per_kwh": "0.19"},
            ],
            "idle": {"price_per_hour": "6.00", "grace_minutes": 10},
        },
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"), position=1)
    services.tax_rate_set(site=site, code="QST", name="QST", rate=D("0.09975"), position=2)
    tokens = [IdToken.objects.create(uid=f"E2E-{n}") for n in range(5)]
    services.driver_group_create(name="Staff", tokens=tokens[:1])
    free = services.tariff_create(
        name="Staff", definition={"currency": "CAD"}, effective_from=at("2026-01-01 00:00")
    )
    services.tariff_assign(tariff=free, driver_group=tokens[0].billing_groups.get())
    prepaid = services.driver_account_create(
        name="Prepaid", kind=DriverAccountKind.PREPAID, tokens=tokens[1:2]
    )
    services.wallet_top_up(account=prepaid, amount=D("500.00"), reference="TRF-E2E")
    services.driver_account_create(name="Fleet", kind=DriverAccountKind.INVOICE, tokens=tokens[2:4])

    sessions = asyncio.run(simulate_february(ocpp_server, stations, [t.uid for t in tokens], rng))
    assert sessions >= 12
    wait_for(lambda: ChargingSession.objects.filter(status="completed").count() == sessions)
    wait_for(lambda: SessionCost.objects.count() == sessions)  # billed by the workers

    headers = {"_schema_name": race_tenant.schema_name}
    for _ in range(2):
        celery_app.send_task("billing.run_monthly_payout", args=["2026-02"], headers=headers)
    wait_for(lambda: Payout.objects.filter(status=PayoutStatus.READY).exists())
    time.sleep(1.5)  # let the second task finish (it waits on the claim, then returns)

    payout = Payout.objects.get()
    builds = two_workers.read_text().split()
    assert len(builds) == 1 and payout.attempts == 1
    assert LedgerTransaction.objects.filter(kind=TransactionKind.PAYOUT).count() == 1
    costs = list(SessionCost.objects.all())
    assert {c.session.status for c in costs} == {"completed"}
    receipts = sum((c.total for c in costs), D(0))
    fees = sum((c.platform_fee for c in costs), D(0))
    assert receipts > 0
    assert payout.amount == receipts - fees
    assert sum(line.amount for line in PayoutLine.objects.filter(payout=payout)) == payout.amount
    validate_pain001(payout.bank_file.encode(), "pain.001.001.03")
    staff = [c for c in costs if c.session.id_token == "E2E-0"]
    assert all(c.total == 0 and c.driver_group_name == "Staff" for c in staff)
    charged = sum((c.total for c in costs if c.driver_account_id == prepaid.pk), D(0))
    assert selectors.driver_balance(prepaid) == D("500.00") - charged
    assert selectors.ledger_total() == 0
    connection.set_tenant(race_tenant)
