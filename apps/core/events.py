"""Domain events: how feature apps react to what happens in the core without the core
importing them (style guide, point 13).

The core calls ``emit("session.ended", session_id=..., ...)`` inside its services.  Handlers
run after the surrounding transaction commits (never for work that was rolled back) and in the
tenant that emitted the event; they should be quick and enqueue Celery work for anything slow.
Feature apps subscribe in ``AppConfig.ready``::

    events.subscribe(events.SESSION_ENDED, billing_handlers.on_session_ended)
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

logger = logging.getLogger(__name__)

STATION_CONNECTED = "station.connected"
STATION_DISCONNECTED = "station.disconnected"
STATION_BOOTED = "station.booted"
STATUS_CHANGED = "station.status_changed"
SESSION_STARTED = "session.started"
SESSION_UPDATED = "session.updated"
SESSION_ENDED = "session.ended"
METER_VALUES_RECEIVED = "meter_values.received"

KNOWN_EVENTS = {
    STATION_CONNECTED,
    STATION_DISCONNECTED,
    STATION_BOOTED,
    STATUS_CHANGED,
    SESSION_STARTED,
    SESSION_UPDATED,
    SESSION_ENDED,
    METER_VALUES_RECEIVED,
}

Handler = Callable[..., Any]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str, handler: Handler) -> None:
    if event not in KNOWN_EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def unsubscribe(event: str, handler: Handler) -> None:
    if handler in _handlers[event]:
        _handlers[event].remove(handler)


def emit(event: str, **payload: Any) -> None:
    """Call every handler of ``event`` once the current transaction commits."""
    if event not in KNOWN_EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    handlers = list(_handlers[event])
    if not handlers:
        return
    tenant = getattr(connection, "tenant", None)

    def run() -> None:
        for handler in handlers:
            try:
                if tenant is not None and connection.schema_name != tenant.schema_name:
                    connection.set_tenant(tenant)
                handler(event=event, **payload)
            except Exception:  # one feature's bug must not break the core or other features
                logger.exception("Handler %r of %s failed", handler, event)

    transaction.on_commit(run)
