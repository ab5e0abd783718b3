"""Real concurrency on real PostgreSQL: two workers at once, each on its own connection.

These tests commit (``transactional_db``), so they run in a tenant of their own
(``race_tenant`` in conftest.py).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from apps.billing import selectors, services, tasks
from apps.billing.bankfiles.pain001 import validate_pain001
from apps.billing.choices import DriverAccountKind, PayoutStatus, TransactionKind
from apps.billing.models import LedgerTransaction, Payout, PayoutLine, SessionCost
from apps.core import events
from apps.stations.services import site_create, station_register
from tests.queued import record_tasks

from .conftest import record_session
from .helpers import at


def run_together(tenant, *jobs: Callable[[], object]) -> list[object]:
    """Run ``jobs`` at the same instant, each in its own thread and database connection."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def worker(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def celery_run(task, tenant, *args):
    """Run a task the way a worker does: through Celery, with the tenant in the headers."""
    return lambda: task.apply(args=args, headers={"_schema_name": tenant.schema_name}).get()


def test_two_workers_bill_the_same_session_once(race_tenant):
    site = site_create(name="Race site", timezone="America/Montreal")
    station = station_register(identity=f"RACE-{uuid.uuid4().hex[:8]}", password=None, site=site)
    tariff = services.tariff_create(
        name="Public",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    session = record_session(
        station, start=at("2026-02-03 10:00"), end=at("2026-02-03 11:00"), energy_wh=7_000
    )

    results = run_together(
        race_tenant,
        celery_run(tasks.bill_session, race_tenant, session.pk),
        celery_run(tasks.bill_session, race_tenant, session.pk),
    )
    assert results[0] == results[1] is not None
    assert SessionCost.objects.filter(session=session).count() == 1
    assert LedgerTransaction.objects.filter(session=session).count() == 1


def test_a_simulated_month_and_two_payout_workers_at_once(race_tenant, monkeypatch):
    """Drivers charge all February; each session end is an event that bills it through Celery;
    then two workers run the February payout at the same moment.  Exactly one payout exists,
    its amount is the receipts minus the platform fees, and its bank file is valid."""
    rng = random.Random(2026)
    services.billing_profile_update(
        payout_account_holder="Race Parking Inc.",
        payout_account_number="7654321",
        payout_clearing_system="CACPA",
        payout_clearing_member_id="081500001",
    )
    sites = [site_create(name=f"Race site {n}", timezone="America/Montreal") for n in range(2)]
    stations = [
        station_register(identity=f"RACE-{uuid.uuid4().hex[:8]}", password=None, site=sites[n % 2])
        for n in range(4)
    ]
    public = services.tariff_create(
        name="Public",
        definition={
            "currency": "CAD",
            "session_fee": "0.75",
            "energy": [
                {
                    "price_per_kwh": "0.32",
                    "windows": [
                        {
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "start": "16:00",
                            "end": "21:00",
                        }
                    ],
                },
                {"price_per_kwh": "0.21"},
            ],
            "idle": {"price_per_hour": "9.00", "grace_minutes": 10},
            "max_price": "45.00",
        },
        effective_from=at("2026-01-01 00:00"),
    )
    staff_free = services.tariff_create(
        name="Staff", definition={"currency": "CAD"}, effective_from=at("2026-01-01 00:00")
    )
    for site in sites:
        services.tariff_assign(tariff=public, site=site)
        services.tax_rate_set(site=site, code="GST", name="GST", rate=Decimal("0.05"), position=1)
        services.tax_rate_set(
            site=site, code="QST", name="QST", rate=Decimal("0.09975"), position=2
        )
    from apps.charging.models import IdToken

    tokens = [IdToken.objects.create(uid=f"RACE-{n}") for n in range(6)]
    staff = services.driver_group_create(name="Staff", tokens=tokens[:1])
    services.tariff_assign(tariff=staff_free, driver_group=staff)
    prepaid = services.driver_account_create(
        name="Prepaid", kind=DriverAccountKind.PREPAID, tokens=tokens[1:3]
    )
    services.wallet_top_up(account=prepaid, amount=Decimal("200.00"), reference="TRF-1")
    services.driver_account_create(name="Fleet", kind=DriverAccountKind.INVOICE, tokens=tokens[3:5])
    # tokens[5] has no account: its sessions sit on the unassigned receivable.

    queued: list[int] = []
    record_tasks(
        monkeypatch,
        "billing.bill_session",
        lambda session_id: (
            queued.append(session_id),
            celery_run(tasks.bill_session, race_tenant, session_id)(),
        ),
    )
    sessions = []
    day = at("2026-01-31 20:00")
    while day < at("2026-02-28 20:00"):
        day += timedelta(hours=rng.randint(2, 14), minutes=rng.randint(0, 59))
        station = rng.choice(stations)
        token = rng.choice(tokens)
        charging = timedelta(minutes=rng.randint(20, 300))
        idle = timedelta(minutes=rng.choice([0, 5, 30, 120]))
        session = record_session(
            station,
            start=day,
            end=day + charging + idle,
            charging_until=day + charging,
            energy_wh=rng.randint(500, 60_000),
            token=token,
        )
        events.emit(events.SESSION_ENDED, session_id=session.pk, station_id=station.pk, evse_id=1)
        sessions.append(session)
    assert queued == [s.pk for s in sessions]  # every session end was billed through Celery

    from apps.billing.services import payouts

    real_build = payouts.build_pain001

    builds = []

    def slow_build(**kwargs):  # hold the claim long enough for the other worker to collide
        builds.append(kwargs["message_id"])
        time.sleep(0.5)
        return real_build(**kwargs)

    monkeypatch.setattr(payouts, "build_pain001", slow_build)
    statuses = run_together(
        race_tenant,
        celery_run(tasks.run_monthly_payout, race_tenant, "2026-02"),
        celery_run(tasks.run_monthly_payout, race_tenant, "2026-02"),
    )

    assert statuses == [PayoutStatus.READY, PayoutStatus.READY]
    assert len(builds) == 1  # the second worker waited on the claim, then found it done
    payout = Payout.objects.get()
    assert payout.attempts == 1 and payout.status == PayoutStatus.READY
    assert LedgerTransaction.objects.filter(kind=TransactionKind.PAYOUT).count() == 1
    february = SessionCost.objects.filter(
        session__ended_at__gte=at("2026-02-01 00:00"), session__ended_at__lt=at("2026-03-01 00:00")
    )
    receipts = sum((c.total for c in february), Decimal(0))
    fees = sum((c.platform_fee for c in february), Decimal(0))
    assert receipts > 0 and payout.amount == receipts - fees
    assert sum(line.amount for line in PayoutLine.objects.filter(payout=payout)) == payout.amount
    validate_pain001(payout.bank_file.encode(), payout.bank_file_format)
    assert f">{payout.amount.quantize(Decimal('0.01'))}</InstdAmt>" in payout.bank_file
    assert selectors.ledger_total() == 0
    assert payout.period_start == date(2026, 2, 1)
