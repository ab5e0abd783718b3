"""Billing benchmark: sessions costed per second, next to a plain Decimal sum of the same
sessions in the same run, then priced end to end in the database, then a payout run.

1. Pure engine: ``compute_cost`` on generated sessions (2-10 h, meter readings every 15
   minutes, some on DST days, Montreal time) with a tariff that uses every model (time-of-use
   energy, tiered time with a 15-minute step, idle fee with grace, session fee, min/max caps)
   and two taxes.  Baseline: the same sessions priced as ``sum(Wh) * price`` in Decimal.
2. Database: ``session_bill`` (timeline from meter values, tariff choice, receipt, ledger
   posting, gap-free receipt number) on recorded sessions.
3. Payouts: tenants each with ``--tenant-sessions`` posted sessions (posted in bulk, only the
   payout is timed); one worker runs every tenant's payout in turn, as ``core.fan_out`` would
   queue them.  The time per tenant is projected to 1,000 tenants.

    .venv/bin/python bench/billing_costing.py --sessions 5000 --tenants 10 --tenant-sessions 1000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from _common import setup_django

D = Decimal
TARIFF = {
    "currency": "CAD",
    "session_fee": "0.75",
    "energy": [
        {
            "price_per_kwh": "0.32",
            "label": "peak",
            "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "16:00", "end": "21:00"}
            ],
        },
        {"price_per_kwh": "0.21"},
    ],
    "time": [{"price_per_hour": "2.00", "from_minutes": 240}],
    "time_step_seconds": 900,
    "idle": {"price_per_hour": "9.00", "grace_minutes": 10, "max_amount": "30.00"},
    "min_price": "1.50",
    "max_price": "45.00",
}


def generate_timelines(count: int, seed: int = 7):
    from apps.billing.engine import MeterInterval, SessionTimeline

    rng = random.Random(seed)
    days = [datetime(2026, 3, 8, 4, tzinfo=UTC), datetime(2026, 11, 1, 4, tzinfo=UTC)]
    days += [datetime(2026, 2, 1, 4, tzinfo=UTC) + timedelta(days=n) for n in range(60)]
    timelines = []
    for _ in range(count):
        start = rng.choice(days) + timedelta(minutes=rng.randint(0, 24 * 60))
        charging = timedelta(minutes=rng.randint(30, 600))
        idle = timedelta(minutes=rng.choice([0, 5, 20, 90, 300]))
        intervals, cursor = [], start
        while cursor < start + charging:
            following = min(cursor + timedelta(minutes=15), start + charging)
            intervals.append(MeterInterval(cursor, following, rng.randint(0, 2_500)))
            cursor = following
        timelines.append(
            SessionTimeline(
                started_at=start,
                ended_at=start + charging + idle,
                timezone="America/Montreal",
                intervals=tuple(intervals),
                charging_ended_at=start + charging,
            )
        )
    return timelines


def bench_engine(count: int) -> None:
    from apps.billing.engine import Tariff, TaxPolicy, TaxRate, compute_cost
    from apps.billing.money import round_money

    tariff = Tariff.from_dict(TARIFF)
    taxes = TaxPolicy((TaxRate("GST", "GST", D("0.05")), TaxRate("QST", "QST", D("0.09975"))))
    timelines = generate_timelines(count)
    intervals = sum(len(t.intervals) for t in timelines)

    started = time.perf_counter()
    baseline_total = D(0)
    price = D("0.21")
    for timeline in timelines:
        energy = sum(D(i.energy_wh) for i in timeline.intervals)
        baseline_total += (energy * price / 1000).quantize(D("0.01"))
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    engine_total = D(0)
    for timeline in timelines:
        engine_total += compute_cost(tariff, timeline, taxes).total
    engine = time.perf_counter() - started

    started = time.perf_counter()
    exact_total = D(0)
    for timeline in timelines:
        exact_total += round_money(
            Fraction(sum(i.energy_wh for i in timeline.intervals)) * Fraction(price) / 1000, "CAD"
        )
    exact = time.perf_counter() - started

    print(f"sessions: {count}, meter intervals: {intervals} ({intervals / count:.1f} per session)")
    print(f"baseline Decimal sum x price:    {count / baseline:>10,.0f} sessions/s")
    print(f"baseline with exact rounding:    {count / exact:>10,.0f} sessions/s")
    print(
        f"cost engine (all models, taxes): {count / engine:>10,.0f} sessions/s "
        f"({engine / count * 1e6:.0f} µs per session, {engine / baseline:.0f}x the Decimal sum)"
    )


def bench_database(sessions: int, tenants: int, tenant_sessions: int) -> None:
    setup_django("chargegrid_bench_billing")
    from django.db import connection, transaction
    from django.test import override_settings
    from django_tenants.utils import tenant_context

    from apps.billing import services
    from apps.billing.choices import TransactionKind
    from apps.billing.models import LedgerEntry, LedgerTransaction
    from apps.billing.services.ledger import (
        PLATFORM_FEES,
        TENANT_REVENUE,
        UNASSIGNED_RECEIVABLE,
        ledger_account,
    )
    from apps.stations.services import site_create, station_register
    from apps.tenants.models import Tenant
    from apps.tenants.services import template_ensure, tenant_create
    from tests.billing.conftest import PAYOUT_DEBTOR, record_session

    template_ensure()
    run = uuid.uuid4().hex[:6]
    created: list[Tenant] = []
    try:
        with override_settings(
            BILLING_PAYOUT_DEBTOR=PAYOUT_DEBTOR,
            BILLING_PLATFORM_FEE_PERCENT="5",
            BILLING_PLATFORM_FEE_FIXED="0.10",
        ):
            # --- session_bill end to end ---
            tenant = tenant_create(
                name=f"Bench billing {run}",
                slug=f"bb{run}",
                admin_email="a@bench.test",
                admin_password=None,
                timezone="America/Montreal",
            )
            created.append(tenant)
            with tenant_context(tenant):
                site = site_create(name="Bench site", timezone="America/Montreal")
                station = station_register(identity=f"BB-{run}", password=None, site=site)
                tariff = services.tariff_create(
                    name="Bench", definition=TARIFF, effective_from=datetime(2026, 1, 1, tzinfo=UTC)
                )
                services.tariff_assign(tariff=tariff, site=site)
                services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"))
                rng = random.Random(3)
                ids, moment = [], datetime(2026, 2, 1, 5, tzinfo=UTC)
                for _ in range(sessions):
                    charging = timedelta(minutes=rng.randint(30, 300))
                    session = record_session(
                        station,
                        start=moment,
                        end=moment + charging + timedelta(minutes=20),
                        charging_until=moment + charging,
                        energy_wh=rng.randint(1_000, 40_000),
                    )
                    ids.append(session.pk)
                    moment += charging + timedelta(minutes=45)
                started = time.perf_counter()
                for pk in ids:
                    services.session_bill(session_id=pk)
                elapsed = time.perf_counter() - started
                print(
                    f"session_bill in PostgreSQL:      {sessions / elapsed:>10,.0f} sessions/s "
                    f"({elapsed / sessions * 1000:.1f} ms each: timeline, tariff, receipt, ledger)"
                )

            # --- payouts ---
            started = time.perf_counter()
            for n in range(tenants):
                tenant = tenant_create(
                    name=f"Bench payout {run} {n}",
                    slug=f"bp{run}-{n}",
                    admin_email=f"a{n}@bench.test",
                    admin_password=None,
                    timezone="America/Montreal",
                )
                created.append(tenant)
                with tenant_context(tenant):
                    services.billing_profile_update(
                        payout_account_holder=f"Owner {n}",
                        payout_account_number="7654321",
                        payout_clearing_system="CACPA",
                        payout_clearing_member_id="081500001",
                    )
                    payer, revenue, fees = (
                        ledger_account(c)
                        for c in (UNASSIGNED_RECEIVABLE, TENANT_REVENUE, PLATFORM_FEES)
                    )
                    tax = ledger_account("tax:GST")
                    with transaction.atomic():
                        txs = LedgerTransaction.objects.bulk_create(
                            LedgerTransaction(
                                kind=TransactionKind.SESSION_CHARGE,
                                idempotency_key=f"bench:{i}",
                                currency="CAD",
                                effective_at=datetime(2026, 2, 1, 6, tzinfo=UTC)
                                + timedelta(minutes=40 * i),
                            )
                            for i in range(tenant_sessions)
                        )
                        entries = []
                        for i, tx in enumerate(txs):
                            net = D(300 + i % 1700).scaleb(-2)
                            fee, gst = (
                                (net * D("0.05")).quantize(D("0.01")),
                                (net * D("0.05")).quantize(D("0.01")),
                            )
                            entries += [
                                LedgerEntry(
                                    transaction=tx, account=payer, amount=net + gst, currency="CAD"
                                ),
                                LedgerEntry(
                                    transaction=tx,
                                    account=revenue,
                                    amount=-(net - fee),
                                    currency="CAD",
                                ),
                                LedgerEntry(
                                    transaction=tx, account=fees, amount=-fee, currency="CAD"
                                ),
                                LedgerEntry(
                                    transaction=tx, account=tax, amount=-gst, currency="CAD"
                                ),
                            ]
                        LedgerEntry.objects.bulk_create(entries, batch_size=5000)
            print(
                f"set-up: {tenants} tenants x {tenant_sessions} posted sessions in {time.perf_counter() - started:.1f} s"
            )

            from apps.billing.bankfiles.pain001 import _schema

            started = time.perf_counter()
            _schema("pain.001.001.09")  # compiled once per worker process
            print(f"pain.001 XSD compiled once per worker in {time.perf_counter() - started:.2f} s")
            times = []
            amounts = D(0)
            for tenant in created[1:]:
                started = time.perf_counter()
                with tenant_context(tenant):
                    payout = services.payout_run(period_start=date(2026, 2, 1))
                times.append(time.perf_counter() - started)
                amounts += payout.amount
                assert payout.status == "ready", payout.status
            again = []
            for tenant in created[1:]:
                started = time.perf_counter()
                with tenant_context(tenant):
                    services.payout_run(period_start=date(2026, 2, 1))
                again.append(time.perf_counter() - started)
            total = sum(times)
            per_tenant = statistics.mean(times)
            print(
                f"payout run, {tenants} tenants x {tenant_sessions} sessions: {total:.2f} s "
                f"(per tenant: p50 {statistics.median(times) * 1000:.0f} ms, "
                f"mean {per_tenant * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; "
                f"statement, ledger posting, pain.001 built and XSD-validated), paid {amounts} CAD"
            )
            print(
                f"projected 1,000 tenants x {tenant_sessions} sessions: {per_tenant * 1000:.0f} s on one "
                f"worker, {per_tenant * 1000 / 8:.0f} s on 8"
            )
            print(
                f"re-run (already built, idempotent no-op): mean {statistics.mean(again) * 1000:.1f} ms per tenant"
            )
    finally:
        connection.set_schema_to_public()
        for tenant in created:
            tenant.delete(force_drop=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=5000, help="sessions for the pure engine")
    parser.add_argument(
        "--db-sessions", type=int, default=300, help="sessions billed in PostgreSQL"
    )
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--tenant-sessions", type=int, default=1000)
    parser.add_argument("--engine-only", action="store_true")
    arguments = parser.parse_args()
    bench_engine(arguments.sessions)  # pure: no database, no Django set-up needed
    if not arguments.engine_only:
        bench_database(arguments.db_sessions, arguments.tenants, arguments.tenant_sessions)
