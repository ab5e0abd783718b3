"""Protocol-facing writes: each runs in one thread hop for one OCPP message and calls the
stations/charging services.  Version differences stay in v16.py / v201.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.charging import services as charging
from apps.charging.metering import Sample
from apps.charging.models import ChargingSession
from apps.core import events, policies
from apps.stations import services as stations

from . import commands, payloads
from .models import StationEvent, StationMessageLimits, TransactionSequence

# 2.0.1 chargingState → the 1.6-style port status the rest of the platform uses.
CHARGING_STATE_STATUS = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "EVConnected": "Preparing",
    "Idle": "Occupied",
}


@dataclass(frozen=True)
class TransactionCost:
    """What a finished session costs, as on its receipt (a feature answers SESSION_COST)."""

    total: Decimal
    currency: str
    message: str = ""


@dataclass(frozen=True)
class EvNeedsAnswer:
    """The answer to NotifyEVChargingNeeds / NotifyEVChargingSchedule, and what to run once
    it is sent (the SetChargingProfile of power management)."""

    status: str  # Accepted, Processing, Rejected
    follow_up: Callable[[], object] | None = None


def ev_charging_needs(
    *,
    station_id: int,
    evse_id: int,
    needs: dict[str, Any],
    max_schedule_tuples: int | None = None,
) -> EvNeedsAnswer:
    """2.0.1 K15/K17: an EV's needs (energy, departure time, AC/DC limits, and the most
    periods its schedules may have).  Rejected without a transaction on that EVSE, or when no
    feature computes charging profiles here (K15.FR.04)."""
    event_record(
        station_id=station_id,
        kind=StationEvent.Kind.CHARGING,
        action="NotifyEVChargingNeeds",
        data={
            "evse_id": evse_id,
            "charging_needs": needs,
            "max_schedule_tuples": max_schedule_tuples,
        },
    )
    session = charging_session_on(station_id=station_id, evse_id=evse_id)
    if session is None:
        return EvNeedsAnswer("Rejected")
    answer = policies.ask(
        policies.EV_CHARGING_NEEDS,
        session_id=session.pk,
        needs=needs,
        max_schedule_tuples=max_schedule_tuples,
    )
    return answer or EvNeedsAnswer("Rejected")


def ev_charging_schedule(
    *, station_id: int, evse_id: int, schedule: dict[str, Any]
) -> EvNeedsAnswer:
    """2.0.1 K15/K17: the schedule the EV chose within our profile.  Accepted unless a
    feature finds it outside the limits it set (it then renegotiates: a new profile)."""
    event_record(
        station_id=station_id,
        kind=StationEvent.Kind.CHARGING,
        action="NotifyEVChargingSchedule",
        data={"evse_id": evse_id, "charging_schedule": schedule},
    )
    session = charging_session_on(station_id=station_id, evse_id=evse_id)
    if session is None:
        return EvNeedsAnswer("Rejected")
    answer = policies.ask(policies.EV_CHARGING_SCHEDULE, session_id=session.pk, schedule=schedule)
    return answer or EvNeedsAnswer("Accepted")


def charging_session_on(*, station_id: int, evse_id: int) -> ChargingSession | None:
    return (
        ChargingSession.objects.filter(
            station_id=station_id, evse__evse_id=evse_id, status="active"
        )
        .order_by("-started_at")
        .first()
    )


def follow_up_run(*, follow_up: Callable[[], object]) -> None:
    follow_up()


def transaction_cost(*, session_id: int) -> TransactionCost | None:
    """2.0.1 I02/I03: the total for the Ended TransactionEvent's answer (None: no price)."""
    return policies.ask(policies.SESSION_COST, session_id=session_id)


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
def status_reports(*, reports: list[dict]) -> list[None]:
    """``status_report`` for many StatusNotifications in one transaction, in the order given
    (a station has one outstanding CALL, so two of its reports are never in one batch out of
    order).  If any fails, all roll back and the caller stores them one by one."""
    for report in reports:
        status_report(**report)
    return [None] * len(reports)


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
    seq_no: int | None = None,
) -> tuple[ChargingSession | None, charging.AuthorizationDecision | None, bool]:
    """2.0.1 TransactionEvent, translated into the charging services' terms (which hold the
    session rules: events late or out of order, Ended applied once).  The third value: a
    seqNo gap to ask the station about (``transaction_gap_check``)."""
    ask = False
    if seq_no is not None:
        ask = _sequence_note(
            station_id=station_id,
            transaction_id=transaction_id,
            seq_no=seq_no,
            started=event_type == "Started",
            ended=event_type == "Ended",
            occurred_at=occurred_at,
        )
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
        return None, decision, ask
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
        if event_type == "Updated" and trigger_reason == "ChargingStateChanged":
            # price-relevant (idle and time fees): features react, e.g. CostUpdated
            events.emit(
                events.SESSION_UPDATED,
                session_id=session.pk,
                station_id=station_id,
                reason="charging_state",
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
    return session, decision, ask


# --- Transaction integrity on reconnect (2.0.1 E, offline behaviour) -------------------------
# Every TransactionEvent of a transaction carries the next seqNo (from the Started event's).
# A hole below the highest seqNo seen is an event lost or still in the station's offline
# queue: when a hole appears, and again on the Ended event and any later one while a hole is
# open, the CSMS asks GetTransactionStatus.  messagesInQueue true: the station will still send it
# (nothing is recorded as lost; the Ended event asks again).  false: what is still missing
# is lost: recorded on the sequence and as a station event (SeqNoMissing); if the station
# also says the transaction is no longer ongoing and its Ended event never came, the session
# is ended at its last event (reason "EventsLost").


def _sequence_note(
    *,
    station_id: int,
    transaction_id: str,
    seq_no: int,
    started: bool,
    ended: bool,
    occurred_at: dt.datetime,
) -> bool:
    row, _created = TransactionSequence.objects.select_for_update().get_or_create(
        station_id=station_id, transaction_id=transaction_id
    )
    had_hole = bool(row.missing())
    if seq_no not in row.seq_nos:
        row.seq_nos = sorted([*row.seq_nos, seq_no])
    if started:
        row.first_seq_no = seq_no
    if row.last_event_at is None or occurred_at > row.last_event_at:
        row.last_event_at = occurred_at
    row.ended = row.ended or ended
    row.save(update_fields=["seq_nos", "first_seq_no", "last_event_at", "ended"])
    hole = bool(row.missing())
    # asked when a hole opens, and by every event from the Ended one on while one is open
    return hole and (row.ended or not had_hole)


@transaction.atomic
def transaction_gap_reconcile(
    *,
    station_id: int,
    transaction_id: str,
    ongoing: bool | None,
    messages_in_queue: bool,
) -> list[int]:
    """The station's GetTransactionStatus answer about a seqNo gap; returns what is lost."""
    row = (
        TransactionSequence.objects.select_for_update()
        .filter(station_id=station_id, transaction_id=transaction_id)
        .first()
    )
    if row is None:
        return []
    missing = row.missing()
    data = {
        "transactionId": transaction_id,
        "missing": missing,
        "ongoingIndicator": ongoing,
        "messagesInQueue": messages_in_queue,
    }
    if messages_in_queue or not missing:
        event_record(
            station_id=station_id,
            kind=StationEvent.Kind.OTHER,
            action="GetTransactionStatus",
            status="SeqNoGapQueued" if missing else "SeqNoGapFilled",
            data=data,
        )
        return []
    if set(missing) <= set(row.lost):
        return missing  # already recorded (asked again by a later event or a recheck)
    row.lost = sorted(set(row.lost) | set(missing))
    row.save(update_fields=["lost"])
    event_record(
        station_id=station_id,
        kind=StationEvent.Kind.OTHER,
        action="GetTransactionStatus",
        status="SeqNoMissing",
        data=data,
    )
    if ongoing is False:
        charging.session_stop(
            station_id=station_id,
            transaction_id=transaction_id,
            meter_stop_wh=None,
            ended_at=row.last_event_at or timezone.now(),
            reason="EventsLost",
        )
    return missing


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


@transaction.atomic
def message_limits_reported(*, station_id: int, limits: dict[str, int]) -> None:
    """A station's device-model report named its ItemsPerMessage / BytesPerMessage."""
    row, _created = StationMessageLimits.objects.select_for_update().get_or_create(
        station_id=station_id
    )
    row.reported = {**row.reported, **limits}
    row.save(update_fields=["reported", "updated_at"])


MESSAGE_LIMIT_MIN = 1


@transaction.atomic
def message_limits_override(*, station_id: int, overrides: dict[str, int | None]) -> None:
    """An admin's per-station limits (None removes one): they win over the report.  The API
    and the portal both write through here; a limit is a whole number of at least 1."""
    errors = {key: _("Unknown limit.") for key in overrides if key not in payloads.LIMIT_KEYS}
    for key, value in overrides.items():
        if key in errors or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < MESSAGE_LIMIT_MIN:
            errors[key] = _("Enter a whole number of at least %(min)d.") % {
                "min": MESSAGE_LIMIT_MIN
            }
    if errors:
        raise ValidationError(errors)
    row, _created = StationMessageLimits.objects.select_for_update().get_or_create(
        station_id=station_id
    )
    merged = {**row.overrides, **overrides}
    row.overrides = {key: int(value) for key, value in merged.items() if value}
    row.save(update_fields=["overrides", "updated_at"])


# --- Plug & Charge (ISO 15118): the core asks; a feature app answers through policies --------


@dataclass(frozen=True)
class CertificateAnswer:
    """SignCertificateResponse's status, and the work it promises once sent (CertificateSigned)."""

    status: str  # Accepted, Rejected
    follow_up: Callable[[], object] | None = None


@dataclass(frozen=True)
class ContractAuthorization:
    """AuthorizeResponse for a contract (eMAID) with its certificate checked (C07)."""

    decision: charging.AuthorizationDecision
    certificate_status: str | None = None


def certificate_sign(*, station_id: int, csr: str, certificate_type: str) -> CertificateAnswer:
    answer = policies.ask(
        policies.CERTIFICATE_SIGN,
        station_id=station_id,
        csr=csr,
        certificate_type=certificate_type,
    )
    answer = answer or CertificateAnswer("Rejected")
    event_record(
        station_id=station_id,
        kind=StationEvent.Kind.SECURITY,
        action="SignCertificate",
        status=answer.status,
        data={"certificate_type": certificate_type},
    )
    return answer


def contract_authorize(
    *,
    station_id: int,
    uid: str,
    token_type: str,
    certificate: str | None,
    hash_data: list[dict[str, Any]] | None,
) -> ContractAuthorization:
    """2.0.1 Authorize carrying a contract certificate or its hash data: a feature that holds
    the trusted eMobility roots answers; otherwise the eMAID is an ordinary token."""
    answer = policies.ask(
        policies.CONTRACT_AUTHORIZATION,
        station_id=station_id,
        uid=uid,
        token_type=token_type,
        certificate=certificate,
        hash_data=hash_data,
    )
    if answer is not None:
        return answer
    decision = charging.authorize(uid=uid, token_type=token_type, station_id=station_id)
    return ContractAuthorization(decision)


def ev_certificate(
    *, station_id: int, schema_version: str, action: str, exi_request: str, extra: dict
) -> dict[str, Any]:
    """M01/M02: the EV's contract certificate install/update request (EXI, base64)."""
    answer = policies.ask(
        policies.EV_CERTIFICATE,
        station_id=station_id,
        schema_version=schema_version,
        action=action,
        exi_request=exi_request,
        extra=extra,
    )
    answer = answer or {"status": "Failed", "exi_response": ""}
    event_record(
        station_id=station_id,
        kind=StationEvent.Kind.SECURITY,
        action="Get15118EVCertificate",
        status=answer["status"],
        data={"action": action, "schema_version": schema_version},
    )
    return answer


def certificate_status(*, station_id: int, ocsp_request: dict[str, Any]) -> dict[str, Any]:
    """M06: an OCSP status for a certificate the station holds."""
    answer = policies.ask(
        policies.CERTIFICATE_STATUS, station_id=station_id, ocsp_request=ocsp_request
    )
    return answer or {"status": "Failed"}


def signed_values_received(
    *, station_id: int, evse_id: int | None, transaction_id: str | None, signed: list
) -> None:
    """A station's signed meter values (``samples.signed_from``): emitted for the features
    that carry them on (roaming's CDRs), with the session they belong to when it is known
    (its transaction id, else the port's running session)."""
    if not signed:
        return
    sessions = ChargingSession.objects.filter(station_id=station_id)
    if transaction_id:
        session = sessions.filter(transaction_id=str(transaction_id)).first()
    else:
        session = charging_session_on(station_id=station_id, evse_id=evse_id) if evse_id else None
    with transaction.atomic():
        events.emit(
            events.SIGNED_METER_VALUES,
            station_id=station_id,
            evse_id=evse_id,
            session_id=session.pk if session else None,
            signed=list(signed),
        )
