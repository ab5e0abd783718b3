"""Monthly payouts: what is paid, the statement, the bank file, and every way it could go
wrong (a retry, a crash half way, late postings, refunds, a returned transfer)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.billing import selectors, services
from apps.billing.bankfiles.pain001 import validate_pain001
from apps.billing.choices import PayoutLineKind, PayoutStatus, TransactionKind
from apps.billing.models import LedgerTransaction, Payout, PayoutLine, SessionCost

from .conftest import record_session
from .helpers import at

D = Decimal
FEBRUARY = date(2026, 2, 1)
AFTER_FEBRUARY = at("2026-03-01 09:00")


@pytest.fixture
def billed_site(site, station, platform_fee):
    tariff = services.tariff_create(
        name="Public",
        definition={
            "currency": "CAD",
            "session_fee": "0.50",
            "energy": [{"price_per_kwh": "0.25"}],
        },
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"))
    return station


@pytest.fixture
def bank_details(alpha, payout_debtor):
    return services.billing_profile_update(
        payout_account_holder="Garage Alpha Inc.",
        payout_account_number="7654321",
        payout_clearing_system="CACPA",
        payout_clearing_member_id="081500001",
        payout_country="CA",
    )


def bill(station, start: str, end: str, energy_wh: int) -> SessionCost:
    session = record_session(station, start=at(start), end=at(end), energy_wh=energy_wh)
    return services.session_bill(session_id=session.pk)


def lines_of(payout: Payout) -> list[tuple[str, str, Decimal]]:
    return [
        (line.kind, line.description, line.amount) for line in payout.lines.order_by("position")
    ]


def test_a_month_is_paid_out_net_of_fees_with_a_valid_bank_file(billed_site, bank_details):
    costs = [
        bill(billed_site, "2026-02-03 10:00", "2026-02-03 11:00", 10_000),
        bill(billed_site, "2026-02-14 20:00", "2026-02-14 22:30", 18_345),
        bill(billed_site, "2026-02-28 23:00", "2026-02-28 23:50", 4_000),  # ends Feb 28 local
    ]
    march = bill(billed_site, "2026-03-01 00:10", "2026-03-01 01:00", 5_000)  # not in this payout

    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)

    receipts = sum(c.total for c in costs)
    fees = sum(c.platform_fee for c in costs)
    assert payout.status == PayoutStatus.READY
    assert payout.amount == receipts - fees
    assert sum(line.amount for line in payout.lines.all()) == payout.amount
    taxes = sum(c.tax_total for c in costs)
    assert lines_of(payout) == [
        ("sessions", "Charging sessions, net of platform fees", receipts - fees - taxes),
        ("taxes", "Tax collected: GST", taxes),
    ]
    validate_pain001(payout.bank_file.encode(), payout.bank_file_format)
    assert f'<InstdAmt Ccy="CAD">{payout.amount}</InstdAmt>' in payout.bank_file
    assert "<MmbId>081500001</MmbId>" in payout.bank_file
    assert payout.creditor_account == "…4321"
    # All that is left owed to the owner is March's; payouts:due holds the transfer.
    assert selectors.account_balance("tenant:revenue") == -(
        march.total_excl_tax - march.platform_fee
    )
    assert selectors.account_balance("payouts:due") == -payout.amount
    assert selectors.ledger_total() == 0


def test_running_again_changes_nothing(billed_site, bank_details):
    bill(billed_site, "2026-02-03 10:00", "2026-02-03 11:00", 10_000)
    first = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    again = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert again.pk == first.pk and again.amount == first.amount and again.attempts == 1
    assert Payout.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind=TransactionKind.PAYOUT).count() == 1
    assert PayoutLine.objects.filter(payout=first).count() == 2


def test_a_crash_half_way_leaves_nothing_and_the_next_run_builds_it(
    billed_site, bank_details, monkeypatch
):
    from apps.billing.services import payouts

    bill(billed_site, "2026-02-03 10:00", "2026-02-03 11:00", 10_000)
    real = payouts.build_pain001

    def crash(**kwargs):
        raise ConnectionResetError("worker killed while writing the bank file")

    monkeypatch.setattr(payouts, "build_pain001", crash)
    with pytest.raises(ConnectionResetError):
        services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PENDING and payout.attempts == 0
    assert not PayoutLine.objects.exists()
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.PAYOUT).exists()

    monkeypatch.setattr(payouts, "build_pain001", real)
    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert payout.status == PayoutStatus.READY and payout.amount > 0
    assert LedgerTransaction.objects.filter(kind=TransactionKind.PAYOUT).count() == 1


def test_late_postings_and_refunds_land_in_the_next_payout(billed_site, bank_details, clock):
    early = bill(billed_site, "2026-02-03 10:00", "2026-02-03 11:00", 10_000)
    february = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    # A February session whose billing task ran only after the February payout...
    late = bill(billed_site, "2026-02-27 10:00", "2026-02-27 11:00", 8_000)
    # ...and a refund in March of a February session.
    clock(at("2026-03-05 12:00"))
    refund = services.session_refund(cost=early, amount=D("1.00"), reason="goodwill", actor="x")
    march_session = bill(billed_site, "2026-03-10 10:00", "2026-03-10 11:00", 6_000)

    march = services.payout_run(period_start=date(2026, 3, 1), now=at("2026-04-01 09:00"))

    refunded_to_owner = sum(
        e.amount for e in refund.entries.all() if e.account.code in ("tenant:revenue", "tax:GST")
    )
    expected = (
        (late.total - late.platform_fee)
        + (march_session.total - march_session.platform_fee)
        - refunded_to_owner
    )
    assert march.amount == expected
    kinds = [kind for kind, _, _ in lines_of(march)]
    assert kinds == ["carried_over", "sessions", "taxes", "refunds"]
    assert lines_of(march)[0][2] == late.total - late.platform_fee
    total_paid = february.amount + march.amount
    all_costs = [early, late, march_session]
    assert total_paid == sum(c.total - c.platform_fee for c in all_costs) - refunded_to_owner


def test_a_month_with_more_refunds_than_sales_pays_nothing_and_carries_over(
    billed_site, bank_details, clock
):
    cost = bill(billed_site, "2026-01-20 10:00", "2026-01-20 12:00", 20_000)
    services.payout_run(period_start=date(2026, 1, 1), now=at("2026-02-01 09:00"))
    clock(at("2026-02-10 12:00"))
    services.session_refund(cost=cost, reason="charger fault", actor="x")
    february = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert february.status == PayoutStatus.NOTHING_TO_PAY and february.amount == 0
    assert sum(line.amount for line in february.lines.all()) < 0
    small = bill(billed_site, "2026-03-05 10:00", "2026-03-05 10:30", 1_000)
    march = services.payout_run(period_start=date(2026, 3, 1), now=at("2026-04-01 09:00"))
    assert march.status == PayoutStatus.NOTHING_TO_PAY  # the debt is larger than March's sales
    debt = sum(line.amount for line in february.lines.all())
    assert sum(line.amount for line in march.lines.all()) == debt + small.total - small.platform_fee


def test_without_bank_details_the_payout_waits_then_gets_its_file(billed_site, payout_debtor):
    bill(billed_site, "2026-02-03 10:00", "2026-02-03 11:00", 10_000)
    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert payout.status == PayoutStatus.NEEDS_BANK_DETAILS and not payout.bank_file
    assert LedgerTransaction.objects.filter(kind=TransactionKind.PAYOUT).count() == 1
    services.billing_profile_update(
        payout_account_holder="Garage Alpha Inc.",
        payout_iban="FR7630006000011234567890189",
        payout_bic="AGRIFRPP",
        payout_file_format="pain.001.001.03",
    )
    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    assert payout.status == PayoutStatus.READY
    validate_pain001(payout.bank_file.encode(), "pain.001.001.03")
    assert "<IBAN>FR7630006000011234567890189</IBAN>" in payout.bank_file
    # Built from the stored row (4 decimals in the database): the file still says cents.
    assert f'Ccy="CAD">{payout.amount.quantize(D("0.01"))}</InstdAmt>' in payout.bank_file
    assert LedgerTransaction.objects.filter(kind=TransactionKind.PAYOUT).count() == 1


def test_paid_then_returned_by_the_bank_is_owed_again(billed_site, bank_details, clock):
    bill(billed_site, "2026-02-03 10:00", "2026-02-03 11:00", 10_000)
    payout = services.payout_run(period_start=FEBRUARY, now=AFTER_FEBRUARY)
    payout = services.payout_mark_sent(payout=payout)
    payout = services.payout_mark_paid(payout=payout)
    assert payout.status == PayoutStatus.PAID
    assert selectors.account_balance("payouts:due") == 0
    assert selectors.account_balance("cash:bank") == -payout.amount
    services.payout_mark_paid(payout=payout)  # a second confirmation posts nothing
    assert selectors.account_balance("cash:bank") == -payout.amount

    clock(at("2026-03-12 12:00"))
    returned = services.payout_mark_returned(payout=payout, reason="account closed", actor="ops")
    assert returned.status == PayoutStatus.RETURNED
    assert selectors.account_balance("cash:bank") == 0
    march = services.payout_run(period_start=date(2026, 3, 1), now=at("2026-04-01 09:00"))
    assert march.amount == payout.amount
    assert [kind for kind, _, _ in lines_of(march)] == [PayoutLineKind.RETURNED]
    assert selectors.ledger_total() == 0


def test_a_month_that_has_not_ended_is_refused(billed_site):
    with pytest.raises(ValueError, match="not ended"):
        services.payout_run(period_start=FEBRUARY, now=at("2026-02-28 23:59"))


def test_the_scheduled_task_pays_the_last_month_on_the_tenants_clock(billed_site, bank_details):
    from apps.billing.services.payouts import last_completed_month

    bill(billed_site, "2026-02-03 10:00", "2026-02-03 11:00", 10_000)
    # 03:00 UTC on March 1st is still February 28th in Montreal.
    assert last_completed_month(at("2026-02-28 22:00")) == date(2026, 1, 1)
    assert last_completed_month(at("2026-03-01 00:30")) == FEBRUARY
    payout = services.payout_run_due(now=at("2026-03-01 00:30"))
    assert payout.period_start == FEBRUARY and payout.status == PayoutStatus.READY


def test_tasks_refuse_to_run_in_the_public_schema(alpha):
    from django.db import connection

    from apps.billing import tasks

    connection.set_schema_to_public()
    try:
        assert tasks.run_monthly_payout.run() is None
        assert tasks.bill_session.run(1) is None
    finally:
        connection.set_tenant(alpha)
