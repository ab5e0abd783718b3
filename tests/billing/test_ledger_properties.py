"""The ledger never loses a cent: random sequences of sessions, refunds, top-ups and payouts
keep every transaction and the whole ledger balanced, and every party's balance equal to
what happened to it (hypothesis, on the real database)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.billing import selectors, services
from apps.billing.choices import DriverAccountKind
from apps.billing.models import LedgerEntry, SessionCost
from apps.billing.services.sessions import refunded_amount

from .conftest import record_session
from .helpers import at

D = Decimal

session_op = st.tuples(
    st.just("session"),
    st.integers(0, 80_000),  # Wh
    st.integers(1, 480),  # minutes charging
    st.sampled_from([0, 5, 20, 90]),  # minutes idle
    st.sampled_from([None, 0, 1]),  # paying account (None: unassigned)
)
refund_op = st.tuples(
    st.just("refund"), st.integers(0, 30), st.sampled_from([None, "0.5", "0.1", "0.99"])
)
top_up_op = st.tuples(st.just("top_up"), st.integers(0, 1), st.integers(1, 20_000))
payout_op = st.tuples(st.just("payout"))
operations = st.lists(
    st.one_of(session_op, session_op, refund_op, top_up_op, payout_op), min_size=1, max_size=14
)


@pytest.fixture
def world(site, station, make_token, settings):
    settings.BILLING_PLATFORM_FEE_PERCENT = "7.5"
    settings.BILLING_PLATFORM_FEE_FIXED = "0.15"
    tariff = services.tariff_create(
        name="Everything",
        definition={
            "currency": "CAD",
            "session_fee": "0.99",
            "energy": [
                {"price_per_kwh": "0.3333", "windows": [{"start": "16:00", "end": "21:00"}]},
                {"price_per_kwh": "0.1999"},
            ],
            "time": [{"price_per_hour": "2.50", "from_minutes": 120}],
            "time_step_seconds": 900,
            "idle": {"price_per_hour": "7.77", "grace_minutes": 10},
            "min_price": "1.50",
            "max_price": "60.00",
        },
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"), position=1)
    services.tax_rate_set(site=site, code="QST", name="QST", rate=D("0.09975"), position=2)
    accounts = [
        services.driver_account_create(
            name="Prepaid", kind=DriverAccountKind.PREPAID, tokens=[make_token()]
        ),
        services.driver_account_create(
            name="Invoice", kind=DriverAccountKind.INVOICE, tokens=[make_token()]
        ),
    ]
    return station, accounts


def assert_balanced() -> None:
    assert selectors.ledger_total() == 0
    unbalanced = (
        LedgerEntry.objects.values("transaction_id").annotate(total=Sum("amount")).exclude(total=0)
    )
    assert not unbalanced.exists()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_the_ledger_always_balances(world, ops):
    station, accounts = world
    with transaction.atomic():
        costs: list[SessionCost] = []
        top_ups = {account.pk: D(0) for account in accounts}
        moment = at("2026-02-02 06:00")
        for op in ops:
            kind = op[0]
            if kind == "session":
                _, energy, minutes, idle, payer = op
                token = accounts[payer].token_links.get().token if payer is not None else None
                charging_end = moment + timedelta(minutes=minutes)
                session = record_session(
                    station,
                    start=moment,
                    end=charging_end + timedelta(minutes=idle),
                    charging_until=charging_end,
                    energy_wh=energy,
                    token=token,
                )
                costs.append(services.session_bill(session_id=session.pk))
                moment += timedelta(minutes=minutes + idle + 7)
            elif kind == "refund" and costs:
                _, index, share = op
                cost = costs[index % len(costs)]
                left = cost.total - refunded_amount(cost)
                amount = (
                    None if share is None else (left * D(share)).quantize(D("0.01"), ROUND_DOWN)
                )
                if left > 0 and (amount is None or amount > 0):
                    services.session_refund(
                        cost=cost, amount=amount, reason="property", actor="test"
                    )
            elif kind == "top_up":
                _, index, cents = op
                amount = D(cents).scaleb(-2)
                services.wallet_top_up(account=accounts[index], amount=amount)
                top_ups[accounts[index].pk] += amount
            elif kind == "payout":
                services.payout_run(period_start=date(2026, 2, 1), now=at("2026-03-01 09:00"))
            assert_balanced()

        # Every party's balance is exactly what happened to it.
        for account in accounts:
            charged = sum(
                (c.total - refunded_amount(c) for c in costs if c.driver_account_id == account.pk),
                D(0),
            )
            assert selectors.driver_balance(account) == top_ups[account.pk] - charged
        net_sales = sum((c.total - refunded_amount(c) for c in costs), D(0))
        owner_side = -sum(
            (
                selectors.account_balance(code)
                for code in ("tenant:revenue", "tax:GST", "tax:QST", "payouts:due")
            ),
            D(0),
        )
        fees = -selectors.account_balance("platform:fees")
        assert owner_side + fees == net_sales
        assert fees >= 0 and all(c.platform_fee <= c.total_excl_tax for c in costs)
        transaction.set_rollback(True)
