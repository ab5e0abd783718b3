"""Pricing finished sessions: the receipt, the ledger posting, exactly once; refunds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from apps.billing import selectors, services
from apps.billing.choices import DriverAccountKind, TransactionKind
from apps.billing.models import LedgerEntry, LedgerTransaction, ReceiptLine, SessionCost
from apps.billing.services.sessions import BillingError, receipt_total_check
from apps.charging.choices import SessionStatus
from tests.queued import record_tasks

from .conftest import record_session
from .helpers import at

D = Decimal
PEAK_TARIFF = {
    "currency": "CAD",
    "session_fee": "1.00",
    "energy": [
        {
            "price_per_kwh": "0.30",
            "label": "peak",
            "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "16:00", "end": "21:00"}
            ],
        },
        {"price_per_kwh": "0.20"},
    ],
    "idle": {"price_per_hour": "12.00", "grace_minutes": 15},
}


def balances() -> dict[str, Decimal]:
    return {account.code: total for account, total in selectors.trial_balance() if total}


@pytest.fixture
def priced_site(site, station, platform_fee):
    tariff = services.tariff_create(
        name="Public", definition=PEAK_TARIFF, effective_from=at("2026-01-01 00:00")
    )
    services.tariff_assign(tariff=tariff, site=site)
    services.tax_rate_set(site=site, code="GST", name="GST", rate=D("0.05"), position=1)
    services.tax_rate_set(site=site, code="QST", name="QST", rate=D("0.09975"), position=2)
    return tariff


def test_a_finished_session_gets_a_receipt_and_a_balanced_posting(priced_site, station, make_token):
    driver = services.driver_account_create(name="Ada", tokens=[make_token("ADA")])
    # Monday 15:00-18:40 Montreal; charging ends 18:00; 21.6 kWh; samples every 15 minutes.
    session = record_session(
        station,
        start=at("2026-03-02 15:00"),
        end=at("2026-03-02 18:40"),
        charging_until=at("2026-03-02 18:00"),
        energy_wh=21_600,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)

    lines = [(line.kind, line.quantity, line.amount) for line in cost.lines.order_by("position")]
    assert lines == [
        ("session_fee", 1, D("1.00")),
        ("energy", 14_400, D("4.32")),  # 16:00-18:00 peak
        ("energy", 7_200, D("1.44")),  # 15:00-16:00
        ("idle", 1_500, D("5.00")),  # 18:15-18:40
        ("tax", 1, D("0.59")),  # GST on 11.76 = 0.588
        ("tax", 1, D("1.17")),  # QST on 11.76 = 1.173...
    ]
    assert (cost.subtotal, cost.tax_total, cost.total) == (D("11.76"), D("1.76"), D("13.52"))
    assert cost.platform_fee == D("0.69")  # 5 % of 11.76 = 0.588 -> 0.59, + 0.10
    assert cost.receipt_number.startswith("R-") and cost.tariff_name == "Public"
    assert receipt_total_check(cost)

    posting = LedgerTransaction.objects.get(session_cost=cost)
    entries = {e.account.code: e.amount for e in posting.entries.all()}
    assert entries == {
        driver.ledger_code: D("13.52"),
        "tenant:revenue": D("-11.07"),
        "platform:fees": D("-0.69"),
        "tax:GST": D("-0.59"),
        "tax:QST": D("-1.17"),
    }
    assert sum(entries.values()) == 0
    assert selectors.driver_balance(driver) == D("-13.52")  # owes it until it tops up


def test_billing_twice_bills_once(priced_site, station):
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=7_000
    )
    first = services.session_bill(session_id=session.pk)
    again = services.session_bill(session_id=session.pk)
    assert first.pk == again.pk
    assert SessionCost.objects.filter(session=session).count() == 1
    assert LedgerTransaction.objects.filter(session=session).count() == 1
    # Without a paying account the charge sits on the unassigned receivable.
    assert balances()["receivable:unassigned"] == first.total


def test_a_running_session_is_not_billed(priced_site, station):
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=1
    )
    session.status, session.ended_at = SessionStatus.ACTIVE, None
    session.save()
    assert services.session_bill(session_id=session.pk) is None
    assert not SessionCost.objects.exists()


def test_no_tariff_means_free_and_nothing_to_post(site, station):
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=5_000
    )
    cost = services.session_bill(session_id=session.pk)
    assert cost.total == 0 and [line.kind for line in cost.lines.all()] == ["free"]
    assert not LedgerTransaction.objects.exists()


def test_driver_group_tariff_beats_the_public_price(priced_site, site, station, make_token):
    employee = make_token("EMP-1")
    group = services.driver_group_create(name="Employees", tokens=[employee])
    free = services.tariff_create(
        name="Staff", definition={"currency": "CAD"}, effective_from=at("2026-01-01 00:00")
    )
    services.tariff_assign(tariff=free, driver_group=group)  # tenant-wide
    staff = record_session(
        station,
        start=at("2026-03-02 17:00"),
        end=at("2026-03-02 18:00"),
        energy_wh=7_000,
        token=employee,
    )
    public = record_session(
        station,
        start=at("2026-03-02 19:00"),
        end=at("2026-03-02 20:00"),
        energy_wh=7_000,
        token=make_token(),
    )
    assert services.session_bill(session_id=staff.pk).total == 0
    assert services.session_bill(session_id=staff.pk).driver_group_name == "Employees"
    assert services.session_bill(session_id=public.pk).total > 0


def test_the_version_in_force_at_plug_in_prices_the_session(priced_site, station):
    services.tariff_version_add(
        tariff=priced_site,
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "9.99"}]},
        effective_from=at("2030-01-01 00:00"),
    )
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=1_000
    )
    cost = services.session_bill(session_id=session.pk)
    assert cost.tariff_version.number == 1


def test_price_changes_cannot_reach_back_in_time(priced_site):
    with pytest.raises(ValidationError):
        services.tariff_version_add(
            tariff=priced_site, definition=PEAK_TARIFF, effective_from=at("2026-01-01 00:00")
        )


def test_prices_must_be_in_the_tenants_currency(alpha):
    with pytest.raises(ValidationError):
        services.tariff_create(name="Euro", definition={"currency": "EUR", "session_fee": "1.00"})


def test_full_refund_reverses_every_line(priced_site, station, make_token):
    driver = services.driver_account_create(name="Ada", tokens=[make_token("ADA")])
    session = record_session(
        station,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=7_000,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)
    services.session_refund(cost=cost, reason="Charger fault", actor="owner@alpha.test")
    assert balances() == {}  # every account back to zero
    with pytest.raises(BillingError):
        services.session_refund(cost=cost, amount=D("0.01"), reason="again", actor="x")


def test_partial_refunds_never_exceed_any_line(priced_site, station):
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 13:00"), energy_wh=20_000
    )
    cost = services.session_bill(session_id=session.pk)
    first = services.session_refund(cost=cost, amount=D("1.00"), reason="goodwill", actor="x")
    assert sum(e.amount for e in first.entries.all()) == 0
    services.session_refund(cost=cost, amount=D("0.33"), reason="goodwill", actor="x")
    left = cost.total - D("1.33")
    with pytest.raises(BillingError):
        services.session_refund(cost=cost, amount=left + D("0.01"), reason="too much", actor="x")
    services.session_refund(cost=cost, reason="the rest", actor="x")
    assert balances() == {}


def test_a_refund_request_retried_is_applied_once(priced_site, station):
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 12:00"), energy_wh=9_000
    )
    cost = services.session_bill(session_id=session.pk)
    one = services.session_refund(
        cost=cost, amount=D("0.50"), reason="r", actor="x", request_key="req-1"
    )
    two = services.session_refund(
        cost=cost, amount=D("0.50"), reason="r", actor="x", request_key="req-1"
    )
    assert one.pk == two.pk
    assert LedgerTransaction.objects.filter(kind=TransactionKind.REFUND).count() == 1


def test_money_records_cannot_be_changed_even_by_sql(priced_site, station):
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=7_000
    )
    cost = services.session_bill(session_id=session.pk)
    entry = LedgerEntry.objects.filter(transaction__session_cost=cost).first()
    for attempt in (
        lambda: LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1.00")),
        lambda: LedgerEntry.objects.filter(pk=entry.pk).delete(),
        lambda: LedgerTransaction.objects.filter(session_cost=cost).update(memo="changed"),
        lambda: ReceiptLine.objects.filter(cost=cost).update(amount=0),
        lambda: SessionCost.objects.filter(pk=cost.pk).update(total=0),
    ):
        with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
            attempt()
    with pytest.raises(ValidationError):
        cost.save()
    with pytest.raises(ValidationError):
        entry.delete()


def test_the_database_refuses_an_unbalanced_transaction(alpha):
    from apps.billing.services.ledger import PLATFORM_FEES, TENANT_REVENUE, ledger_account

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        posting = LedgerTransaction.objects.create(
            kind=TransactionKind.CORRECTION,
            idempotency_key="bad",
            currency="CAD",
            effective_at=at("2026-03-02 10:00"),
        )
        LedgerEntry.objects.create(
            transaction=posting,
            account=ledger_account(TENANT_REVENUE),
            amount=D("1.00"),
            currency="CAD",
        )
        LedgerEntry.objects.create(
            transaction=posting,
            account=ledger_account(PLATFORM_FEES),
            amount=D("-0.99"),
            currency="CAD",
        )
        with connection.cursor() as cursor:  # what COMMIT would do
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_service_refuses_an_unbalanced_posting(alpha):
    from apps.billing.services.ledger import (
        PLATFORM_FEES,
        TENANT_REVENUE,
        LedgerError,
        ledger_account,
    )

    with pytest.raises(LedgerError):
        services.post_transaction(
            kind=TransactionKind.CORRECTION,
            idempotency_key="bad",
            effective_at=at("2026-03-02 10:00"),
            postings=[
                (ledger_account(TENANT_REVENUE), D("1.00")),
                (ledger_account(PLATFORM_FEES), D("-0.99")),
            ],
        )


def test_timeline_uses_register_readings_in_the_sites_time_zone(priced_site, station):
    # 15:00-17:00 Montreal on a Monday: the samples show all the energy after 16:00.
    session = record_session(
        station, start=at("2026-03-02 15:00"), end=at("2026-03-02 17:00"), energy_wh=0
    )
    from apps.charging.models import MeterValue

    MeterValue.objects.filter(session=session).delete()
    session.meter_stop_wh, session.energy_wh = 1_010_000, 10_000
    session.save()
    MeterValue.objects.create(
        station=station,
        evse_id=1,
        session=session,
        timestamp=at("2026-03-02 16:00"),
        measurand="Energy.Active.Import.Register",
        unit="Wh",
        value=D("1000000"),
    )
    timeline = selectors.session_timeline(session, timezone="America/Montreal")
    assert [(i.energy_wh) for i in timeline.intervals] == [0, 10_000]
    cost = services.session_bill(session_id=session.pk)
    energy = [line for line in cost.lines.all() if line.kind == "energy"]
    assert [(line.quantity, line.unit_price) for line in energy] == [(10_000, D("0.300000"))]


def test_inconsistent_readings_fall_back_to_the_session_energy(priced_site, station):
    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=5_000
    )
    session.meter_start_wh = None
    session.save()
    timeline = selectors.session_timeline(session, timezone="America/Montreal")
    assert timeline.energy_wh == 5_000 and len(timeline.intervals) == 1


def test_prepaid_driver_pays_from_the_balance(priced_site, station, make_token):
    driver = services.driver_account_create(
        name="Bo", kind=DriverAccountKind.PREPAID, tokens=[make_token("BO")]
    )
    services.wallet_top_up(account=driver, amount=D("50.00"), reference="e-transfer 778")
    session = record_session(
        station,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=7_000,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)
    assert selectors.driver_balance(driver) == D("50.00") - cost.total
    assert selectors.ledger_total() == 0


def test_price_shown_to_the_driver(priced_site, station, make_token):
    from apps.core import policies

    text = policies.ask(policies.PRICE_INFO, station=station, evse_id=1, token_uid="ANYONE")
    assert "0.30 CAD/kWh (16:00-21:00 Mon-Fri)" in text and "0.20 CAD/kWh" in text
    assert "1.00 CAD per session" in text and "+ GST, QST" in text


def test_session_ended_event_queues_billing(alpha, monkeypatch, django_capture_on_commit_callbacks):
    from apps.core import events

    queued = []
    record_tasks(monkeypatch, "billing.bill_session", lambda session_id: queued.append(session_id))
    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.SESSION_ENDED, session_id=41, station_id=1, evse_id=1)
    assert queued == [41]


def test_refund_after_months_is_still_exact(priced_site, station):
    session = record_session(
        station,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 10:00") + timedelta(hours=5),
        energy_wh=33_333,
    )
    cost = services.session_bill(session_id=session.pk)
    for amount in (D("0.01"), D("0.02"), D("1.11")):
        services.session_refund(cost=cost, amount=amount, reason="r", actor="x")
    services.session_refund(cost=cost, reason="rest", actor="x")
    assert balances() == {}


def test_a_session_closed_by_the_platform_waits_for_its_real_stop(priced_site, station):
    from apps.billing.services.sessions import CLOSED_SESSION_SETTLE

    session = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=4_000
    )
    session.status = SessionStatus.CLOSED_BY_RULE
    session.save()
    soon = at("2026-03-02 12:00")
    assert services.session_bill(session_id=session.pk, now=soon) is None
    assert services.sessions_bill_unbilled(now=soon) == 0
    settled = at("2026-03-02 11:00") + CLOSED_SESSION_SETTLE
    assert services.sessions_bill_unbilled(now=settled) == 1
    assert SessionCost.objects.filter(session=session).exists()


def test_the_sweep_prices_sessions_whose_task_was_lost(priced_site, station):
    sessions = [
        record_session(
            station,
            start=at(f"2026-03-0{day} 10:00"),
            end=at(f"2026-03-0{day} 11:00"),
            energy_wh=3_000,
        )
        for day in (2, 3, 4)
    ]
    services.session_bill(session_id=sessions[0].pk)
    assert services.sessions_bill_unbilled(now=at("2026-03-05 00:00")) == 2
    assert services.sessions_bill_unbilled(now=at("2026-03-05 00:00")) == 0
    assert SessionCost.objects.count() == 3


def test_one_session_that_cannot_be_priced_does_not_stop_the_sweep(priced_site, station):
    good = record_session(
        station, start=at("2026-03-02 10:00"), end=at("2026-03-02 11:00"), energy_wh=3_000
    )
    broken = record_session(
        station, start=at("2026-03-03 10:00"), end=at("2026-03-03 11:00"), energy_wh=3_000
    )
    broken.ended_at = at("2026-03-03 09:00")  # a station clock that ran backwards
    broken.save()
    assert services.sessions_bill_unbilled(now=at("2026-03-05 00:00")) == 1
    assert SessionCost.objects.filter(session=good).exists()
    assert not SessionCost.objects.filter(session=broken).exists()
