"""Monthly payouts: the tenant's money for a month, one payout per period whatever happens.

What is paid: the balance of the payable accounts (``tenant:revenue`` and every ``tax:*``)
made of every non-payout entry dated before the end of the period, plus every payout ever
posted.  It is cumulative on purpose: a session posted late (its task ran after the payout)
or a refund simply lands in the next payout as "carried over", never lost, never paid twice.

How it stays single under retries, two workers and crashes:

1. ``Payout`` is unique per period: ``get_or_create`` lets exactly one row exist.
2. Inside one database transaction the worker claims it with a conditional update
   ``pending -> building`` that must touch exactly one row; a second worker's update waits
   on the row lock and then touches none.
3. Statement lines, the ledger posting (unique key ``payout:<period>``) and the bank file are
   written in that same transaction: a crash half way rolls all of it back, the row is
   ``pending`` again and the next run builds it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from .. import conf
from ..bankfiles import cpa005
from ..bankfiles.pain001 import (
    BankAccount,
    BankFileError,
    CreditTransfer,
    build_pain001,
    validate_pain001,
)
from ..choices import BankFileFormat, PayoutLineKind, PayoutStatus, TransactionKind
from ..models import LedgerAccount, LedgerEntry, LedgerTransaction, Payout, PayoutLine
from ..money import money_sum, zero
from ..selectors import billing_profile
from .ledger import (
    CASH_BANK,
    PAYOUTS_DUE,
    TENANT_REVENUE,
    ledger_account,
    post_transaction,
    reverse_transaction,
)

_LINE_OF_KIND = {
    TransactionKind.REFUND: PayoutLineKind.REFUNDS,
    TransactionKind.PAYOUT_RETURNED: PayoutLineKind.RETURNED,
}


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def last_completed_month(now: datetime | None = None) -> date:
    """First day of the last month that has fully ended on the tenant's clock."""
    now = now or timezone.now()
    local_today = now.astimezone(ZoneInfo(connection.tenant.timezone)).date()
    return month_start(month_start(local_today) - timedelta(days=1))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(connection.tenant.timezone))


def _payable(entries):
    return entries.filter(Q(account__code=TENANT_REVENUE) | Q(account__code__startswith="tax:"))


