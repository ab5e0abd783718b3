"""The provider that works out of the box: prepaid balances and monthly invoices.

The driver's money is already with us (a prepaid top-up) or will come by invoice, so a charge
or a refund succeeds at once: the ledger posting on the driver's account is the movement.
Money that arrives outside any provider (a bank transfer paying an invoice, cash at a desk) is
recorded by an administrator with its bank reference.
"""

from __future__ import annotations

from ..choices import PaymentStatus, Provider
from .base import ChargeRequest, ProviderResult, RefundRequest


class InternalProvider:
    name = Provider.INTERNAL

    def charge(self, request: ChargeRequest) -> ProviderResult:
        return ProviderResult(
            PaymentStatus.SUCCEEDED, reference=f"internal:{request.idempotency_key}"
        )

    def refund(self, request: RefundRequest) -> ProviderResult:
        return ProviderResult(
            PaymentStatus.SUCCEEDED, reference=f"internal:{request.idempotency_key}"
        )
