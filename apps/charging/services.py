"""Writes on tokens and charging sessions.  The OCPP adapters call these with plain values.

Integrity rules (see docs/ocpp.md, "Transaction integrity"):
- A session's energy is derived from meter *registers* (last − start, or stop − start), never
  summed from increments, so a replayed or duplicated message cannot count energy twice.
- Meter values are unique per (station, evse, timestamp, measurand, phase, location): a station
  that resends its offline queue after a reconnect adds nothing new.
- Starting and stopping are idempotent: a resent StartTransaction gets the same transaction id;
  a resent StopTransaction or TransactionEvent(Ended) changes nothing.
- Stale sessions (station silent for OCPP_STALE_SESSION_HOURS) are closed by rule with the energy
  of their last register; if the station's real stop arrives later it is applied on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core import events, policies
from apps.stations.models import Station
from apps.stations.services import evse_get_or_create, evse_set_status

from .choices import AuthorizationStatus, SessionStatus
from .metering import CURRENT, ENERGY_REGISTER, POWER, Sample
from .models import ChargingSession, IdToken, MeterValue

ACTIVE = SessionStatus.ACTIVE


@dataclass(frozen=True)
class AuthorizationDecision:
    status: str
    expires_at: dt.datetime | None = None
    group_id: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == AuthorizationStatus.ACCEPTED


@transaction.atomic
def token_create(
    *,
    uid: str,
    token_type: str = "ISO14443",
    label: str = "",
    expires_at=None,
    parent_uid: str = "",
    is_active: bool = True,
) -> IdToken:
    token = IdToken(
        uid=uid,
        token_type=token_type,
        label=label,
        expires_at=expires_at,
        parent_uid=parent_uid,
        is_active=is_active,
    )
    token.full_clean()
    token.save()
    return token


def authorize(
    *,
    uid: str,
    token_type: str = "",
    station_id: int,
    evse_id: int | None = None,
    starting: bool = False,
) -> AuthorizationDecision:
    """May this token charge at this station now?  Feature apps (access control, roaming,
    fleet) answer first through the AUTHORIZATION policy; the default is the token table."""
    answer = policies.ask(
        policies.AUTHORIZATION,
        uid=uid,
        token_type=token_type,
        station_id=station_id,
        evse_id=evse_id,
    )
    if answer is not None:
        return answer
    tokens = IdToken.objects.filter(uid=uid)
    if token_type and token_type not in ("ISO14443", "ISO15693"):
        tokens = tokens.filter(token_type=token_type)
    token = tokens.order_by("-is_active").first()
    if token is None:
        return AuthorizationDecision(AuthorizationStatus.INVALID)
    if not token.is_active:
        return AuthorizationDecision(AuthorizationStatus.BLOCKED)
    if token.expires_at and token.expires_at <= timezone.now():
        return AuthorizationDecision(AuthorizationStatus.EXPIRED)
    if (
        starting
        and ChargingSession.objects.filter(id_token=uid, status=ACTIVE)
        .exclude(station_id=station_id)
        .exists()
    ):
        return AuthorizationDecision(AuthorizationStatus.CONCURRENT_TX, token.expires_at)
    return AuthorizationDecision(AuthorizationStatus.ACCEPTED, token.expires_at, token.parent_uid)


def _token_fk(uid: str) -> IdToken | None:
    return IdToken.objects.filter(uid=uid).first() if uid else None


def _close_superseded(*, station_id: int, evse_id: int, before: dt.datetime) -> None:
    """A new transaction on a port ends whatever the station forgot to stop there."""
    stale = ChargingSession.objects.select_for_update().filter(
        station_id=station_id, evse__evse_id=evse_id, status=ACTIVE, started_at__lt=before
    )
    for session in stale:
        _session_end(
            session=session,
            ended_at=session.updated_at if session.updated_at < before else before,
            meter_stop_wh=None,
            reason="Superseded",
            status=SessionStatus.CLOSED_BY_RULE,
        )


@transaction.atomic
def session_start(
    *,
    station_id: int,
    evse_id: int,
    connector_id: int = 1,
    id_token: str,
    token_type: str = "",
    meter_start_wh: int | None,
    started_at: dt.datetime,
    reservation_id: int | None = None,
    transaction_id: str | None = None,
    remote_start_id: int | None = None,
) -> tuple[ChargingSession, bool]:
    """Open a session (1.6 StartTransaction: the CSMS picks ``transaction_id`` = the session's
    pk; 2.0.1: the station's id).  Returns (session, created).  A resend finds the original."""
    evse = evse_get_or_create(station_id=station_id, evse_id=evse_id)
    if transaction_id is not None:
        existing = ChargingSession.objects.filter(
            station_id=station_id, transaction_id=transaction_id
        ).first()
    else:
        existing = ChargingSession.objects.filter(
            station_id=station_id,
            evse=evse,
            id_token=id_token,
            started_at=started_at,
            meter_start_wh=meter_start_wh,
        ).first()
    if existing is not None:
        return existing, False
    _close_superseded(station_id=station_id, evse_id=evse_id, before=started_at)
    session = ChargingSession.objects.create(
        station_id=station_id,
        evse=evse,
        connector_id=connector_id,
        transaction_id=transaction_id or "",
        id_token=id_token or "",
        token_type=token_type or "",
        token=_token_fk(id_token),
        started_at=started_at,
        meter_start_wh=meter_start_wh,
        meter_last_wh=meter_start_wh,
        reservation_id=reservation_id,
        remote_start_id=remote_start_id,
    )
    if transaction_id is None:
        session.transaction_id = str(session.pk)
        session.save(update_fields=["transaction_id"])
    events.emit(
        events.SESSION_STARTED, session_id=session.pk, station_id=station_id, evse_id=evse_id
    )
    return session, True


def _session_end(
    *,
    session: ChargingSession,
    ended_at: dt.datetime,
    meter_stop_wh: int | None,
    reason: str,
    status: str = SessionStatus.COMPLETED,
) -> None:
    if meter_stop_wh is not None:
        session.meter_stop_wh = meter_stop_wh
        if session.meter_start_wh is None:
            session.meter_start_wh = meter_stop_wh
    session.ended_at = ended_at
    session.charging_ended_at = session.charging_ended_at or ended_at
    session.stop_reason = (reason or "Local")[:40]
    session.status = status
    _recompute_energy(session)
    session.save()
    events.emit(
        events.SESSION_ENDED,
        session_id=session.pk,
        station_id=session.station_id,
        evse_id=session.evse.evse_id,
    )


def _recompute_energy(session: ChargingSession) -> None:
    start = session.meter_start_wh
    end = session.meter_stop_wh if session.meter_stop_wh is not None else session.meter_last_wh
    if start is None or end is None:
        session.energy_wh = 0
    else:
        # A meter that went backwards (replaced, reset) never makes energy negative.
        session.energy_wh = max(0, end - start)


@transaction.atomic
def session_stop(
    *,
    station_id: int,
    transaction_id: str,
    meter_stop_wh: int | None,
    ended_at: dt.datetime,
    reason: str = "",
    samples: Iterable[Sample] = (),
) -> ChargingSession | None:
    """End a session (1.6 StopTransaction, 2.0.1 TransactionEvent Ended).  Idempotent: a
    repeated stop changes nothing; a stop after the stale rule closed it wins (it is real)."""
    session = (
        ChargingSession.objects.select_for_update()
        .select_related("evse")
        .filter(station_id=station_id, transaction_id=str(transaction_id))
        .first()
    )
    if session is None:
        return None
    if samples:
        meter_values_record(
            station_id=station_id, evse_id=session.evse.evse_id, session=session, samples=samples
        )
        session.refresh_from_db()
    if session.status == SessionStatus.COMPLETED:
        return session
    _session_end(session=session, ended_at=ended_at, meter_stop_wh=meter_stop_wh, reason=reason)
    return session


def meter_start_from(samples: Iterable[Sample]) -> int | None:
    """The energy register a transaction's first report took at Transaction.Begin, if any."""
    for sample in samples:
        if (
            sample.context == "Transaction.Begin"
            and sample.measurand == ENERGY_REGISTER
            and not sample.phase
        ):
            return int(sample.value)
    return None


def meter_stop_from(samples: Iterable[Sample]) -> int | None:
    """The highest whole-meter energy register taken at Transaction.End (or with no context)."""
    registers = [
        int(sample.value)
        for sample in samples
        if sample.measurand == ENERGY_REGISTER
        and not sample.phase
        and sample.context in ("Transaction.End", "")
    ]
    return max(registers) if registers else None


@transaction.atomic
def session_from_event(
    *,
    station_id: int,
    transaction_id: str,
    evse_id: int | None,
    connector_id: int | None,
    id_token: str,
    token_type: str,
    occurred_at: dt.datetime,
    is_start: bool,
    remote_start_id: int | None,
    reservation_id: int | None,
    meter_start_wh: int | None,
) -> tuple[ChargingSession | None, bool]:
    """A transaction the station numbers itself and reports in events that may arrive late or
    out of order (2.0.1 TransactionEvent, offline queues).  The first event seen opens the
    session, dated when it occurred; a start event earlier than that moves the start back;
    the token and the remote-start id are filled in once known and never replaced.  Returns
    (session, created); (None, False) when the first event seen names no port."""
    session = (
        ChargingSession.objects.select_for_update(of=("self",))
        .select_related("evse")
        .filter(station_id=station_id, transaction_id=transaction_id)
        .first()
    )
    if session is None:
        if evse_id is None:
            return None, False
        return session_start(
            station_id=station_id,
            evse_id=evse_id,
            connector_id=connector_id or 1,
            id_token=id_token,
            token_type=token_type,
            meter_start_wh=meter_start_wh,
            started_at=occurred_at,
            reservation_id=reservation_id,
            transaction_id=transaction_id,
            remote_start_id=remote_start_id,
        )
    changed = []
    if is_start and occurred_at < session.started_at:
        session.started_at = occurred_at
        changed.append("started_at")
    if id_token and not session.id_token:
        session.id_token, session.token_type = id_token, token_type
        changed += ["id_token", "token_type"]
    if remote_start_id is not None and session.remote_start_id is None:
        session.remote_start_id = remote_start_id
        changed.append("remote_start_id")
    if changed:
        session.save(update_fields=changed)
    return session, False


@transaction.atomic
def session_port_state(
    *, session: ChargingSession, port_status: str | None, state: str, at: dt.datetime
) -> None:
    """What a station says of a running session's port.  The port shows ``port_status`` unless
    a newer status is already recorded, and Finishing rather than Preparing once the session
    has drawn energy and not yet stopped charging (the car is still plugged in); the session
    remembers when energy stopped flowing (``state``: see ``session_note_charging_state``)."""
    if port_status == "Preparing" and session.charging_ended_at is None and session.energy_wh > 0:
        port_status = "Finishing"
    evse = session.evse
    if port_status and (not evse.status_changed_at or at >= evse.status_changed_at):
        evse_set_status(evse=evse, status=port_status, at=at)
    session_note_charging_state(
        station_id=session.station_id, evse_id=evse.evse_id, state=state, at=at
    )


@transaction.atomic
def session_note_charging_state(
    *, station_id: int, evse_id: int, state: str, at: dt.datetime
) -> None:
    """Remember when energy stopped flowing (idle fees and the valet board rely on it)."""
    sessions = ChargingSession.objects.filter(
        station_id=station_id, evse__evse_id=evse_id, status=ACTIVE
    )
    if state in ("Finishing", "SuspendedEV", "EVConnected"):
        sessions.filter(charging_ended_at__isnull=True).update(charging_ended_at=at)
    elif state == "Charging":
        sessions.update(charging_ended_at=None)


def session_active_on(*, station_id: int, evse_id: int) -> ChargingSession | None:
    return (
        ChargingSession.objects.filter(station_id=station_id, evse__evse_id=evse_id, status=ACTIVE)
        .order_by("-started_at")
        .first()
    )


@dataclass
class MeterReport:
    """One MeterValues message (or the samples a start/stop carried), as the adapters parse it."""

    station_id: int
    evse_id: int
    samples: list[Sample]
    transaction_id: str | None = None
    session: ChargingSession | None = None


def meter_values_record(
    *,
    station_id: int,
    evse_id: int,
    samples: Iterable[Sample],
    session: ChargingSession | None = None,
    transaction_id: str | None = None,
) -> int:
    """Store samples (duplicates ignored) and bring the session's energy up to date.
    Returns how many samples were offered."""
    report = MeterReport(station_id, evse_id, list(samples), transaction_id, session)
    return meter_values_record_batch(reports=[report])[0]


@transaction.atomic
def meter_values_record_batch(*, reports: list[MeterReport]) -> list[int]:
    """Many stations' MeterValues in one transaction: a fixed handful of queries whatever the
    number of reports (session lookup, one multi-row INSERT, one UPDATE of the sessions).
    Reports are applied in order; returns the number of samples each offered."""
    offered = [len(r.samples) for r in reports]
    reports = [r for r in reports if r.samples]
    if not reports:
        return offered
    sessions = _sessions_for(reports)
    rows = []
    touched: dict[int, tuple[ChargingSession, list[Sample]]] = {}
    for report, session in zip(reports, sessions, strict=True):
        session_id = session.pk if session is not None else None
        rows.extend(
            (
                report.station_id,
                report.evse_id,
                session_id,
                s.timestamp,
                s.measurand[:40],
                s.phase[:8],
                s.location[:8],
                s.context[:24],
                s.unit[:8],
                s.value,
            )
            for s in report.samples
        )
        if session is not None:
            touched.setdefault(session.pk, (session, []))[1].extend(report.samples)
    sites = _insert_meter_values(rows, station_ids={r.station_id for r in reports})
    for session, samples in touched.values():
        _session_apply_samples(session, samples)
    _update_session_meters([session for session, _ in touched.values()])
    for report, session in zip(reports, sessions, strict=True):
        power = _latest(report.samples, POWER)
        currents = {
            s.phase: float(s.value) for s in report.samples if s.measurand == CURRENT and s.phase
        } or None
        events.emit(
            events.METER_VALUES_RECEIVED,
            station_id=report.station_id,
            site_id=sites.get(report.station_id),
            evse_id=report.evse_id,
            session_id=session.pk if session else None,
            power_w=int(power) if power is not None else None,
            current_a=currents,
            energy_wh=session.energy_wh if session else None,
        )
    return offered


_METER_COLUMNS = (
    ("station_id", "bigint"),
    ("evse_id", "integer"),
    ("session_id", "bigint"),
    ("timestamp", "timestamptz"),
    ("measurand", "text"),
    ("phase", "text"),
    ("location", "text"),
    ("context", "text"),
    ("unit", "text"),
    ("value", "numeric"),
)


def _insert_meter_values(rows: list[tuple], *, station_ids: set[int]) -> dict[int, int | None]:
    """One INSERT for any number of samples: a column array each, unnested by PostgreSQL
    (a few parameters instead of ten per row; no model instances).  Replays hit the unique
    constraint and are skipped.  The same statement returns each reporting station's site
    (the live events carry it), saving a round trip."""
    table = connection.ops.quote_name(MeterValue._meta.db_table)
    stations = connection.ops.quote_name(Station._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name, _ in _METER_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _METER_COLUMNS)
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH stored AS (INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT DO NOTHING) SELECT id, site_id FROM {stations} WHERE id = ANY(%s)",
            [*columns, sorted(station_ids)],
        )
        return dict(cursor.fetchall())