def payout_statement(period_start: date) -> tuple[list[PayoutLine], dict[int, Decimal]]:
    """Unsaved statement lines for the period and, per payable account, what is owed.

    Lines and the per-account amounts cover the same entries, so they add up to the same
    total: what the payout pays.
    """
    currency = connection.tenant.currency
    start, end = _local_midnight(period_start), _local_midnight(next_month(period_start))
    entries = _payable(LedgerEntry.objects.all())
    counted = entries.filter(
        Q(transaction__kind=TransactionKind.PAYOUT) | Q(transaction__effective_at__lt=end)
    )
    owed_by_account = {
        account_id: -total
        for account_id, total in counted.values_list("account_id")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    earlier = counted.filter(
        Q(transaction__kind=TransactionKind.PAYOUT) | Q(transaction__effective_at__lt=start)
    )
    carried = -(earlier.aggregate(total=Sum("amount"))["total"] or Decimal(0))
    in_period = (
        counted.exclude(transaction__kind=TransactionKind.PAYOUT)
        .filter(transaction__effective_at__gte=start)
        .values("transaction__kind", "account__code")
        .annotate(total=Sum("amount"), count=Count("transaction", distinct=True))
        .order_by("transaction__kind", "account__code")
    )

    lines: list[PayoutLine] = []
    if carried:
        lines.append(
            PayoutLine(
                kind=PayoutLineKind.CARRIED_OVER,
                description="Carried over from earlier periods",
                amount=carried,
            )
        )
    grouped: dict[tuple[str, str], list[Decimal | int]] = defaultdict(lambda: [Decimal(0), 0])
    for row in in_period:
        kind, code = row["transaction__kind"], row["account__code"]
        if kind == TransactionKind.SESSION_CHARGE:
            key = (
                (PayoutLineKind.SESSIONS, "")
                if code == TENANT_REVENUE
                else (PayoutLineKind.TAXES, code[4:])
            )
        else:
            key = (_LINE_OF_KIND.get(kind, PayoutLineKind.CORRECTIONS), "")
        grouped[key][0] -= row["total"]
        grouped[key][1] = max(grouped[key][1], row["count"])
    descriptions = {
        PayoutLineKind.SESSIONS: "Charging sessions, net of platform fees",
        PayoutLineKind.REFUNDS: "Refunds to drivers",
        PayoutLineKind.CORRECTIONS: "Corrections",
        PayoutLineKind.RETURNED: "Payouts returned by the bank",
    }
    order = [
        PayoutLineKind.SESSIONS,
        PayoutLineKind.TAXES,
        PayoutLineKind.REFUNDS,
        PayoutLineKind.CORRECTIONS,
        PayoutLineKind.RETURNED,
    ]
    for (kind, code), (amount, count) in sorted(
        grouped.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
    ):
        if not amount:
            continue
        description = (
            f"Tax collected: {code}" if kind == PayoutLineKind.TAXES else descriptions[kind]
        )
        lines.append(PayoutLine(kind=kind, description=description, count=count, amount=amount))
    total = money_sum((line.amount for line in lines), currency)
    if total != money_sum(owed_by_account.values(), currency):
        raise RuntimeError("The payout statement does not add up to the ledger")
    return lines, owed_by_account


def _payout_for(period_start: date) -> Payout:
    tenant = connection.tenant
    payout, _ = Payout.objects.get_or_create(
        period_start=period_start,
        defaults={
            "period_end": next_month(period_start),
            "currency": tenant.currency,
            "message_id": f"CG-{tenant.pk}-{period_start:%Y%m}",
        },
    )
    return payout


def payout_run(*, period_start: date, now: datetime | None = None) -> Payout:
    """Build the payout of the month starting ``period_start`` (idempotent, see module)."""
    period_start = month_start(period_start)
    now = now or timezone.now()
    if _local_midnight(next_month(period_start)) > now:
        raise ValueError(f"{period_start:%Y-%m} has not ended yet")
    payout = _payout_for(period_start)
    with transaction.atomic():
        claimed = Payout.objects.filter(pk=payout.pk, status=PayoutStatus.PENDING).update(
            status=PayoutStatus.BUILDING, attempts=F("attempts") + 1
        )
        if claimed != 1:
            payout = Payout.objects.get(pk=payout.pk)
            if payout.status == PayoutStatus.NEEDS_BANK_DETAILS:
                return payout_attach_bank_file(payout=payout, now=now)
            return payout
        payout = Payout.objects.get(pk=payout.pk)
        _build(payout, now)
    return payout


def _build(payout: Payout, now: datetime) -> None:
    currency = payout.currency
    lines, owed_by_account = payout_statement(payout.period_start)
    for position, line in enumerate(lines, start=1):
        line.payout, line.position = payout, position
    PayoutLine.objects.bulk_create(lines)
    owed = money_sum(owed_by_account.values(), currency)
    payout.built_at = now
    if owed <= 0:
        payout.amount = zero(currency)
        payout.status = PayoutStatus.NOTHING_TO_PAY
        payout.save(update_fields=["amount", "status", "built_at"])
        return
    accounts = {a.pk: a for a in _accounts(owed_by_account)}
    postings = [(accounts[pk], amount) for pk, amount in owed_by_account.items()]
    postings.append((ledger_account(PAYOUTS_DUE), -owed))
    post_transaction(
        kind=TransactionKind.PAYOUT,
        idempotency_key=f"payout:{payout.period_start:%Y-%m}",
        effective_at=now,
        postings=postings,
        memo=f"Payout {payout.period_start:%B %Y}",
        currency=currency,
        payout=payout,
    )
    payout.amount = owed
    _attach(payout, now)
    payout.save(
        update_fields=[
            "amount",
            "status",
            "built_at",
            "bank_file",
            "bank_file_format",
            "creditor_name",
            "creditor_account",
        ]
    )


def _accounts(owed_by_account: dict[int, Decimal]):
    return LedgerAccount.objects.filter(pk__in=list(owed_by_account))


def _execution_date(now: datetime) -> date:
    day = now.astimezone(ZoneInfo(connection.tenant.timezone)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _creditor() -> BankAccount:
    profile = billing_profile()
    return BankAccount(
        name=profile.payout_account_holder,
        iban=profile.payout_iban,
        account_number=profile.payout_account_number,
        clearing_system=profile.payout_clearing_system,
        clearing_member_id=profile.payout_clearing_member_id,
        bic=profile.payout_bic,
        country=profile.payout_country,
    )


def _attach(payout: Payout, now: datetime) -> None:
    """Write and validate the bank file, or mark the payout as waiting for bank details."""
    profile = billing_profile()
    debtor_data = conf.payout_debtor(payout.currency)
    creditor = _creditor()
    if (
        debtor_data is None
        or creditor.problems()
        or BankAccount.from_mapping(debtor_data).problems()
    ):
        payout.status = PayoutStatus.NEEDS_BANK_DETAILS
        return
    version = profile.payout_file_format
    if version == BankFileFormat.CPA_005:
        document = _cpa005_file(payout, now, creditor, debtor_data)
        if document is None:
            payout.status = PayoutStatus.NEEDS_BANK_DETAILS
            return
    else:
        document = build_pain001(
            message_id=payout.message_id,
            created_at=now,
            debtor=BankAccount.from_mapping(debtor_data),
            execution_date=_execution_date(now),
            transfers=[
                CreditTransfer(
                    end_to_end_id=payout.message_id,
                    amount=payout.amount,
                    currency=payout.currency,
                    creditor=creditor,
                    remittance=f"chargegrid payout {payout.period_start:%Y-%m}",
                )
            ],
            version=version,
        )
        validate_pain001(document, version)  # never store a file the bank would reject
    payout.bank_file = document.decode()
    payout.bank_file_format = version
    payout.creditor_name = creditor.name
    payout.creditor_account = creditor.masked
    payout.status = PayoutStatus.READY


def cpa005_file_number() -> int:
    """The next CPA-005 file creation number (1-9999, then around again).

    The platform is the originator of every tenant's file, and its bank wants each file
    number unique per originator, so the counter is one sequence in the public schema
    (migration 0003), not a per-tenant counter.  A rolled-back build leaves a gap, which
    banks accept; a repeated number does not happen within 9,999 files.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('public.billing_cpa005_file_number')")
        (number,) = cursor.fetchone()
    return int(number)


def _cpa005_file(payout: Payout, now: datetime, creditor: BankAccount, debtor_data) -> bytes | None:
    """The payout as a CPA-005 credit, or ``None`` when an account does not fit the format
    (CPA-005 identifies Canadian accounts by institution + transit + account number)."""
    originator = cpa005.Originator.from_mapping(debtor_data)
    payee_problems = cpa005.institution_problems(
        creditor.clearing_member_id, "payee"
    ) + cpa005.account_problems(creditor.account_number, "payee")
    if originator.problems() or payee_problems or payout.currency not in cpa005.CURRENCIES:
        return None
    local_now = now.astimezone(ZoneInfo(connection.tenant.timezone))
    return cpa005.build_cpa005(
        originator=originator,
        file_number=cpa005_file_number(),
        created_on=local_now.date(),
        due=_execution_date(now),
        currency=payout.currency,
        credits=[
            cpa005.Credit(
                amount=payout.amount,
                payee_name=creditor.name,
                payee_institution=creditor.clearing_member_id,
                payee_account=creditor.account_number,
                cross_reference=payout.message_id,
                sundry=f"PAYOUT {payout.period_start:%Y-%m}",
            )
        ],
        transaction_type=str(
            debtor_data.get("cpa005_transaction_type") or cpa005.DEFAULT_TRANSACTION_TYPE
        ),
    )


def payout_attach_bank_file(*, payout: Payout, now: datetime | None = None) -> Payout:
    """Retry the bank file of a payout that was waiting for bank details."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Payout.objects.filter(
            pk=payout.pk, status=PayoutStatus.NEEDS_BANK_DETAILS
        ).update(status=PayoutStatus.BUILDING)
        payout = Payout.objects.get(pk=payout.pk)
        if claimed != 1:
            return payout
        _attach(payout, now)
        payout.save(
            update_fields=[
                "status",
                "bank_file",
                "bank_file_format",
                "creditor_name",
                "creditor_account",
            ]
        )
    return payout


def payout_run_due(*, now: datetime | None = None) -> Payout:
    """The scheduled entry point: the last month that has ended on the tenant's clock."""
    now = now or timezone.now()
    return payout_run(period_start=last_completed_month(now), now=now)


def _transition(payout: Payout, source: tuple[str, ...], target: str, **fields) -> bool:
    return (
        Payout.objects.filter(pk=payout.pk, status__in=source).update(status=target, **fields) == 1
    )


@transaction.atomic
def payout_mark_sent(*, payout: Payout) -> Payout:
    _transition(payout, (PayoutStatus.READY,), PayoutStatus.SENT, sent_at=timezone.now())
    return Payout.objects.get(pk=payout.pk)


@transaction.atomic
def payout_mark_paid(*, payout: Payout) -> Payout:
    """The bank confirmed the transfer: the money has left the platform's account."""
    if _transition(
        payout, (PayoutStatus.READY, PayoutStatus.SENT), PayoutStatus.PAID, paid_at=timezone.now()
    ):
        post_transaction(
            kind=TransactionKind.PAYOUT_SETTLED,
            idempotency_key=f"payout:{payout.period_start:%Y-%m}:settled",
            effective_at=timezone.now(),
            postings=[
                (ledger_account(PAYOUTS_DUE), payout.amount),
                (ledger_account(CASH_BANK), -payout.amount),
            ],
            memo=f"Payout {payout.message_id} paid",
            currency=payout.currency,
            payout=payout,
        )
    return Payout.objects.get(pk=payout.pk)


@transaction.atomic
def payout_mark_returned(*, payout: Payout, reason: str, actor: str) -> Payout:
    """The bank returned the transfer (closed account...): the money is owed again and goes
    out with the next payout, once the bank details are fixed."""
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    was_paid = payout.status == PayoutStatus.PAID
    if not _transition(payout, (PayoutStatus.SENT, PayoutStatus.PAID), PayoutStatus.RETURNED):
        return payout
    key = f"payout:{payout.period_start:%Y-%m}"
    if was_paid:
        reverse_transaction(
            original=LedgerTransaction.objects.get(idempotency_key=f"{key}:settled"),
            idempotency_key=f"{key}:settled:returned",
            kind=TransactionKind.PAYOUT_RETURNED,
            memo=reason,
            actor=actor,
        )
    reverse_transaction(
        original=LedgerTransaction.objects.get(idempotency_key=key),
        idempotency_key=f"{key}:returned",
        kind=TransactionKind.PAYOUT_RETURNED,
        memo=reason,
        actor=actor,
    )
    return Payout.objects.get(pk=payout.pk)


__all__ = [
    "BankFileError",
    "last_completed_month",
    "payout_attach_bank_file",
    "payout_mark_paid",
    "payout_mark_returned",
    "payout_mark_sent",
    "payout_run",
    "payout_run_due",
    "payout_statement",
]
