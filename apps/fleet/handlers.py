"""The core's events and questions, answered by the fleet app (subscribed in ``apps.py``)."""

from __future__ import annotations

from . import selectors, services


def on_session_started(*, event: str, session_id: int, **_) -> None:
    services.vehicle_session_record(session_id=session_id)


def on_session_ended(*, event: str, session_id: int, **_) -> None:
    services.vehicle_session_ended(session_id=session_id)


token_memberships = selectors.token_memberships
member_tokens = selectors.member_tokens
session_vehicles = selectors.session_vehicles
