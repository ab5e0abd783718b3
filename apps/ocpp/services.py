"""Protocol-facing writes: each runs in one thread hop for one OCPP message and calls the
stations/charging services.  Version differences stay in v16.py / v201.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.charging import services as charging
from apps.charging.metering import Sample
from apps.charging.models import ChargingSession
from apps.core import events
from apps.stations import services as stations

from . import commands
from .models import StationEvent

# 2.0.1 chargingState → the 1.6-style port status the rest of the platform uses.
CHARGING_STATE_STATUS = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "EVConnected": "Preparing",
    "Idle": "Occupied",
}


@transaction.atomic
def status_report(
    *,
    station_id: int,
    evse_id: int,
    status: str,
    occurred_at: dt.datetime,
    error_code: str = "",
    info: str = "",
) -> None:
    stations.status_record(
        station_id=station_id,
        evse_id=evse_id,
        status=status,
        occurred_at=occurred_at,
        error_code=error_code,
        info=info,
    )
    if evse_id:
        charging.session_note_charging_state(
            station_id=station_id, evse_id=evse_id, state=status, at=occurred_at
        )


@transaction.atomic
def transaction_start(
    *,
    station_id: int,
    evse_id: int,
    id_token: str,
    meter_start_wh: int | None,
    started_at: dt.datetime,
    reservation_id: int | None = None,
    token_type: str = "",
) -> tuple[ChargingSession, charging.AuthorizationDecision]:
    """1.6 StartTransaction.  The station has started: the session is recorded whatever the
    token's status (energy flows until the station obeys an Invalid answer)."""
    decision = charging.authorize(
        uid=id_token,
        token_type=token_type,
        station_id=station_id,
        evse_id=evse_id,
        starting=True,
    )
    session, created = charging.session_start(
        station_id=station_id,
        evse_id=evse_id,
        id_token=id_token,
        token_type=token_type,
        meter_start_wh=meter_start_wh,
        started_at=started_at,
        reservation_id=reservation_id,
    )
    if created:
        commands.remote_start_session_started(session=session)
    return session, decision


@transaction.atomic
def transaction_stop(
    *,
    station_id: int,
    transaction_id: str,
    meter_stop_wh: int | None,
    ended_at: dt.datetime,
    reason: str,
    samples: list[Sample],
    id_token: str | None = None,
) -> charging.AuthorizationDecision | None:
    """1.6 StopTransaction.  Unknown transaction ids are answered (the station must be able to
    empty its queue) and their meter data kept against the station."""
    session = charging.session_stop(
        station_id=station_id,
        transaction_id=transaction_id,
        meter_stop_wh=meter_stop_wh,
        ended_at=ended_at,
        reason=reason,
        samples=samples,
    )
    if session is None and samples:
        charging.meter_values_record(station_id=station_id, evse_id=0, samples=samples)
    if session is None:
        event_record(
            station_id=station_id,
            kind=StationEvent.Kind.OTHER,
            action="StopTransaction",
            status="UnknownTransaction",
            data={"transactionId": transaction_id, "meterStop": meter_stop_wh, "reason": reason},
        )
    if id_token:
        return charging.authorize(uid=id_token, station_id=station_id)
    return None


@transaction.atomic
def transaction_event(
    *,
    station_id: int,
    event_type: str,
    occurred_at: dt.datetime,
    transaction_id: str,
    evse_id: int | None,
    connector_id: int | None,
    id_token: str | None,
    token_type: str,
    charging_state: str | None,
    stopped_reason: str | None,
    remote_start_id: int | None,
    reservation_id: int | None,
    samples: list[Sample],
    trigger_reason: str = "",
) -> tuple[ChargingSession | None, charging.AuthorizationDecision | None]:
    """2.0.1 TransactionEvent, translated into the charging services' terms (which hold the
    session rules: events late or out of order, Ended applied once)."""
    session, created = charging.session_from_event(
        station_id=station_id,
        transaction_id=transaction_id,
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=id_token or "",
        token_type=token_type or "",
        occurred_at=occurred_at,
        is_start=event_type == "Started",
        remote_start_id=remote_start_id,
        reservation_id=reservation_id,
        meter_start_wh=charging.meter_start_from(samples),
    )
    decision = None
    if id_token:
        decision = charging.authorize(
            uid=id_token,
            token_type=token_type,
            station_id=station_id,
            evse_id=evse_id,
            starting=session is None or created,
        )
    if session is None:
        return None, decision
    if created:
        commands.remote_start_session_started(session=session)
    if samples:
        charging.meter_values_record(
            station_id=station_id, evse_id=session.evse.evse_id, samples=samples, session=session
        )
    if charging_state:
        charging.session_port_state(
            session=session,
            port_status=CHARGING_STATE_STATUS.get(charging_state),
            state=charging_state,
            at=occurred_at,
        )
    if event_type == "Ended":
        charging.session_stop(
            station_id=station_id,
            transaction_id=transaction_id,
            meter_stop_wh=charging.meter_stop_from(samples),
            ended_at=occurred_at,
            reason=stopped_reason or trigger_reason or "Local",
        )
        session.refresh_from_db()
    return session, decision


def data_transfer(
    *, station_id: int, vendor_id: str, message_id: str, data: Any
) -> tuple[str, str | None]:
    """No vendor extension is registered by default: record it and say UnknownVendorId."""
    event_record(
        station_id=station_id,
        kind=StationEvent.Kind.DATA_TRANSFER,
        action="DataTransfer",
        status="UnknownVendorId",
        data={"vendorId": vendor_id, "messageId": message_id, "data": data},
    )
    return "UnknownVendorId", None


def event_record(
    *,
    station_id: int,
    kind: str,
    action: str,
    status: str = "",
    request_id: int | None = None,
    data: dict | None = None,
    occurred_at: dt.datetime | None = None,
) -> StationEvent:
    event = StationEvent.objects.create(
        station_id=station_id,
        kind=kind,
        action=action,
        status=(status or "")[:64],
        request_id=request_id,
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
    )
    if kind == StationEvent.Kind.FIRMWARE and action != "PublishFirmwareStatusNotification":
        events.emit(
            events.FIRMWARE_STATUS,
            station_id=station_id,
            status=event.status,
            request_id=request_id,
            action=action,
        )
    return event
