"""Driver payments: the internal provider (prepaid, invoices) and the Stripe adapter, tested at
its HTTP boundary against a local server that answers with Stripe's documented shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.billing import selectors, services
from apps.billing.choices import DriverAccountKind, InvoiceStatus, PaymentStatus, Provider
from apps.billing.models import Payment
from apps.billing.providers import (
    ChargeRequest,
    ProviderError,
    TransientProviderError,
    provider_for,
)
from apps.billing.providers.stripe import WebhookError, form_encode, verify_webhook
from tests.queued import record_tasks

from .conftest import record_session
from .helpers import at

D = Decimal
SECRET = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_test_secret"


class FakeStripe:
    """Answers like api.stripe.com: form-encoded requests, JSON answers, idempotent keys."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        self.fail_next_with: int | None = None
        self.counter = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = dict(urllib.parse.parse_qsl(body))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "form": form}
                )
                status, payload = fake.answer(self.path, self.headers, form)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path, headers, form) -> tuple[int, dict]:
        if headers.get("Authorization") != f"Bearer {SECRET}":
            return 401, {
                "error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}
            }
        if self.fail_next_with:
            status, self.fail_next_with = self.fail_next_with, None
            return status, {"error": {"type": "api_error", "message": "Something went wrong"}}
        key = headers.get("Idempotency-Key")
        if key in self.answers:  # Stripe replays the first answer for a reused key
            return self.answers[key]
        self.counter += 1
        if path == "/v1/payment_intents":
            result = self.payment_intent(form)
        elif path == "/v1/refunds":
            result = (
                200,
                {
                    "id": f"re_{self.counter}",
                    "object": "refund",
                    "amount": int(form["amount"]),
                    "currency": "cad",
                    "payment_intent": form["payment_intent"],
                    "status": "succeeded",
                    "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                },
            )
        else:
            result = (
                404,
                {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}},
            )
        self.answers[key] = result
        return result

    def payment_intent(self, form) -> tuple[int, dict]:
        intent = {
            "id": f"pi_{self.counter}",
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "customer": form.get("customer"),
            "payment_method": form.get("payment_method"),
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "status": "succeeded",
        }
        method = form.get("payment_method", "")
        if method == "pm_card_visa_chargeDeclinedInsufficientFunds":
            intent["status"] = "requires_payment_method"
            return 402, {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                    "payment_intent": intent,
                }
            }
        if method == "pm_card_authenticationRequired":
            intent["status"] = "requires_payment_method"
            return 402, {
                "error": {
                    "type": "card_error",
                    "code": "authentication_required",
                    "message": "This payment requires authentication.",
                    "payment_intent": intent,
                }
            }
        return 200, intent


@pytest.fixture
def stripe(settings):
    fake = FakeStripe()
    fake.thread.start()
    settings.STRIPE_SECRET_KEY = SECRET
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def priced(site, station, platform_fee):
    tariff = services.tariff_create(
        name="Public",
        definition={"currency": "CAD", "energy": [{"price_per_kwh": "0.25"}]},
        effective_from=at("2026-01-01 00:00"),
    )
    services.tariff_assign(tariff=tariff, site=site)
    return station


@pytest.fixture
def run_tasks_inline(monkeypatch):
    """Queued billing tasks run at once (as a worker would, in this tenant)."""
    record_tasks(
        monkeypatch,
        "billing.collect_payment",
        lambda pk: services.payment_collect(session_cost_id=pk),
    )
    record_tasks(
        monkeypatch,
        "billing.refund_payment",
        lambda pk: services.payment_refund_send(payment_id=pk),
    )


def card_driver(make_token, method="pm_card_visa"):
    return services.driver_account_create(
        name="Card driver",
        kind=DriverAccountKind.CARD,
        tokens=[make_token()],
        stripe_customer_id="cus_NffrFeUfNV2Hib",
        stripe_payment_method_id=method,
    )


def charge_session(station, driver, django_capture_on_commit_callbacks):
    session = record_session(
        station,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=10_000,
        token=driver.token_links.get().token,
    )
    with django_capture_on_commit_callbacks(execute=True):
        return services.session_bill(session_id=session.pk)


