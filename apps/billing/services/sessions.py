"""Pricing finished sessions (receipt + ledger posting, exactly once) and refunding them."""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.core import events, policies

from .. import conf, queue
from ..choices import DriverAccountKind, PaymentKind, PaymentStatus, TransactionKind
from ..engine import (
    ENGINE_VERSION,
    LINE_IDLE,
    LINE_NO_SHOW,
    CarriedFee,
    Tariff,
    TimelineError,
    compute_cost,
    inputs_digest,
)
from ..models import (
    DocumentCounter,
    DriverAccount,
    LedgerEntry,
    LedgerTransaction,
    NoShowFee,
    Payment,
    ReceiptLine,
    SessionCost,
)
from ..money import allocate, money_sum, round_money, zero
from ..selectors import (
    driver_account_for_token,
    session_timeline,
    tariff_for,
    tax_policy_for_site,
    token_for_uid,
)
from .ledger import (
    PLATFORM_FEES,
    TENANT_REVENUE,
    UNASSIGNED_RECEIVABLE,
    driver_ledger_account,
    ledger_accounts,
    post_transaction,
    tax_account_code,
)

logger = logging.getLogger(__name__)


class BillingError(ValueError):
    """A request billing refuses (the message says why, for people)."""


def next_document_number(name: str, prefix: str) -> str:
    """``R-2026-000042``: gap-free per name and year.

    One statement creates or increments the counter; its row stays locked until our
    transaction commits, so a rolled-back document gives its number back (no gaps) and two
    documents never share one.
    """
    year = timezone.now().year
    table = DocumentCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, year, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (name, year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [name, year],
        )
        (number,) = cursor.fetchone()
    return f"{prefix}-{year}-{number:06d}"


def platform_fee_for(amount_excl_tax: Decimal, currency: str) -> Decimal:
    """The platform's fee on a session: percent of the price before tax plus a fixed amount,
    rounded once (half up), never more than the price itself."""
    if amount_excl_tax <= 0:
        return zero(currency)
    fee = conf.platform_fee()
    percent = round_money(Fraction(amount_excl_tax) * Fraction(fee.percent) / 100, currency)
    fixed = round_money(fee.fixed, currency)
    return min(percent + fixed, amount_excl_tax)


def session_charge_key(session_id: int) -> str:
    return f"session:{session_id}:charge"


# A session the platform closed because its station went silent may still get its real stop
# (with the true meter reading) when the station comes back: wait this long before pricing it.
CLOSED_SESSION_SETTLE = timedelta(hours=24)
# A completed session normally reaches billing through its event at once; the sweep only
# catches the ones whose task was lost.
COMPLETED_SESSION_SWEEP_DELAY = timedelta(minutes=10)
# The sweep looks back this far: it repairs recent misses, it does not bill history (sessions
# from before billing was installed stay unpriced).
SWEEP_WINDOW = timedelta(days=40)


def _ready_to_bill(session: ChargingSession, now: datetime) -> bool:
    if session.status == SessionStatus.ACTIVE or session.ended_at is None:
        return False
    if session.status == SessionStatus.CLOSED_BY_RULE:
        return session.ended_at <= now - CLOSED_SESSION_SETTLE
    return True


def session_bill(*, session_id: int, now: datetime | None = None) -> SessionCost | None:
    """Price a finished session, write its receipt and post it to the ledger, exactly once.

    Safe to call any number of times, concurrently too: the session row is locked while the
    cost is written, the cost is unique per session and the posting unique per session.
    Returns ``None`` for a session that is not ready: still running, or closed by the
    platform less than ``CLOSED_SESSION_SETTLE`` ago.
    """
    with transaction.atomic():
        session = (
            ChargingSession.objects.select_for_update(of=("self",))
            .select_related("station__site")
            .get(pk=session_id)
        )
        existing = SessionCost.objects.filter(session=session).first()
        if existing is not None:
            return existing
        if not _ready_to_bill(session, now or timezone.now()):
            return None
        cost = _price_and_post(session)
        events.emit(events.SESSION_PRICED, session_id=session.pk)
    if cost.driver_account_id and cost.total > 0:
        account = cost.driver_account
        if account.kind == DriverAccountKind.CARD:
            queue.collect_payment(cost.pk)
    if cost.driver_account_id and cost.driver_account.email:
        queue.email_receipt(cost.pk)
    return cost


