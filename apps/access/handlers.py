"""The access app's answers to the core: the AUTHORIZATION policy."""

from __future__ import annotations

from django.utils import timezone

from apps.charging.choices import AuthorizationStatus
from apps.charging.services import AuthorizationDecision

from . import selectors


def authorization(
    *, uid: str, station_id: int, evse_id: int | None = None, **_
) -> AuthorizationDecision | None:
    """Refuse a token that the access rules of this place do not admit now.  Abstains
    (``None``) when the rules admit it or no rule applies, so that the token table (blocked,
    expired, unknown) and the other policies still decide; an unknown token is left to the
    token table too (it answers Invalid).

    The refusal names its reason, ``NotAtThisTime`` or ``NotAtThisLocation`` (engine rule 5):
    OCPP 2.0.1 tells the station so, the 1.6 adapter answers ``Blocked`` (1.6 has neither)."""
    if not uid:
        return None
    moment = timezone.now()
    inputs = selectors.decision_inputs(
        uid=uid, station_id=station_id, evse_id=evse_id, moment=moment
    )
    if inputs is None or not inputs.token_known:
        return None
    decision = selectors.decide(inputs=inputs, moment=moment, port_known=evse_id is not None)
    if not decision.decided or decision.allowed:
        return None
    return AuthorizationDecision(AuthorizationStatus(decision.reason))


def on_station_connected(*, event: str, station_id: int, **_) -> None:
    """A station back online gets its list again if it is behind (the sync compares versions)."""
    from . import tasks

    tasks.local_list_sync.delay(station_id)


def on_stations_connected(*, entries: list, **_) -> None:
    """``on_station_connected`` for a batch of connects and boots (apps/core/events.py,
    "Batches"): one sync per station, however many of its events the batch holds."""
    from . import tasks

    for station_id in dict.fromkeys(payload["station_id"] for _, payload in entries):
        tasks.local_list_sync.delay(station_id)