def test_a_card_session_is_charged_through_stripe(
    priced, stripe, make_token, run_tasks_inline, django_capture_on_commit_callbacks
):
    driver = card_driver(make_token)
    cost = charge_session(priced, driver, django_capture_on_commit_callbacks)

    request = stripe.requests[-1]
    assert request["path"] == "/v1/payment_intents"
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert request["headers"]["Idempotency-Key"] == f"charge:{cost.pk}"
    assert request["headers"]["Stripe-Version"]
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = request["form"]
    assert form["amount"] == "250" and form["currency"] == "cad"  # 10 kWh x 0.25, in cents
    assert (form["confirm"], form["off_session"]) == ("true", "true")
    assert form["customer"] == "cus_NffrFeUfNV2Hib" and form["payment_method"] == "pm_card_visa"
    assert form["metadata[receipt]"] == cost.receipt_number
    payment = Payment.objects.get(session_cost=cost)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.provider_reference.startswith(
        "pi_"
    )
    assert selectors.driver_balance(driver) == 0  # charged, then paid
    assert selectors.account_balance("cash:stripe") == cost.total
    assert selectors.ledger_total() == 0


def test_a_retry_after_a_crash_never_charges_twice(priced, stripe, make_token, alpha):
    driver = card_driver(make_token)
    session = record_session(
        priced,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=10_000,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)  # the collect task is not run here
    # A worker charged the card and died before recording the answer...
    provider_for(Provider.STRIPE).charge(
        ChargeRequest(
            amount=cost.total, currency="CAD", idempotency_key=f"charge:{cost.pk}", description="x"
        )
    )
    # ...the retry sends the same key; Stripe answers with the same PaymentIntent.
    services.payment_collect(session_cost_id=cost.pk)
    services.payment_collect(session_cost_id=cost.pk)  # and a third run does not call at all
    assert len(stripe.requests) == 2 and stripe.counter == 1
    assert selectors.account_balance("cash:stripe") == cost.total


def test_a_declined_card_leaves_the_debt_on_the_account(
    priced, stripe, make_token, run_tasks_inline, django_capture_on_commit_callbacks
):
    driver = card_driver(make_token, "pm_card_visa_chargeDeclinedInsufficientFunds")
    cost = charge_session(priced, driver, django_capture_on_commit_callbacks)
    payment = Payment.objects.get(session_cost=cost)
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_code == "insufficient_funds"
    assert "insufficient funds" in payment.failure_message
    assert selectors.driver_balance(driver) == -cost.total
    assert selectors.account_balance("cash:stripe") == 0


def test_an_off_session_charge_that_needs_the_driver(
    priced, stripe, make_token, run_tasks_inline, django_capture_on_commit_callbacks
):
    driver = card_driver(make_token, "pm_card_authenticationRequired")
    cost = charge_session(priced, driver, django_capture_on_commit_callbacks)
    assert Payment.objects.get(session_cost=cost).status == PaymentStatus.REQUIRES_ACTION


def test_stripe_outages_are_retried_with_the_same_key(priced, stripe, make_token, alpha):
    driver = card_driver(make_token)
    session = record_session(
        priced,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=10_000,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)
    stripe.fail_next_with = 503
    with pytest.raises(TransientProviderError):
        services.payment_collect(session_cost_id=cost.pk)
    assert Payment.objects.get(session_cost=cost).status == PaymentStatus.PENDING
    services.payment_collect(session_cost_id=cost.pk)
    assert Payment.objects.get(session_cost=cost).status == PaymentStatus.SUCCEEDED
    keys = {r["headers"]["Idempotency-Key"] for r in stripe.requests}
    assert keys == {f"charge:{cost.pk}"}


def test_a_wrong_key_is_a_configuration_error(priced, stripe, settings, make_token, alpha):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"
    with pytest.raises(ProviderError, match="Invalid API Key"):
        provider_for(Provider.STRIPE).charge(
            ChargeRequest(amount=D("1.00"), currency="CAD", idempotency_key="k", description="x")
        )