def _update_session_meters(sessions: list[ChargingSession]) -> None:
    """Write the meter fields of the (locked) sessions in one UPDATE."""
    if not sessions:
        return
    now = timezone.now()
    table = connection.ops.quote_name(ChargingSession._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS s SET meter_start_wh = v.start_wh, meter_last_wh = v.last_wh, "
            "energy_wh = v.energy_wh, last_power_w = v.power_w, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::integer[]) "
            "AS v(id, start_wh, last_wh, energy_wh, power_w) WHERE s.id = v.id",
            [
                now,
                [s.pk for s in sessions],
                [s.meter_start_wh for s in sessions],
                [s.meter_last_wh for s in sessions],
                [s.energy_wh for s in sessions],
                [s.last_power_w for s in sessions],
            ],
        )
    for session in sessions:
        session.updated_at = now


def _sessions_for(reports: list[MeterReport]) -> list[ChargingSession | None]:
    """The session each report belongs to: the one given, the one with its transaction id, or
    (1.6 stations may omit transactionId) the port's running session if every sample was
    taken after it started.  Rows are locked; one object per session, shared by its reports."""
    looking = [r for r in reports if r.session is None]
    wanted_tx = {(r.station_id, str(r.transaction_id)) for r in looking if r.transaction_id}
    wanted_port = {(r.station_id, r.evse_id) for r in looking if r.evse_id}
    query = Q()
    if wanted_tx:
        query |= Q(
            station_id__in={s for s, _ in wanted_tx},
            transaction_id__in={t for _, t in wanted_tx},
        )
    if wanted_port:
        query |= Q(
            station_id__in={s for s, _ in wanted_port},
            evse__evse_id__in={e for _, e in wanted_port},
            status=ACTIVE,
        )
    found: list[ChargingSession] = []
    if query:
        found = list(
            ChargingSession.objects.select_for_update(of=("self",))
            .filter(query)
            .annotate(port=F("evse__evse_id"))
            .order_by("pk")
        )
    by_pk = {s.pk: s for s in found}
    for report in reports:  # the caller's object wins: it reads the result from it
        if report.session is not None:
            report.session.port = report.evse_id  # callers pass the session's own port
            by_pk[report.session.pk] = report.session
    by_tx = {(s.station_id, s.transaction_id): s for s in by_pk.values()}
    running: dict[tuple[int, int], ChargingSession] = {}
    for session in sorted(by_pk.values(), key=lambda s: s.started_at):
        if session.status == ACTIVE:
            running[(session.station_id, session.port)] = session  # the latest start wins
    result: list[ChargingSession | None] = []
    for report in reports:
        session = None
        if report.session is not None:
            session = report.session
        elif report.transaction_id:
            session = by_tx.get((report.station_id, str(report.transaction_id)))
        if session is None and report.session is None and report.evse_id:
            candidate = running.get((report.station_id, report.evse_id))
            if (
                candidate is not None
                and min(s.timestamp for s in report.samples) >= candidate.started_at
            ):
                session = candidate
        result.append(session)
    return result


