"""Celery tasks of billing: thin, tenant-aware (the schema travels with the task), idempotent.

Each takes ids, calls one service and may run twice without harm: the services are
idempotent by construction (unique keys, conditional updates).
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError, connection

from . import queue
from .providers import TransientProviderError
from .services import (
    invoices_issue,
    payment_collect,
    payment_refund_send,
    payout_run,
    payout_run_due,
    session_bill,
    sessions_bill_unbilled,
)
from .services.costs import cost_updates_due, session_cost_update_send
from .services.display import station_price_display_push
from .services.payouts import last_completed_month, next_month
from .services.receipts import receipt_email_send


def _in_tenant() -> bool:
    # Without a tenant schema these tasks would read the public schema: refuse quietly.
    return connection.schema_name != "public"


@shared_task(
    name="billing.bill_session",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
)
def bill_session(session_id: int) -> int | None:
    if not _in_tenant():
        return None
    cost = session_bill(session_id=session_id)
    return cost.pk if cost else None


@shared_task(
    name="billing.bill_unbilled_sessions", autoretry_for=(OperationalError,), max_retries=3
)
def bill_unbilled_sessions() -> int:
    """Hourly safety net: price finished sessions that have no cost yet."""
    if not _in_tenant():
        return 0
    return sessions_bill_unbilled()


@shared_task(
    name="billing.collect_payment",
    autoretry_for=(TransientProviderError, OperationalError),
    retry_backoff=True,
    max_retries=10,
)
def collect_payment(session_cost_id: int) -> str | None:
    if not _in_tenant():
        return None
    payment = payment_collect(session_cost_id=session_cost_id)
    return payment.status if payment else None


@shared_task(
    name="billing.refund_payment",
    autoretry_for=(TransientProviderError, OperationalError),
    retry_backoff=True,
    max_retries=10,
)
def refund_payment(payment_id: int) -> str | None:
    if not _in_tenant():
        return None
    return payment_refund_send(payment_id=payment_id).status


@shared_task(
    name="billing.run_monthly_payout",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=8,
)
def run_monthly_payout(period: str | None = None) -> str | None:
    """The payout of ``period`` ("2026-02"), or of the last month that ended locally."""
    if not _in_tenant():
        return None
    if period:
        payout = payout_run(period_start=date.fromisoformat(f"{period}-01"))
    else:
        payout = payout_run_due()
    return payout.status


@shared_task(name="billing.issue_driver_invoices", autoretry_for=(OperationalError,), max_retries=8)
def issue_driver_invoices(period: str | None = None) -> int:
    if not _in_tenant():
        return 0
    start = date.fromisoformat(f"{period}-01") if period else last_completed_month()
    return len(invoices_issue(period_start=start, period_end=next_month(start)))


@shared_task(
    name="billing.email_receipt",
    autoretry_for=(OperationalError, OSError),  # SMTP errors are OSErrors
    retry_backoff=True,
    max_retries=8,
)
def email_receipt(session_cost_id: int) -> bool:
    if not _in_tenant():
        return False
    return receipt_email_send(session_cost_id=session_cost_id) is not None


@shared_task(name="billing.push_price_display")
def push_price_display(station_id: int) -> str | None:
    if not _in_tenant():
        return None
    cache.delete(queue.display_key(station_id))
    return station_price_display_push(station_id=station_id)


@shared_task(name="billing.send_cost_update")
def send_cost_update(session_id: int) -> str | None:
    if not _in_tenant():
        return None
    return session_cost_update_send(session_id=session_id)


@shared_task(name="billing.send_cost_updates")
def send_cost_updates() -> int:
    """Every minute: queue CostUpdated for the running sessions whose interval has passed."""
    if not _in_tenant():
        return 0
    due = cost_updates_due()
    for session_id in due:
        send_cost_update.delay(session_id)
    return len(due)