def sessions_bill_unbilled(*, now: datetime | None = None, limit: int = 1000) -> int:
    """The safety net: price every finished session that has no cost yet (a lost task, a
    session closed by the platform that has now settled).  Returns how many were priced."""
    now = now or timezone.now()
    pending = (
        ChargingSession.objects.filter(billing_cost__isnull=True, ended_at__gte=now - SWEEP_WINDOW)
        .filter(
            Q(status=SessionStatus.COMPLETED, ended_at__lte=now - COMPLETED_SESSION_SWEEP_DELAY)
            | Q(status=SessionStatus.CLOSED_BY_RULE, ended_at__lte=now - CLOSED_SESSION_SETTLE)
        )
        .order_by("ended_at")
        .values_list("pk", flat=True)[:limit]
    )
    priced = 0
    for pk in list(pending):
        try:
            priced += session_bill(session_id=pk, now=now) is not None
        except (TimelineError, BillingError):
            # Data that cannot be priced (a station clock running backwards...) is left for a
            # person to look at; it must not stop the others.
            logger.exception("Session %s cannot be priced", pk)
    return priced


@dataclass(frozen=True)
class _Priced:
    currency: str
    zone: str
    token: object
    choice: object
    tariff: Tariff
    taxes: object
    timeline: object
    result: object
    no_shows: list = dataclasses.field(default_factory=list)


def _no_show_fees(session: ChargingSession, currency: str, *, lock: bool) -> list[NoShowFee]:
    """The card's no-show fees not charged yet, from before this session ended (locked while a
    receipt takes them, so two receipts never both do)."""
    if not session.id_token:
        return []
    fees = NoShowFee.objects.filter(
        token_uid=session.id_token,
        currency=currency,
        cost__isnull=True,
        occurred_at__lt=session.ended_at,
    ).order_by("occurred_at", "id")
    if lock:
        fees = fees.select_for_update()
    return list(fees.select_related("station"))


def _carried(fees: list[NoShowFee], zone: str) -> tuple[CarriedFee, ...]:
    return tuple(
        CarriedFee(
            LINE_NO_SHOW,
            f"No-show fee: port held at {fee.station.identity} until "
            f"{timezone.localtime(fee.occurred_at, ZoneInfo(zone)):%Y-%m-%d %H:%M}",
            fee.amount,
            fee.key,
        )
        for fee in fees
    )


def _price(session: ChargingSession, *, lock_fees: bool = False) -> _Priced:
    """The engine's price of a session: the one path for receipts and running totals."""
    tenant = connection.tenant
    currency = tenant.currency
    site = session.station.site
    zone = site.timezone if site is not None else tenant.timezone
    token = session.token or token_for_uid(session.id_token)
    choice = tariff_for(station=session.station, token=token, at=session.started_at)
    tariff = choice.version.parsed if choice.version else Tariff(currency=currency)
    if tariff.currency != currency:
        raise BillingError(f"Tariff {choice.version} is in {tariff.currency}, not {currency}")
    taxes = tax_policy_for_site(site.pk if site else None)
    timeline = session_timeline(session, timezone=zone)
    no_shows = _no_show_fees(session, currency, lock=lock_fees)
    timeline = dataclasses.replace(
        timeline,
        reserved=bool(policies.ask(policies.SESSION_RESERVED, session_id=session.pk)),
        carried=_carried(no_shows, zone),
    )
    result = compute_cost(tariff, timeline, taxes)
    return _Priced(currency, zone, token, choice, tariff, taxes, timeline, result, no_shows)


def session_running_total(*, session_id: int, now: datetime | None = None) -> Decimal | None:
    """What a running session has cost so far (taxes included), priced by the engine exactly
    as its receipt will be, as if it ended ``now``; a billed session's receipt total."""
    price = session_running_price(session_id=session_id, now=now)
    return price[1] if price is not None else None


