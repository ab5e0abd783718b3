"""Payment providers behind one interface; ``provider_for`` picks one by name."""

from __future__ import annotations

from ..choices import Provider
from ..conf import stripe_settings
from .base import (
    ChargeRequest,
    PaymentProvider,
    ProviderError,
    ProviderResult,
    RefundRequest,
    TransientProviderError,
)
from .internal import InternalProvider
from .stripe import StripeProvider


def provider_for(name: str) -> PaymentProvider:
    """The provider called ``name``, configured from settings (Stripe: STRIPE_* variables)."""
    if name == Provider.INTERNAL:
        return InternalProvider()
    if name == Provider.STRIPE:
        config = stripe_settings()
        return StripeProvider(
            secret_key=config.secret_key, api_base=config.api_base, api_version=config.api_version
        )
    raise ProviderError(f"Unknown payment provider {name!r}")


__all__ = [
    "ChargeRequest",
    "PaymentProvider",
    "ProviderError",
    "ProviderResult",
    "RefundRequest",
    "TransientProviderError",
    "provider_for",
]
