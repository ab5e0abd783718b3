"""Reactions to core domain events and answers to core policies (style guide, point 13)."""

from __future__ import annotations

from django.db import connection


def on_session_ended(*, event: str, session_id: int, **_) -> None:
    """A session ended (this runs after the core's transaction committed, in its tenant):
    price it in the background."""
    from .tasks import bill_session

    if connection.schema_name != "public":
        bill_session.delay(session_id)


def on_session_updated(*, event: str, session_id: int, **_) -> None:
    """Something that changes a running session's price happened: send its station the new
    running total (OCPP 2.0.1 CostUpdated)."""
    from .tasks import send_cost_update

    if connection.schema_name != "public":
        send_cost_update.delay(session_id)


def session_cost(*, session_id: int, **_) -> object | None:
    """A session has just ended: its receipt's total, for the station (2.0.1 totalCost)."""
    from .services.costs import session_final_cost

    return session_final_cost(session_id=session_id)


def on_station_online(*, event: str, station_id: int, **_) -> None:
    """A station connected or booted: an OCPP 2.0.1 station gets the price on its display."""
    from apps.stations.models import Station

    from .services.display import DISPLAY_VERSION
    from .tasks import enqueue_price_display

    if connection.schema_name == "public":
        return
    if Station.objects.filter(pk=station_id, ocpp_version=DISPLAY_VERSION).exists():
        enqueue_price_display(station_id)


def price_info(*, station, evse_id: int | None = None, token_uid: str = "", **_) -> str | None:
    """What this driver would pay here now, in one line (for the station's display and API)."""
    from .selectors import price_quote

    quote = price_quote(station=station, token_uid=token_uid)
    if quote.choice.version is None:
        return None
    return quote.summary


def authorization(*, uid: str, **_) -> object | None:
    """Refuse to start charging on a driver account that cannot pay: inactive, a prepaid
    balance used up (beyond its credit limit), or an invoice account over its credit limit.
    Abstains (``None``) otherwise, so the other rules decide."""
    from apps.charging.choices import AuthorizationStatus
    from apps.charging.services import AuthorizationDecision

    from .choices import DriverAccountKind
    from .models import DriverAccount
    from .selectors import driver_balance

    if not uid:
        return None
    account = DriverAccount.objects.filter(token_links__token__uid=uid).first()
    if account is None:
        return None
    if not account.is_active:
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    balance = driver_balance(account)
    if account.kind == DriverAccountKind.PREPAID and balance <= -account.credit_limit:
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    if (
        account.kind == DriverAccountKind.INVOICE
        and account.credit_limit
        and -balance >= account.credit_limit
    ):
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    return None