def session_running_price(
    *, session_id: int, now: datetime | None = None
) -> tuple[Decimal, Decimal] | None:
    """``session_running_total`` without and with taxes: (excl. taxes, incl. taxes)."""
    session = (
        ChargingSession.objects.select_related("station__site", "token")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return None
    existing = SessionCost.objects.filter(session=session).first()
    if existing is not None:
        return existing.total_excl_tax, existing.total
    if session.status != SessionStatus.ACTIVE:
        return None
    running = copy.copy(session)
    running.ended_at = max(now or timezone.now(), session.started_at)
    running.meter_stop_wh = None
    result = _price(running).result
    return result.total_excl_tax, result.total


def session_idle_fees(*, session_ids, at: datetime | None = None) -> dict[int, dict]:
    """The idle fee each session has accrued by ``at`` (now), priced by the engine as its
    receipt will be (a running session as if unplugged ``at``; a priced one: its receipt's
    line).  Sessions whose tariff has no idle fee are left out.  For the valet board."""
    at = at or timezone.now()
    sessions = ChargingSession.objects.select_related("station__site", "token").filter(
        pk__in=list(session_ids)
    )
    receipts = {
        cost.session_id: cost
        for cost in SessionCost.objects.filter(session__in=sessions).prefetch_related("lines")
    }
    answer = {}
    for session in sessions:
        cost = receipts.get(session.pk)
        if cost is not None:
            idle = [line for line in cost.lines.all() if line.kind == LINE_IDLE]
            if idle:
                answer[session.pk] = {
                    "amount": idle[0].amount,
                    "currency": cost.currency,
                    "price_per_hour": idle[0].unit_price,
                    "accruing": False,
                    "next_change_at": None,
                }
            continue
        running = copy.copy(session)
        if session.ended_at is None:
            running.ended_at = max(at, session.started_at)
            running.meter_stop_wh = None
        try:
            priced = _price(running)
        except (BillingError, TimelineError):
            continue
        idle_fee = priced.tariff.idle
        if idle_fee is None:
            continue
        line = next((x for x in priced.result.lines if x.kind == LINE_IDLE), None)
        amount = line.amount if line else zero(priced.currency)
        accruing = session.ended_at is None and not (line and line.label.endswith("(capped)"))
        next_change_at = None
        if accruing:
            started = session.started_at.replace(microsecond=0)
            charging_end = started + timedelta(seconds=priced.result.charging_seconds)
            billable_from = charging_end + timedelta(minutes=idle_fee.grace_minutes)
            if at < billable_from:
                next_change_at = billable_from + timedelta(seconds=1)
            else:
                steps = int((at - billable_from).total_seconds()) // idle_fee.step_seconds + 1
                next_change_at = billable_from + timedelta(
                    seconds=steps * idle_fee.step_seconds + 1
                )
        answer[session.pk] = {
            "amount": amount,
            "currency": priced.currency,
            "price_per_hour": idle_fee.price_per_hour,
            "accruing": accruing,
            "next_change_at": next_change_at,
        }
    return answer


def _price_and_post(session: ChargingSession) -> SessionCost:
    priced = _price(session, lock_fees=True)
    currency, zone, token = priced.currency, priced.zone, priced.token
    choice, tariff, taxes = priced.choice, priced.tariff, priced.taxes
    timeline, result = priced.timeline, priced.result
    account = driver_account_for_token(token)
    fee = platform_fee_for(result.total_excl_tax, currency)

    cost = SessionCost.objects.create(
        session=session,
        receipt_number=next_document_number("receipt", "R"),
        tariff_version=choice.version,
        tariff_name=choice.version.tariff.name if choice.version else "",
        driver_group_name=choice.driver_group.name if choice.driver_group else "",
        driver_account=account,
        currency=currency,
        subtotal=result.subtotal,
        tax_total=result.tax_total,
        total=result.total,
        total_excl_tax=result.total_excl_tax,
        prices_include_tax=result.prices_include_tax,
        platform_fee=fee,
        energy_wh=result.energy_wh,
        connected_seconds=result.connected_seconds,
        charging_seconds=result.charging_seconds,
        idle_seconds=result.idle_seconds,
        site_timezone=zone,
        inputs_digest=inputs_digest(tariff, timeline, taxes),
        engine_version=ENGINE_VERSION,
    )
    receipt = [
        ReceiptLine(
            cost=cost,
            position=position,
            kind=line.kind,
            label=line.label,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            amount=line.amount,
        )
        for position, line in enumerate(result.lines, start=1)
    ]
    receipt += [
        ReceiptLine(
            cost=cost,
            position=len(result.lines) + position,
            kind="tax",
            label=tax.name,
            quantity=1,
            unit="tax",
            unit_price=None,
            amount=tax.amount,
            tax_code=tax.code,
            tax_rate=tax.rate,
        )
        for position, tax in enumerate(result.taxes, start=1)
    ]
    ReceiptLine.objects.bulk_create(receipt)
    if priced.no_shows:
        NoShowFee.objects.filter(pk__in=[f.pk for f in priced.no_shows]).update(cost=cost)

    tax_codes = [tax_account_code(t.code) for t in result.taxes]
    accounts = ledger_accounts([TENANT_REVENUE, PLATFORM_FEES, UNASSIGNED_RECEIVABLE, *tax_codes])
    payer = driver_ledger_account(account) if account else accounts[UNASSIGNED_RECEIVABLE]
    postings = [
        (payer, result.total),
        (accounts[TENANT_REVENUE], -(result.total_excl_tax - fee)),
        (accounts[PLATFORM_FEES], -fee),
    ]
    postings += [
        (accounts[code], -t.amount) for code, t in zip(tax_codes, result.taxes, strict=True)
    ]
    post_transaction(
        kind=TransactionKind.SESSION_CHARGE,
        idempotency_key=session_charge_key(session.pk),
        effective_at=session.ended_at,
        postings=postings,
        memo=f"Receipt {cost.receipt_number}",
        session=session,
        session_cost=cost,
    )
    return cost


def refunded_amount(cost: SessionCost) -> Decimal:
    """What has been given back on this session so far (from the ledger)."""
    charge = LedgerTransaction.objects.filter(idempotency_key=session_charge_key(cost.session_id))
    payer_account_ids = LedgerEntry.objects.filter(transaction__in=charge, amount__gt=0).values(
        "account_id"
    )
    total = LedgerEntry.objects.filter(
        transaction__session_cost=cost,
        transaction__kind=TransactionKind.REFUND,
        account_id__in=payer_account_ids,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or Decimal(0))


@transaction.atomic
def session_refund(
    *,
    cost: SessionCost,
    amount: Decimal | None = None,
    reason: str,
    actor: str,
    request_key: str | None = None,
) -> LedgerTransaction:
    """Give money back on a priced session: a reversing posting (all of it, or ``amount``
    spread over the original lines in proportion), never more than what is left.

    The driver's account is credited; for a card account the money is then returned through
    the provider.  ``request_key`` makes a caller's retry harmless.
    """
    cost = SessionCost.objects.select_for_update().get(pk=cost.pk)
    if request_key:
        done = LedgerTransaction.objects.filter(idempotency_key=f"refund:{cost.pk}:{request_key}")
        if done.exists():
            return done.get()
    charge = LedgerTransaction.objects.filter(
        idempotency_key=session_charge_key(cost.session_id)
    ).first()
    if charge is None:
        raise BillingError("This session was free: there is nothing to refund.")
    remaining = cost.total - refunded_amount(cost)
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise BillingError(f"A refund must be more than 0 and at most {remaining} {cost.currency}.")
    entries = list(charge.entries.select_related("account").order_by("id"))
    payer = next(e for e in entries if e.amount > 0)
    credits = [e for e in entries if e.amount < 0]
    # What each credited account still holds of this charge after earlier refunds: a full
    # refund returns exactly that, a partial one is spread in proportion to it, so no line is
    # ever refunded beyond what it received.
    already = dict(
        LedgerEntry.objects.filter(
            transaction__session_cost=cost, transaction__kind=TransactionKind.REFUND
        )
        .values_list("account_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    left = [-e.amount - already.get(e.account_id, Decimal(0)) for e in credits]
    parts = left if amount == remaining else allocate(amount, left, cost.currency)
    postings = [(e.account, part) for e, part in zip(credits, parts, strict=True)]
    postings.append((payer.account, -amount))
    count = LedgerTransaction.objects.filter(session_cost=cost, kind=TransactionKind.REFUND).count()
    refund, _ = post_transaction(
        kind=TransactionKind.REFUND,
        idempotency_key=f"refund:{cost.pk}:{request_key or count + 1}",
        effective_at=timezone.now(),
        postings=postings,
        memo=reason,
        actor=actor,
        currency=cost.currency,
        session=cost.session,
        session_cost=cost,
        reverses=charge,
    )
    assert refund is not None
    if cost.driver_account_id:
        _return_card_money(cost, amount, refund)
    return refund


def _return_card_money(cost: SessionCost, amount: Decimal, refund: LedgerTransaction) -> None:
    account: DriverAccount = cost.driver_account
    if account.kind != DriverAccountKind.CARD:
        return  # prepaid: back in the wallet; invoice: less to pay
    charged = Payment.objects.filter(
        session_cost=cost, kind=PaymentKind.CHARGE, status=PaymentStatus.SUCCEEDED
    ).first()
    if charged is None:
        return  # never collected: crediting the account is the whole refund
    payment = Payment.objects.create(
        driver_account=account,
        kind=PaymentKind.REFUND,
        provider=charged.provider,
        amount=amount,
        currency=cost.currency,
        idempotency_key=f"payment-refund:{refund.idempotency_key}",
        session_cost=cost,
        refund_of=charged,
    )
    queue.refund_payment(payment.pk)


def receipt_total_check(cost: SessionCost) -> bool:
    """The receipt adds up: lines before tax make the subtotal, taxes the tax total."""
    lines = list(cost.lines.all())
    charges = money_sum((line.amount for line in lines if line.kind != "tax"), cost.currency)
    taxes = money_sum((line.amount for line in lines if line.kind == "tax"), cost.currency)
    return charges == cost.subtotal and taxes == cost.tax_total