def _latest(samples: list[Sample], measurand: str):
    matching = [s for s in samples if s.measurand == measurand and s.location in ("", "Outlet")]
    if not matching:
        return None
    latest_time = max(s.timestamp for s in matching)
    at_latest = [s for s in matching if s.timestamp == latest_time]
    totals = [s for s in at_latest if not s.phase]
    if totals:
        return totals[0].value
    return sum(s.value for s in at_latest if s.phase in ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N"))


def _session_apply_samples(session: ChargingSession, samples: list[Sample]) -> None:
    """Bring the session's registers, energy and power up to date in memory (the batch writes
    them with one UPDATE)."""
    registers = [
        s
        for s in samples
        if s.measurand == ENERGY_REGISTER and not s.phase and s.location in ("", "Outlet")
    ]
    if registers:
        values = [int(s.value) for s in registers]
        begin = [int(s.value) for s in registers if s.context == "Transaction.Begin"]
        # The register at Transaction.Begin is the start, even when it arrives late (2.0.1
        # offline queues); otherwise the earliest register seen stands in for it.
        if begin:
            session.meter_start_wh = min(begin)
        elif session.meter_start_wh is None:
            session.meter_start_wh = min(values)
        high = max(values)
        if session.meter_last_wh is None or high > session.meter_last_wh:
            session.meter_last_wh = high
        _recompute_energy(session)
    power = _latest(samples, POWER)
    if power is not None and session.status == ACTIVE:
        session.last_power_w = int(power)


def sessions_close_stale(*, now: dt.datetime | None = None) -> int:
    """The documented rule for sessions a dead station left open: when the station has been
    offline or silent for OCPP_STALE_SESSION_HOURS, close them at the time of their last
    meter value (or last contact) with the energy of their last register."""
    now = now or timezone.now()
    limit = now - dt.timedelta(hours=settings.OCPP_STALE_SESSION_HOURS)
    stale = ChargingSession.objects.filter(status=ACTIVE).filter(
        Q(station__last_seen_at__lt=limit)
        | Q(station__last_seen_at__isnull=True, updated_at__lt=limit)
    )
    closed = 0
    for session_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            session = (
                ChargingSession.objects.select_for_update()
                .select_related("evse", "station")
                .get(pk=session_id)
            )
            if session.status != ACTIVE:
                continue
            last_sample = (
                MeterValue.objects.filter(session=session)
                .order_by("-timestamp")
                .values_list("timestamp", flat=True)
                .first()
            )
            ended = last_sample or session.station.last_seen_at or session.updated_at
            _session_end(
                session=session,
                ended_at=max(ended, session.started_at),
                meter_stop_wh=None,
                reason="StationLost",
                status=SessionStatus.CLOSED_BY_RULE,
            )
            closed += 1
    return closed


# --- Edits from the portal and the API (added with the REST API) -----------------------------
TOKEN_EDITABLE = {"label", "is_active", "expires_at", "parent_uid", "uid", "token_type"}


@transaction.atomic
def token_update(*, token: IdToken, **fields) -> IdToken:
    unknown = set(fields) - TOKEN_EDITABLE
    if unknown:
        raise TypeError(f"Cannot change {sorted(unknown)} of a token")
    for name, value in fields.items():
        setattr(token, name, value)
    token.full_clean()
    token.save()
    return token


@transaction.atomic
def token_delete(*, token: IdToken) -> None:
    """Delete a token; its past sessions keep the uid they were started with."""
    token.delete()
