"""Reactions to domain events (subscribed in ``NotificationsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from . import services


def on_notification_requested(
    *, event: str, recipient: dict, kind: str, event_key: str, context: dict, **_: Any
) -> None:
    services.notification_request(
        recipient=recipient, kind=kind, event_key=event_key, context=context
    )
