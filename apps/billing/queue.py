"""Work billing queues for its Celery workers (``tasks.py``), sent by task name after the
current transaction commits (apps/core/queue.py: services import this, never ``tasks``)."""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.db import transaction

from apps.core.queue import send, send_after_commit

DISPLAY_DEBOUNCE_SECONDS = 2  # a connect and a boot (or a burst of edits) make one push
DISPLAY_PENDING_TTL = 60


def display_key(station_id: int) -> str:
    return f"billing:price-display:{station_id}"  # the cache's key function adds the schema


def bill_session(session_id: int) -> None:
    send_after_commit("billing.bill_session", (session_id,))


def send_cost_update(session_id: int) -> None:
    send_after_commit("billing.send_cost_update", (session_id,))


def collect_payment(session_cost_id: int) -> None:
    send_after_commit("billing.collect_payment", (session_cost_id,))


def refund_payment(payment_id: int) -> None:
    send_after_commit("billing.refund_payment", (payment_id,))


def email_receipt(session_cost_id: int) -> None:
    send_after_commit("billing.email_receipt", (session_cost_id,))


def enqueue_price_display(station_id: int, *, eta: datetime | None = None) -> None:
    """Queue the price push to a station's display, after commit: soon (once, however many
    events come in a burst), or at ``eta`` (a price that takes effect later)."""

    def queue() -> None:
        if eta is not None:
            send("billing.push_price_display", (station_id,), eta=eta)
        elif cache.add(display_key(station_id), 1, timeout=DISPLAY_PENDING_TTL):
            send("billing.push_price_display", (station_id,), countdown=DISPLAY_DEBOUNCE_SECONDS)

    transaction.on_commit(queue)
