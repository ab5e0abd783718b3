"""The double-entry ledger: balanced, immutable, idempotent postings.

Chart of accounts (codes; docs/billing.md explains each):

=======================  =========  ====================================================
``driver:<id>``          liability  a driver account's funds (negative: what they owe)
``receivable:unassigned`` asset     sessions with no paying account (ad hoc, roaming)
``tenant:revenue``       liability  owed to the tenant, net of platform fees
``tax:<code>``           liability  taxes collected for the tenant
``platform:fees``        income     the platform's fees
``cash:internal``        asset      money received outside a provider (bank transfer)
``cash:stripe``          asset      money held at Stripe
``payouts:due``          liability  payouts built, not yet confirmed paid by the bank
``cash:bank``            asset      the platform's bank account that pays tenants out
=======================  =========  ====================================================

Amounts are signed: a debit is positive, a credit negative; a transaction's entries sum to
zero (checked here and, at commit, by the database).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..choices import AccountKind, TransactionKind
from ..models import DriverAccount, LedgerAccount, LedgerEntry, LedgerTransaction
from ..money import check_amount

TENANT_REVENUE = "tenant:revenue"
PLATFORM_FEES = "platform:fees"
UNASSIGNED_RECEIVABLE = "receivable:unassigned"
CASH_INTERNAL = "cash:internal"
CASH_STRIPE = "cash:stripe"
PAYOUTS_DUE = "payouts:due"
CASH_BANK = "cash:bank"

FIXED_ACCOUNTS = {
    TENANT_REVENUE: ("Owed to the owner (revenue net of fees)", AccountKind.LIABILITY),
    PLATFORM_FEES: ("Platform fees", AccountKind.INCOME),
    UNASSIGNED_RECEIVABLE: ("Sessions without a paying account", AccountKind.ASSET),
    CASH_INTERNAL: ("Money received directly", AccountKind.ASSET),
    CASH_STRIPE: ("Money at Stripe", AccountKind.ASSET),
    PAYOUTS_DUE: ("Payouts being paid to the owner", AccountKind.LIABILITY),
    CASH_BANK: ("Platform bank account (payouts)", AccountKind.ASSET),
}


class LedgerError(ValueError):
    pass


def tax_account_code(tax_code: str) -> str:
    return f"tax:{tax_code}"


def ledger_account(code: str) -> LedgerAccount:
    """The account with ``code``, created on first use (fixed and tax accounts)."""
    account = LedgerAccount.objects.filter(code=code).first()
    if account is not None:
        return account
    if code in FIXED_ACCOUNTS:
        name, kind = FIXED_ACCOUNTS[code]
    elif code.startswith("tax:"):
        name, kind = f"Tax collected: {code[4:]}", AccountKind.LIABILITY
    else:
        raise LedgerError(f"Unknown ledger account {code!r}")
    account, _ = LedgerAccount.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind}
    )
    return account


def ledger_accounts(codes: Iterable[str]) -> dict[str, LedgerAccount]:
    """Several accounts by code in one query (created on first use)."""
    wanted = set(codes)
    found = {a.code: a for a in LedgerAccount.objects.filter(code__in=wanted)}
    for code in wanted - set(found):
        found[code] = ledger_account(code)
    return found


def driver_ledger_account(driver_account: DriverAccount) -> LedgerAccount:
    account, _ = LedgerAccount.objects.get_or_create(
        code=driver_account.ledger_code,
        defaults={
            "name": f"Driver account: {driver_account.name}"[:140],
            "kind": AccountKind.LIABILITY,
            "driver_account": driver_account,
        },
    )
    return account


Posting = tuple[LedgerAccount, Decimal]


@transaction.atomic
def post_transaction(
    *,
    kind: str,
    idempotency_key: str,
    effective_at: datetime,
    postings: Iterable[Posting],
    memo: str = "",
    actor: str = "system",
    currency: str | None = None,
    **links,
) -> tuple[LedgerTransaction | None, bool]:
    """Post one balanced transaction, once per ``idempotency_key``.

    Returns ``(transaction, created)``; a second call with the same key returns the first
    transaction and ``False`` without posting anything.  Postings on the same account are
    merged and zero postings dropped; nothing left to post returns ``(None, False)``.
    ``links`` are the transaction's references (``session``, ``session_cost``, ``payment``,
    ``payout``, ``reverses``).
    """
    existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    currency = currency or connection.tenant.currency
    merged: dict[int, tuple[LedgerAccount, Decimal]] = {}
    for account, amount in postings:
        check_amount(amount, currency)
        previous = merged.get(account.pk, (account, Decimal(0)))[1]
        merged[account.pk] = (account, previous + amount)
    lines = [(account, amount) for account, amount in merged.values() if amount != 0]
    if not lines:
        return None, False
    if sum(amount for _, amount in lines) != 0:
        raise LedgerError(f"{idempotency_key}: postings do not balance")
    if len(lines) < 2:
        raise LedgerError(f"{idempotency_key}: a posting needs two accounts")
    try:
        with transaction.atomic():
            ledger_transaction = LedgerTransaction.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                currency=currency,
                effective_at=effective_at,
                posted_at=timezone.now(),
                memo=memo[:300],
                actor=actor[:200],
                **links,
            )
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    transaction=ledger_transaction,
                    account=account,
                    amount=amount,
                    currency=currency,
                )
                for account, amount in lines
            )
    except IntegrityError:
        # Someone posted the same key between our check and our insert: theirs stands.
        existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return ledger_transaction, True


def entries_of(ledger_transaction: LedgerTransaction) -> Sequence[LedgerEntry]:
    return list(ledger_transaction.entries.select_related("account"))


@transaction.atomic
def reverse_transaction(
    *,
    original: LedgerTransaction,
    idempotency_key: str,
    kind: str = TransactionKind.CORRECTION,
    memo: str = "",
    actor: str = "system",
    effective_at: datetime | None = None,
) -> LedgerTransaction:
    """The exact mirror of ``original`` (every debit becomes a credit), posted once."""
    postings = [(entry.account, -entry.amount) for entry in entries_of(original)]
    reversal, _ = post_transaction(
        kind=kind,
        idempotency_key=idempotency_key,
        effective_at=effective_at or timezone.now(),
        postings=postings,
        memo=memo or f"Reversal of {original.idempotency_key}",
        actor=actor,
        currency=original.currency,
        session=original.session,
        session_cost=original.session_cost,
        reverses=original,
    )
    assert reversal is not None
    return reversal
