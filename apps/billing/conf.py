"""Platform-level billing settings (the platform's, not a tenant's), read from Django settings.

The lead wires these in ``config/settings/base.py`` from the environment; every one has a
default that works in development:

* ``BILLING_PLATFORM_FEE_PERCENT`` / ``BILLING_PLATFORM_FEE_FIXED``: the platform's fee per
  priced session (percent of the price before tax, plus a fixed amount; default 0 and 0).
* ``BILLING_PAYOUT_DEBTOR``: the platform's bank account that pays tenants out, a dict with
  ``name``, ``iban`` or ``account_number`` + ``clearing_system`` + ``clearing_member_id``,
  optional ``bic`` and ``country`` (or such dicts by currency code, ``{"CAD": {...}}``).
  Without it payouts are computed and posted but no bank file is made.
  For CPA-005 files it also holds ``cpa005_originator_id``, ``cpa005_data_centre`` and
  optionally ``cpa005_short_name`` and ``cpa005_transaction_type``.
* ``BILLING_DISPLAY_TIMEOUT``: seconds to wait for a station's answer to the price display
  message (default 10).
* ``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``, ``STRIPE_API_BASE``
  (default ``https://api.stripe.com``), ``STRIPE_API_VERSION``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from .money import parse_decimal


@dataclass(frozen=True)
class PlatformFee:
    percent: Decimal
    fixed: Decimal


def platform_fee() -> PlatformFee:
    percent = parse_decimal(
        getattr(settings, "BILLING_PLATFORM_FEE_PERCENT", "0"),
        field="BILLING_PLATFORM_FEE_PERCENT",
        max_decimals=4,
    )
    fixed = parse_decimal(
        getattr(settings, "BILLING_PLATFORM_FEE_FIXED", "0"), field="BILLING_PLATFORM_FEE_FIXED"
    )
    if not Decimal(0) <= percent <= Decimal(100) or fixed < 0:
        raise ValueError("The platform fee must be 0-100 % and a non-negative fixed amount")
    return PlatformFee(percent=percent, fixed=fixed)


def payout_debtor(currency: str) -> dict[str, Any] | None:
    """The platform's paying account for ``currency``: ``BILLING_PAYOUT_DEBTOR`` is one
    account (a dict with ``name``...) or a dict of accounts by currency code."""
    debtor = getattr(settings, "BILLING_PAYOUT_DEBTOR", None) or {}
    if "name" not in debtor:
        debtor = debtor.get(currency) or {}
    return dict(debtor) if debtor else None


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str
    webhook_secret: str
    api_base: str
    api_version: str


def stripe_settings() -> StripeSettings:
    return StripeSettings(
        secret_key=getattr(settings, "STRIPE_SECRET_KEY", "") or "",
        webhook_secret=getattr(settings, "STRIPE_WEBHOOK_SECRET", "") or "",
        api_base=(getattr(settings, "STRIPE_API_BASE", "") or "https://api.stripe.com").rstrip("/"),
        api_version=getattr(settings, "STRIPE_API_VERSION", "") or "2024-06-20",
    )
