"""The payment-provider interface: one narrow adapter per provider (style guide, point 9).

A provider moves money; it never touches the ledger.  Services record what it answers and post
the ledger once a payment has succeeded.  Every call carries an idempotency key, so a retry
after a crash or a timeout can never move the money twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ..choices import PaymentStatus


class ProviderError(RuntimeError):
    """The provider refused the request itself (bad configuration, invalid parameters)."""


class TransientProviderError(ProviderError):
    """Network trouble, rate limits or a provider outage: retry later with the same key."""


@dataclass(frozen=True)
class ChargeRequest:
    amount: Decimal
    currency: str
    idempotency_key: str
    description: str
    customer_reference: str = ""  # the provider's customer id
    payment_method: str = ""  # the provider's saved payment method
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundRequest:
    amount: Decimal
    currency: str
    idempotency_key: str
    payment_reference: str  # the provider's id of the payment being refunded
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResult:
    status: PaymentStatus
    reference: str = ""
    failure_code: str = ""
    failure_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class PaymentProvider(Protocol):
    name: str

    def charge(self, request: ChargeRequest) -> ProviderResult: ...

    def refund(self, request: RefundRequest) -> ProviderResult: ...