def test_refunding_a_card_session_returns_the_money_through_stripe(
    priced, stripe, make_token, run_tasks_inline, django_capture_on_commit_callbacks
):
    driver = card_driver(make_token)
    cost = charge_session(priced, driver, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_refund(cost=cost, reason="Charger fault", actor="owner")
    request = stripe.requests[-1]
    charge = Payment.objects.get(session_cost=cost, kind="charge")
    assert request["path"] == "/v1/refunds"
    assert request["form"]["payment_intent"] == charge.provider_reference
    assert request["form"]["amount"] == "250"
    refund = Payment.objects.get(session_cost=cost, kind="refund")
    assert refund.status == PaymentStatus.SUCCEEDED and refund.refund_of == charge
    assert selectors.driver_balance(driver) == 0
    assert selectors.account_balance("cash:stripe") == 0
    assert {a.code: t for a, t in selectors.trial_balance() if t} == {}


def sign(payload: bytes, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def test_webhook_signatures():
    payload = b'{"id": "evt_1", "type": "payment_intent.succeeded"}'
    now = int(time.time())
    assert verify_webhook(payload, sign(payload, now), WEBHOOK_SECRET)["id"] == "evt_1"
    with pytest.raises(WebhookError, match="does not match"):
        verify_webhook(payload + b" ", sign(payload, now), WEBHOOK_SECRET)
    with pytest.raises(WebhookError, match="does not match"):
        verify_webhook(payload, sign(payload, now, "whsec_other"), WEBHOOK_SECRET)
    with pytest.raises(WebhookError, match="too old"):
        verify_webhook(payload, sign(payload, now - 600), WEBHOOK_SECRET)
    with pytest.raises(WebhookError, match="Malformed"):
        verify_webhook(payload, "v1=abc", WEBHOOK_SECRET)


def test_a_webhook_and_the_api_answer_post_the_payment_once(priced, stripe, make_token, alpha):
    driver = card_driver(make_token)
    session = record_session(
        priced,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=10_000,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)
    payment = services.payment_collect(session_cost_id=cost.pk)
    event = {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": payment.provider_reference,
                "object": "payment_intent",
                "status": "succeeded",
                "metadata": {"idempotency_key": payment.idempotency_key},
            }
        },
    }
    services.stripe_event_handle(event)
    services.stripe_event_handle(event)  # Stripe delivers at least once
    assert selectors.account_balance("cash:stripe") == cost.total
    assert (
        services.stripe_event_handle({"type": "customer.created", "data": {"object": {}}}) is None
    )


def test_stripe_top_up(stripe, make_token, alpha):
    driver = card_driver(make_token)
    payment = services.wallet_top_up(
        account=driver, amount=D("25.00"), provider=Provider.STRIPE, request_key="a1"
    )
    assert payment.status == PaymentStatus.SUCCEEDED
    assert stripe.requests[-1]["form"]["amount"] == "2500"
    again = services.wallet_top_up(
        account=driver, amount=D("25.00"), provider=Provider.STRIPE, request_key="a1"
    )
    assert again.pk == payment.pk and len(stripe.requests) == 1
    assert selectors.driver_balance(driver) == D("25.00")


def test_form_encoding_follows_stripe_brackets():
    assert form_encode({"a": 1, "confirm": True, "metadata": {"x": "y"}, "skip": None}) == [
        ("a", "1"),
        ("confirm", "true"),
        ("metadata[x]", "y"),
    ]


