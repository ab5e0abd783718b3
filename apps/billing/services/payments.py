"""Driver money: collecting card charges, prepaid top-ups, monthly invoices, refunds to cards.

The provider is called outside any database transaction (no locks held across the network);
its answer is then recorded under a row lock, and the ledger is posted once, on success.  The
payment's idempotency key travels to the provider, so a retry after a crash between the call
and the record gets the provider's first answer back instead of a second charge.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from .. import queue
from ..choices import (
    DriverAccountKind,
    InvoiceStatus,
    PaymentKind,
    PaymentStatus,
    Provider,
    TransactionKind,
)
from ..models import DriverAccount, DriverInvoice, Payment, SessionCost
from ..money import check_amount, money_sum, quantum
from ..providers import ChargeRequest, ProviderResult, RefundRequest, provider_for
from ..providers.stripe import webhook_outcome
from ..selectors import account_balance
from .ledger import (
    CASH_INTERNAL,
    CASH_STRIPE,
    driver_ledger_account,
    ledger_account,
    post_transaction,
)
from .sessions import BillingError, next_document_number, refunded_amount

_CASH_ACCOUNT = {Provider.INTERNAL: CASH_INTERNAL, Provider.STRIPE: CASH_STRIPE}
_FINAL = (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)


def _payment_get_or_create(*, idempotency_key: str, **fields) -> Payment:
    payment, _ = Payment.objects.get_or_create(idempotency_key=idempotency_key, defaults=fields)
    return payment


@transaction.atomic
def payment_record_result(*, payment: Payment, result: ProviderResult) -> Payment:
    """Record what the provider said (from its API answer or a webhook), once.

    A success posts the ledger (key ``payment:<id>``); a payment already final is left alone,
    except that a late success beats an earlier failure (the provider is the authority).
    """
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == PaymentStatus.SUCCEEDED:
        return payment
    if payment.status == PaymentStatus.FAILED and result.status != PaymentStatus.SUCCEEDED:
        return payment
    payment.status = result.status
    if result.reference:
        payment.provider_reference = result.reference
    payment.failure_code = result.failure_code[:60]
    payment.failure_message = result.failure_message[:300]
    payment.save(
        update_fields=[
            "status",
            "provider_reference",
            "failure_code",
            "failure_message",
            "updated_at",
        ]
    )
    if payment.status == PaymentStatus.SUCCEEDED:
        _post_payment(payment)
        if payment.kind == PaymentKind.CHARGE and payment.session_cost_id:
            _return_refunds_made_while_charging(payment)
    return payment


def _return_refunds_made_while_charging(charge: Payment) -> None:
    """A refund recorded while the card charge was still in flight credited the driver's
    account but had no charge to refund yet: now that the charge went through, send that
    money back to the card (what is owed back and not already on its way)."""
    cost = charge.session_cost
    already = Payment.objects.filter(session_cost=cost, kind=PaymentKind.REFUND).exclude(
        status=PaymentStatus.FAILED
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    # Refunds made before the charge was created were already left out of its amount.
    netted = cost.total - charge.amount
    owed_back = min(refunded_amount(cost) - netted - already, charge.amount)
    if owed_back <= 0:
        return
    refund = Payment.objects.create(
        driver_account=charge.driver_account,
        kind=PaymentKind.REFUND,
        provider=charge.provider,
        amount=owed_back,
        currency=charge.currency,
        idempotency_key=f"payment-refund:after-charge:{charge.pk}",
        session_cost=cost,
        refund_of=charge,
    )
    queue.refund_payment(refund.pk)


def _post_payment(payment: Payment) -> None:
    cash = ledger_account(_CASH_ACCOUNT[payment.provider])
    driver = driver_ledger_account(payment.driver_account)
    if payment.kind == PaymentKind.REFUND:
        kind, postings = (
            TransactionKind.PAYMENT_REFUND,
            [(driver, payment.amount), (cash, -payment.amount)],
        )
    else:
        kind = (
            TransactionKind.TOP_UP
            if payment.kind == PaymentKind.TOP_UP
            else TransactionKind.PAYMENT
        )
        postings = [(cash, payment.amount), (driver, -payment.amount)]
    post_transaction(
        kind=kind,
        idempotency_key=f"payment:{payment.pk}",
        effective_at=timezone.now(),
        postings=postings,
        memo=f"{payment.get_kind_display()} {payment.provider_reference}".strip(),
        currency=payment.currency,
        payment=payment,
        session_cost=payment.session_cost,
    )


def payment_collect(*, session_cost_id: int) -> Payment | None:
    """Charge a card account for a priced session (what is left after any refund)."""
    cost = SessionCost.objects.select_related("driver_account").get(pk=session_cost_id)
    account = cost.driver_account
    if account is None or account.kind != DriverAccountKind.CARD:
        return None
    amount = cost.total - refunded_amount(cost)
    if amount <= 0:
        return None
    payment = _payment_get_or_create(
        idempotency_key=f"charge:{cost.pk}",
        driver_account=account,
        kind=PaymentKind.CHARGE,
        provider=account.provider,
        amount=amount,
        currency=cost.currency,
        session_cost=cost,
    )
    if payment.status in _FINAL:
        return payment
    result = provider_for(payment.provider).charge(
        ChargeRequest(
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key,
            description=f"Charging session, receipt {cost.receipt_number}",
            customer_reference=account.stripe_customer_id,
            payment_method=account.stripe_payment_method_id,
            metadata={"receipt": cost.receipt_number, "schema": connection.schema_name},
        )
    )
    return payment_record_result(payment=payment, result=result)


def payment_refund_send(*, payment_id: int) -> Payment:
    """Send a refund payment (created by ``session_refund``) to its provider."""
    payment = Payment.objects.select_related("refund_of").get(pk=payment_id)
    if payment.status in _FINAL:
        return payment
    result = provider_for(payment.provider).refund(
        RefundRequest(
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key,
            payment_reference=payment.refund_of.provider_reference,
            reason="Refund of a charging session",
            metadata={"schema": connection.schema_name},
        )
    )
    return payment_record_result(payment=payment, result=result)


def wallet_top_up(
    *,
    account: DriverAccount,
    amount: Decimal,
    provider: str = Provider.INTERNAL,
    reference: str = "",
    request_key: str | None = None,
) -> Payment:
    """Add funds to a driver account: recorded money (internal, with the bank reference) or a
    card charge through Stripe."""
    check_amount(amount, connection.tenant.currency)
    if amount <= 0:
        raise BillingError("A top-up must be a positive amount.")
    if provider == Provider.STRIPE and not account.stripe_payment_method_id:
        raise BillingError("This account has no card on file.")
    payment = _payment_get_or_create(
        idempotency_key=f"top-up:{account.pk}:{request_key or uuid.uuid4().hex}",
        driver_account=account,
        kind=PaymentKind.TOP_UP,
        provider=provider,
        amount=amount,
        currency=connection.tenant.currency,
    )
    if payment.status in _FINAL:
        return payment
    result = provider_for(provider).charge(
        ChargeRequest(
            amount=amount,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key,
            description="Prepaid charging balance",
            customer_reference=account.stripe_customer_id,
            payment_method=account.stripe_payment_method_id,
            metadata={"schema": connection.schema_name},
        )
    )
    if provider == Provider.INTERNAL and reference:
        result = ProviderResult(result.status, reference=reference)
    return payment_record_result(payment=payment, result=result)


def stripe_event_handle(event: dict) -> Payment | None:
    """Apply a verified Stripe webhook event to the payment it concerns (idempotent)."""
    outcome = webhook_outcome(event)
    if outcome is None:
        return None
    key, result = outcome
    payment = (
        Payment.objects.filter(idempotency_key=key).first()
        or Payment.objects.filter(provider=Provider.STRIPE, provider_reference=key).first()
    )
    if payment is None:
        return None
    return payment_record_result(payment=payment, result=result)


# --- Monthly invoices --------------------------------------------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(connection.tenant.timezone))


@transaction.atomic
def invoice_issue(
    *, account: DriverAccount, period_start: date, period_end: date
) -> DriverInvoice | None:
    """The invoice of one month for an invoice account, once (unique per account and month).

    It lists the month's sessions and asks for the balance owed at the end of the month
    (earlier unpaid amounts included, prepaid credit deducted).
    """
    if account.kind != DriverAccountKind.INVOICE:
        return None
    existing = DriverInvoice.objects.filter(
        driver_account=account, period_start=period_start
    ).first()
    if existing is not None:
        return existing
    start, end = _local_midnight(period_start), _local_midnight(period_end)
    costs = SessionCost.objects.filter(
        driver_account=account, session__ended_at__gte=start, session__ended_at__lt=end
    )
    currency = connection.tenant.currency
    sessions_total = money_sum(costs.values_list("total", flat=True), currency)
    # The driver's account is debited by sessions and credited by payments: a debit balance
    # is what they owe.
    owed = account_balance(account.ledger_code, until=end)
    amount_due = max(owed, Decimal(0)).quantize(quantum(currency))
    if not costs.exists() and amount_due == 0:
        return None
    return DriverInvoice.objects.create(
        driver_account=account,
        number=next_document_number("invoice", "INV"),
        period_start=period_start,
        period_end=period_end,
        session_count=costs.count(),
        sessions_total=sessions_total,
        amount_due=amount_due,
        currency=currency,
    )


def invoices_issue(*, period_start: date, period_end: date) -> list[DriverInvoice]:
    issued = []
    for account in DriverAccount.objects.filter(kind=DriverAccountKind.INVOICE, is_active=True):
        invoice = invoice_issue(account=account, period_start=period_start, period_end=period_end)
        if invoice is not None:
            issued.append(invoice)
    return issued


@transaction.atomic
def invoice_mark_paid(
    *, invoice: DriverInvoice, reference: str, amount: Decimal | None = None
) -> DriverInvoice:
    """Record the bank transfer that paid an invoice (once: the status update is the claim)."""
    invoice = DriverInvoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.PAID:
        return invoice
    amount = invoice.amount_due if amount is None else amount
    if amount > 0:
        payment = _payment_get_or_create(
            idempotency_key=f"invoice:{invoice.pk}",
            driver_account=invoice.driver_account,
            kind=PaymentKind.INVOICE_SETTLEMENT,
            provider=Provider.INTERNAL,
            amount=amount,
            currency=invoice.currency,
        )
        payment_record_result(
            payment=payment, result=ProviderResult(PaymentStatus.SUCCEEDED, reference=reference)
        )
        invoice.payment = payment
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = timezone.now()
    invoice.save(update_fields=["status", "paid_at", "payment"])
    return invoice
