"""Domain events: how feature apps react to what happens in the core without the core
importing them (style guide, point 13).

The core calls ``emit("session.ended", session_id=..., ...)`` inside its services.  Handlers
run after the surrounding transaction commits (never for work that was rolled back) and in the
tenant that emitted the event; they should be quick and enqueue Celery work for anything slow.
Feature apps subscribe in ``AppConfig.ready``::

    events.subscribe(events.SESSION_ENDED, billing_handlers.on_session_ended)

Features also announce their own news here, so that other features react without importing
them: monitoring emits ``alert.raised`` / ``alert.cleared`` and webhooks subscribes.

A handler subscribed with ``in_transaction=True`` runs at once instead, inside the emitter's
transaction (in a savepoint): for rows that must commit or roll back with what happened, such
as webhook deliveries (a transactional outbox); anything they queue must itself wait for the
commit.  Keep them to a few queries.

Batches.  A handler subscribed with ``batch=True`` is called with ``entries``: a list of
``(event, payload)`` pairs, once per batch instead of once per event, so that it can answer a
thousand stations with one query (``handler(event=<first event>, entries=[...])``).  The same
handler may be subscribed to several events: it is called once per batch with the entries of
all of them.  ``emit_many(event, payloads)`` emits many events of one kind at once (one batch).

The station events in ``COALESCED`` (connected, booted, status changed, disconnected) may
also be coalesced across transactions: in the OCPP server a station's writes run on the OCPP
pool, and there those events are handed after the commit to a per-tenant coalescer
(``apps/ocpp/coalesce.py``) that delivers everything one tenant emitted within a short window
(``WINDOW`` seconds there; at once when the tenant was idle) as one batch.  What a batch
guarantees:

- every handler runs once per event (per-item handlers) or sees every entry (batch handlers);
- a station's events reach every handler in the order they were emitted: a batch is cut into
  segments where needed, and inside a segment the events are delivered in ``ORDER``
  (connected, booted, status changed, disconnected); a station whose next event would go
  backwards in that order starts a new segment;
- the station's answer (e.g. to its StatusNotification) is sent only once the batch holding
  its events has been delivered: whoever sees the answer sees the consequences.

Elsewhere (the portal, Celery, management commands) every event is delivered after its own
commit, as before.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from . import deferred

logger = logging.getLogger(__name__)

STATION_CONNECTED = "station.connected"
STATION_DISCONNECTED = "station.disconnected"
STATION_BOOTED = "station.booted"
STATUS_CHANGED = "station.status_changed"
SESSION_STARTED = "session.started"
SESSION_UPDATED = "session.updated"
SESSION_ENDED = "session.ended"
METER_VALUES_RECEIVED = "meter_values.received"
# Emitted by monitoring (apps.monitoring.services.alerts) with alert_id, station_id, site_id,
# kind and ``alert``: the alert as integrators see it (apps.monitoring.services.alert_data).
ALERT_RAISED = "alert.raised"
ALERT_CLEARED = "alert.cleared"
# Emitted by billing once a finished session is priced (its receipt written), with session_id.
SESSION_PRICED = "session.priced"
# A feature asks for a person to be told something (apps.notifications subscribes, in the
# emitter's transaction): recipient={key, email, phone, language}, kind, event_key (one
# message per event_key and channel, however often it is asked), context (the message's values).
NOTIFICATION_REQUESTED = "notification.requested"
# A station's FirmwareStatusNotification (1.6, 2.0.1, 1.6 SignedFirmwareStatusNotification):
# station_id, status, request_id (2.0.1 / signed: the update's requestId, else None), action.
FIRMWARE_STATUS = "station.firmware_status"
# A person's notification preferences changed (drivers emit it; notifications subscribes, in the
# emitter's transaction): keys (the contact keys: "driver:<id>", "token:<uid>" of their cards),
# email, phone, language, email_enabled, sms_enabled, push_enabled.
CONTACT_PREFERENCES = "contact.preferences"
# roaming: emitted by billing when a tariff's published prices change (a tariff created, a
# version added), with tariff_id; roaming pushes the OCPI tariffs to its partners.
TARIFF_CHANGED = "tariff.changed"
# waitlist: a port held for a driver (an OCPP reservation) expired unused: key (one per
# no-show), token_uid, station_id, evse_id, at.  Billing records the tariff's no-show fee (it
# subscribes in the emitter's transaction).
RESERVATION_NO_SHOW = "reservation.no_show"
# Emitted by the OCPP adapters (apps.ocpp.services.signed_values_received) when a station sends
# signed meter values (1.6 SignedData samples, 2.0.1 signedMeterValue), with station_id,
# evse_id, session_id (None when no session is known) and ``signed``: a list of
# apps.ocpp.samples.SignedValue (roaming carries them into OCPI CDRs' signed_data).
SIGNED_METER_VALUES = "meter_values.signed"
# fleet (issue 14): a session started / ended by a fleet's card, emitted by the fleet app with
# site_id and ``data`` (the session with its vehicle and fleet, as integrators see it).
VEHICLE_SESSION_STARTED = "vehicle.session_started"
VEHICLE_SESSION_ENDED = "vehicle.session_ended"

KNOWN_EVENTS = {
    STATION_CONNECTED,
    STATION_DISCONNECTED,
    STATION_BOOTED,
    STATUS_CHANGED,
    SESSION_STARTED,
    SESSION_UPDATED,
    SESSION_ENDED,
    METER_VALUES_RECEIVED,
    ALERT_RAISED,
    ALERT_CLEARED,
    SESSION_PRICED,
    NOTIFICATION_REQUESTED,
    FIRMWARE_STATUS,
    CONTACT_PREFERENCES,  # drivers
    TARIFF_CHANGED,  # roaming
    RESERVATION_NO_SHOW,  # waitlist
    SIGNED_METER_VALUES,  # roaming
    VEHICLE_SESSION_STARTED,  # fleet
    VEHICLE_SESSION_ENDED,  # fleet
}

# The station events a coalescer may gather across transactions, in the order a batch delivers
# them (a station's own events never go backwards in it: see "Batches" above).
ORDER = (STATION_CONNECTED, STATION_BOOTED, STATUS_CHANGED, STATION_DISCONNECTED)
COALESCED = frozenset(ORDER)

Handler = Callable[..., Any]
Entry = tuple[str, dict[str, Any]]
_handlers: dict[str, list[Handler]] = defaultdict(list)
_in_transaction_handlers: dict[str, list[Handler]] = defaultdict(list)
_batch: set[tuple[str, Handler]] = set()
# Set by the OCPP runtime: ``coalescer(tenant, entries) -> bool`` takes the station events of a
# commit for later, batched delivery (True), or declines (False: delivered at once).
_coalescer: Callable[[Any, list[Entry]], bool] | None = None


def subscribe(
    event: str, handler: Handler, *, in_transaction: bool = False, batch: bool = False
) -> None:
    if event not in KNOWN_EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    if batch and in_transaction:
        raise ValueError("A handler in the emitter's transaction is called once per event")
    handlers = _in_transaction_handlers if in_transaction else _handlers
    if handler not in handlers[event]:
        handlers[event].append(handler)
    if batch:
        _batch.add((event, handler))


def unsubscribe(event: str, handler: Handler) -> None:
    for handlers in (_handlers, _in_transaction_handlers):
        if handler in handlers[event]:
            handlers[event].remove(handler)
    _batch.discard((event, handler))


def set_coalescer(coalescer: Callable[[Any, list[Entry]], bool] | None) -> None:
    global _coalescer
    _coalescer = coalescer


def emit(event: str, **payload: Any) -> None:
    """Call every handler of ``event`` once the current transaction commits (those subscribed
    ``in_transaction`` at once, each in a savepoint)."""
    emit_many(event, [payload])


def emit_many(event: str, payloads: list[dict[str, Any]]) -> None:
    """``emit`` for many events of one kind: after the commit, batch handlers are called once
    with all of them, the others once per event."""
    if event not in KNOWN_EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    for payload in payloads:
        for handler in list(_in_transaction_handlers[event]):
            try:
                with transaction.atomic():
                    handler(event=event, **payload)
            except Exception:  # rolled back to the savepoint: the emitter's work stands
                logger.exception("Handler %r of %s failed", handler, event)
    if not payloads or not _handlers[event]:
        return
    tenant = getattr(connection, "tenant", None)
    entries = [(event, payload) for payload in payloads]

    def run() -> None:
        coalescer = _coalescer
        if event in COALESCED and coalescer is not None and coalescer(tenant, entries):
            return
        deliver(tenant, entries)

    transaction.on_commit(run)


def segments(entries: list[Entry]) -> list[dict[str, list[dict[str, Any]]]]:
    """Cut a batch so that, delivering each segment's events in ``ORDER``, every station's
    events still arrive in the order they were emitted."""
    rank = {event: index for index, event in enumerate(ORDER)}
    result: list[dict[str, list[dict[str, Any]]]] = []
    current: dict[str, list[dict[str, Any]]] = {}
    current_kind = ""
    reached: dict[Any, int] = {}  # station id -> the highest rank it has in the segment
    for event, payload in entries:
        position = rank.get(event, len(ORDER))
        kind = "" if event in rank else event  # other events: segments of their own
        station = payload.get("station_id")
        if current and (kind != current_kind or reached.get(station, -1) > position):
            result.append(current)
            current, reached = {}, {}
        current_kind = kind
        current.setdefault(event, []).append(payload)
        reached[station] = max(reached.get(station, -1), position)
    if current:
        result.append(current)
    return result


def deliver(tenant, entries: list[Entry]) -> None:
    """Run the after-commit handlers of ``entries`` (in ``tenant``): per-item handlers once per
    event, batch handlers once per segment (see ``segments``) with all their entries."""
    for segment in segments(entries):
        ordered = sorted(segment, key=lambda name: ORDER.index(name) if name in ORDER else -1)
        called: set[Handler] = set()
        for event in ordered:
            for handler in list(_handlers[event]):
                if (event, handler) in _batch:
                    if handler in called:
                        continue
                    called.add(handler)
                    mine = [
                        (name, payload)
                        for name in ordered
                        if (name, handler) in _batch
                        for payload in segment[name]
                    ]
                    _call(tenant, handler, mine[0][0], {"entries": mine})
                else:
                    for payload in segment[event]:
                        _call(tenant, handler, event, payload)


def _call(tenant, handler: Handler, event: str, payload: dict[str, Any]) -> None:
    try:
        if tenant is not None and connection.schema_name != tenant.schema_name:
            connection.set_tenant(tenant)
        handler(event=event, **payload)
    except deferred.BROKER_ERRORS as error:  # Redis is away: run it again when back
        logger.warning("Handler %r of %s deferred: %s", handler, event, error)
        deferred.defer(tenant, handler, event, payload)
    except Exception:  # one feature's bug must not break the core or other features
        logger.exception("Handler %r of %s failed", handler, event)