def test_monthly_invoice_for_an_invoice_account(priced, make_token, clock):
    fleet = services.driver_account_create(
        name="Fleet Co", kind=DriverAccountKind.INVOICE, tokens=[make_token()]
    )
    token = fleet.token_links.get().token
    costs = [
        services.session_bill(
            session_id=record_session(
                priced,
                start=at(f"2026-02-{day:02d} 10:00"),
                end=at(f"2026-02-{day:02d} 11:00"),
                energy_wh=8_000,
                token=token,
            ).pk
        )
        for day in (3, 10, 17)
    ]
    invoice = services.invoice_issue(
        account=fleet, period_start=date(2026, 2, 1), period_end=date(2026, 3, 1)
    )
    assert invoice.session_count == 3
    assert invoice.amount_due == invoice.sessions_total == sum(c.total for c in costs)
    assert invoice.number.startswith("INV-")
    again = services.invoice_issue(
        account=fleet, period_start=date(2026, 2, 1), period_end=date(2026, 3, 1)
    )
    assert again.pk == invoice.pk
    clock(at("2026-03-15 10:00"))
    paid = services.invoice_mark_paid(invoice=invoice, reference="EFT 0042")
    services.invoice_mark_paid(invoice=invoice, reference="EFT 0042")
    assert paid.status == InvoiceStatus.PAID
    assert selectors.driver_balance(fleet) == 0
    assert selectors.account_balance("cash:internal") == invoice.amount_due


def test_a_prepaid_driver_without_funds_cannot_start(station, make_token):
    from apps.charging.choices import AuthorizationStatus
    from apps.charging.services import authorize

    token = make_token("PREPAID-1")
    driver = services.driver_account_create(
        name="Pre", kind=DriverAccountKind.PREPAID, tokens=[token]
    )
    assert authorize(uid="PREPAID-1", station_id=station.pk).status == AuthorizationStatus.BLOCKED
    services.wallet_top_up(account=driver, amount=D("5.00"))
    assert authorize(uid="PREPAID-1", station_id=station.pk).status == AuthorizationStatus.ACCEPTED
    fleet = services.driver_account_create(
        name="Fleet",
        kind=DriverAccountKind.INVOICE,
        tokens=[make_token("FLEET-1")],
        credit_limit=D("0"),
    )
    assert authorize(uid="FLEET-1", station_id=station.pk).accepted  # no limit
    fleet.is_active = False
    fleet.save()
    assert authorize(uid="FLEET-1", station_id=station.pk).status == AuthorizationStatus.BLOCKED
    assert authorize(uid="NOBODY", station_id=station.pk).status == AuthorizationStatus.INVALID


def test_a_refund_made_while_the_card_charge_was_in_flight_reaches_the_card(
    priced, stripe, make_token, run_tasks_inline, django_capture_on_commit_callbacks
):
    driver = card_driver(make_token)
    session = record_session(
        priced,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=10_000,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)  # charge not collected yet
    stripe.fail_next_with = 503
    with pytest.raises(TransientProviderError):  # the charge is in flight (pending)
        services.payment_collect(session_cost_id=cost.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_refund(cost=cost, amount=D("1.00"), reason="slow charger", actor="owner")
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_collect(session_cost_id=cost.pk)  # the retry goes through
    refunds = Payment.objects.filter(session_cost=cost, kind="refund")
    assert [(p.amount, p.status) for p in refunds] == [(D("1.0000"), PaymentStatus.SUCCEEDED)]
    assert (
        stripe.requests[-1]["path"] == "/v1/refunds"
        and stripe.requests[-1]["form"]["amount"] == "100"
    )
    assert selectors.driver_balance(driver) == 0
    assert selectors.account_balance("cash:stripe") == cost.total - D("1.00")


def test_a_refund_before_collection_is_left_out_of_the_charge(
    priced, stripe, make_token, run_tasks_inline, django_capture_on_commit_callbacks
):
    driver = card_driver(make_token)
    session = record_session(
        priced,
        start=at("2026-03-02 10:00"),
        end=at("2026-03-02 11:00"),
        energy_wh=10_000,
        token=driver.token_links.get().token,
    )
    cost = services.session_bill(session_id=session.pk)
    services.session_refund(cost=cost, amount=D("1.00"), reason="goodwill", actor="owner")
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.payment_collect(session_cost_id=cost.pk)
    assert payment.amount == cost.total - D("1.00")
    assert stripe.requests[-1]["form"]["amount"] == str(int((cost.total - D("1.00")) * 100))
    assert not Payment.objects.filter(session_cost=cost, kind="refund").exists()
    assert selectors.driver_balance(driver) == 0
