"""The cost of a session on the station's own screen (OCPP 2.0.1 I02/I03).

While a session runs its station is sent CostUpdated with the running total, every
``BillingProfile.cost_update_interval_seconds`` and when something that changes the price
happens (the car stops or resumes drawing: idle and time fees).  When the station reports the
end, the Ended TransactionEvent is answered with ``totalCost`` (and the receipt in
``updatedPersonalMessage``): the session is billed at once, so it is the receipt's total.
Every amount is the billing engine's (``session_running_total`` / ``session_bill``), in the
tenant's currency, taxes included.  1.6 has no such message ("California Pricing" is a
DataTransfer extension chargegrid does not speak).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.ocpp import commands
from apps.ocpp.commands import CommandError, StationOffline
from apps.ocpp.services import TransactionCost

from ..engine import TimelineError
from ..models import BillingProfile
from .sessions import BillingError, session_bill, session_running_total

logger = logging.getLogger(__name__)
COST_VERSION = "2.0.1"


def cost_update_interval() -> int:
    profile = BillingProfile.objects.filter(singleton=True).first()
    return profile.cost_update_interval_seconds if profile else 300


def _cost_key(session_id: int) -> str:
    return f"billing:cost-updated:{session_id}"  # the cache's key function adds the schema


def session_cost_update_send(*, session_id: int, send=None) -> str:
    """Send CostUpdated with the running total to the session's station.  Returns what
    happened: ``sent``, ``skipped`` (not running, not 2.0.1, not accepted, no price) or
    ``offline`` / ``failed``; never raises for the station's behaviour."""
    session = ChargingSession.objects.select_related("station").filter(pk=session_id).first()
    if session is None or session.status != SessionStatus.ACTIVE:
        return "skipped"
    station = session.station
    if station.ocpp_version != COST_VERSION or station.registration_status != "Accepted":
        return "skipped"
    if not station.is_online:
        return "offline"
    try:
        total = session_running_total(session_id=session_id)
    except (BillingError, TimelineError):
        logger.exception("Running cost of session %s", session_id)
        return "failed"
    if total is None:
        return "skipped"
    payload = {"totalCost": float(total), "transactionId": session.transaction_id}
    try:
        (send or commands.station_call)(station, "CostUpdated", payload)
    except StationOffline:
        return "offline"
    except CommandError as error:
        logger.warning("CostUpdated to %s: %s", station.identity, error)
        return "failed"
    interval = cost_update_interval()
    if interval:
        cache.set(_cost_key(session_id), 1, timeout=interval)
    return "sent"


def cost_updates_due(*, now: datetime | None = None) -> list[int]:
    """The running sessions on 2.0.1 stations whose last CostUpdated is older than the
    tenant's interval (the periodic sweep sends them)."""
    if connection.schema_name == "public" or not cost_update_interval():
        return []
    ids = ChargingSession.objects.filter(
        status=SessionStatus.ACTIVE,
        station__ocpp_version=COST_VERSION,
        station__is_online=True,
        station__registration_status="Accepted",
        started_at__lte=now or timezone.now(),
    ).values_list("pk", flat=True)
    return [pk for pk in ids if cache.get(_cost_key(pk)) is None]


def session_final_cost(*, session_id: int):
    """The Ended TransactionEvent's answer: the receipt's total (billed now, exactly once) and
    its text for the driver; ``None`` when the session cannot be priced yet."""
    try:
        cost = session_bill(session_id=session_id)
    except (BillingError, TimelineError):
        logger.exception("Session %s cannot be priced", session_id)
        return None
    if cost is None:
        return None
    message = f"{cost.receipt_number}: {cost.total} {cost.currency}, {cost.energy_wh / 1000:g} kWh"
    return TransactionCost(total=cost.total, currency=cost.currency, message=message)
