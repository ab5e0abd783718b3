"""Writes of the billing app (style guide, point 2): every change of billing data goes
through one of these functions.  Grouped by subject in the modules of this package."""

from .ledger import post_transaction, reverse_transaction
from .payments import (
    invoice_issue,
    invoice_mark_paid,
    invoices_issue,
    payment_collect,
    payment_record_result,
    payment_refund_send,
    stripe_event_handle,
    wallet_top_up,
)
from .payouts import (
    payout_attach_bank_file,
    payout_mark_paid,
    payout_mark_returned,
    payout_mark_sent,
    payout_run,
    payout_run_due,
)
from .pricing import (
    billing_profile_update,
    driver_account_create,
    driver_account_link_token,
    driver_group_add_tokens,
    driver_group_create,
    price_start,
    tariff_assign,
    tariff_create,
    tariff_unassign,
    tariff_version_add,
    tax_rate_delete,
    tax_rate_set,
    tax_rate_update,
)
from .sessions import BillingError, session_bill, session_refund, sessions_bill_unbilled

__all__ = [
    "BillingError",
    "billing_profile_update",
    "driver_account_create",
    "driver_account_link_token",
    "driver_group_add_tokens",
    "driver_group_create",
    "invoice_issue",
    "invoice_mark_paid",
    "invoices_issue",
    "payment_collect",
    "payment_record_result",
    "payment_refund_send",
    "payout_attach_bank_file",
    "payout_mark_paid",
    "payout_mark_returned",
    "payout_mark_sent",
    "payout_run",
    "payout_run_due",
    "post_transaction",
    "reverse_transaction",
    "session_bill",
    "session_refund",
    "sessions_bill_unbilled",
    "stripe_event_handle",
    "price_start",
    "tariff_assign",
    "tariff_create",
    "tariff_unassign",
    "tariff_version_add",
    "tax_rate_delete",
    "tax_rate_set",
    "tax_rate_update",
    "wallet_top_up",
]
