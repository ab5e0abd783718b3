"""Stripe, spoken over HTTP with the standard library (no SDK): PaymentIntents for session
charges and top-ups, Refunds, and signed webhooks.

Requests are form-encoded with ``Authorization: Bearer``, ``Idempotency-Key`` (our payment's
key, so a retry returns Stripe's first answer instead of charging twice) and a pinned
``Stripe-Version``.  Amounts are integers in the currency's minor unit.  Card errors (HTTP 402)
are answers, not exceptions: the payment failed or needs the driver (``authentication_required``
for an off-session charge).  Configuration problems raise ``ProviderError``; rate limits,
server errors and network failures raise ``TransientProviderError`` so the task retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from ..choices import PaymentStatus, Provider
from ..money import to_minor_units
from .base import (
    ChargeRequest,
    ProviderError,
    ProviderResult,
    RefundRequest,
    TransientProviderError,
)

# Currencies where Stripe's amount unit differs from ISO 4217's minor unit.
_STRIPE_SPECIAL_CURRENCIES = {"HUF", "ISK", "TWD", "UGX"}

_INTENT_STATUS = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "requires_confirmation": PaymentStatus.REQUIRES_ACTION,
    "requires_payment_method": PaymentStatus.FAILED,
    "canceled": PaymentStatus.FAILED,
}
_REFUND_STATUS = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "pending": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "failed": PaymentStatus.FAILED,
    "canceled": PaymentStatus.FAILED,
}

Transport = Callable[[str, str, dict[str, str], bytes | None, float], tuple[int, bytes]]


def urllib_transport(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise TransientProviderError(f"Stripe unreachable: {error}") from error


def form_encode(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's bracket notation: ``{"metadata": {"a": "1"}}`` -> ``metadata[a]=1``."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs += form_encode(value, name)
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


class StripeProvider:
    name = Provider.STRIPE

    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str = "https://api.stripe.com",
        api_version: str = "2024-06-20",
        transport: Transport = urllib_transport,
        timeout: float = 30.0,
    ) -> None:
        if not secret_key:
            raise ProviderError("Stripe is not configured (STRIPE_SECRET_KEY)")
        self.secret_key = secret_key
        self.api_base = api_base.rstrip("/")
        self.api_version = api_version
        self.transport = transport
        self.timeout = timeout

    def _amount(self, amount, currency: str) -> int:
        if currency in _STRIPE_SPECIAL_CURRENCIES:
            raise ProviderError(f"{currency} amounts follow special rules at Stripe; not supported")
        return to_minor_units(amount, currency)

    def _post(self, path: str, data: dict[str, Any], idempotency_key: str) -> tuple[int, dict]:
        body = urllib.parse.urlencode(form_encode(data)).encode()
        headers = {
            "Authorization": f"Bearer {self.secret_key}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": idempotency_key,
            "Stripe-Version": self.api_version,
        }
        status, raw = self.transport("POST", f"{self.api_base}{path}", headers, body, self.timeout)
        try:
            payload = json.loads(raw or b"{}")
        except ValueError as error:
            raise TransientProviderError(f"Stripe answered {status} with no JSON") from error
        if status == 429 or status >= 500:
            raise TransientProviderError(f"Stripe answered {status}: {_message(payload)}")
        if status >= 400 and status != 402:
            raise ProviderError(f"Stripe refused the request ({status}): {_message(payload)}")
        return status, payload

    def charge(self, request: ChargeRequest) -> ProviderResult:
        data: dict[str, Any] = {
            "amount": self._amount(request.amount, request.currency),
            "currency": request.currency.lower(),
            "customer": request.customer_reference or None,
            "payment_method": request.payment_method or None,
            "confirm": True,
            "off_session": True,
            "description": request.description[:1000],
            "metadata": {**request.metadata, "idempotency_key": request.idempotency_key},
        }
        status, payload = self._post("/v1/payment_intents", data, request.idempotency_key)
        if status == 402:
            error = payload.get("error", {})
            intent = error.get("payment_intent") or {}
            code = error.get("decline_code") or error.get("code") or "card_error"
            outcome = (
                PaymentStatus.REQUIRES_ACTION
                if error.get("code") == "authentication_required"
                else PaymentStatus.FAILED
            )
            return ProviderResult(
                outcome,
                reference=intent.get("id", ""),
                failure_code=code,
                failure_message=error.get("message", "")[:300],
                raw=payload,
            )
        return _intent_result(payload)

    def refund(self, request: RefundRequest) -> ProviderResult:
        data = {
            "payment_intent": request.payment_reference,
            "amount": self._amount(request.amount, request.currency),
            "reason": "requested_by_customer",
            "metadata": {
                **request.metadata,
                "idempotency_key": request.idempotency_key,
                "note": request.reason[:500],
            },
        }
        status, payload = self._post("/v1/refunds", data, request.idempotency_key)
        if status == 402:
            error = payload.get("error", {})
            return ProviderResult(
                PaymentStatus.FAILED,
                failure_code=error.get("code", "refund_failed"),
                failure_message=error.get("message", "")[:300],
                raw=payload,
            )
        return ProviderResult(
            _REFUND_STATUS.get(payload.get("status", ""), PaymentStatus.PENDING),
            reference=payload.get("id", ""),
            failure_code=payload.get("failure_reason") or "",
            raw=payload,
        )


def _message(payload: dict) -> str:
    return str(payload.get("error", {}).get("message", ""))[:300]


def _intent_result(intent: dict[str, Any]) -> ProviderResult:
    status = _INTENT_STATUS.get(intent.get("status", ""), PaymentStatus.PENDING)
    error = intent.get("last_payment_error") or {}
    return ProviderResult(
        status,
        reference=intent.get("id", ""),
        failure_code=(error.get("decline_code") or error.get("code") or "")
        if status == PaymentStatus.FAILED
        else "",
        failure_message=str(error.get("message", ""))[:300]
        if status == PaymentStatus.FAILED
        else "",
        raw=intent,
    )


# --- Webhooks ------------------------------------------------------------------------------


class WebhookError(ValueError):
    pass


def verify_webhook(
    payload: bytes,
    signature_header: str,
    secret: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a ``Stripe-Signature`` header (``t=<unix>,v1=<hex hmac>``) and return the event.

    The signature is HMAC-SHA256 of ``"<t>.<raw body>"`` with the endpoint's secret; events
    older than ``tolerance`` seconds are refused (replays).
    """
    if not secret:
        raise WebhookError("STRIPE_WEBHOOK_SECRET is not configured")
    timestamp, signatures = None, []
    for item in signature_header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise WebhookError("Malformed Stripe-Signature header")
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookError("Signature does not match")
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        raise WebhookError("Event too old (possible replay)")
    try:
        return json.loads(payload)
    except ValueError as error:
        raise WebhookError("Body is not JSON") from error


def webhook_outcome(event: dict[str, Any]) -> tuple[str, ProviderResult] | None:
    """``(our idempotency key or Stripe id, result)`` for the events we act on, else None."""
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    key = (obj.get("metadata") or {}).get("idempotency_key") or obj.get("id", "")
    if kind in (
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
    ):
        return key, _intent_result(obj)
    if kind in ("refund.updated", "refund.created", "refund.failed"):
        return key, ProviderResult(
            _REFUND_STATUS.get(obj.get("status", ""), PaymentStatus.PENDING),
            reference=obj.get("id", ""),
            failure_code=obj.get("failure_reason") or "",
            raw=obj,
        )
    return None
