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


def on_contact_preferences(
    *,
    event: str,
    keys: list[str],
    email: str,
    phone: str,
    language: str,
    email_enabled: bool,
    sms_enabled: bool,
    push_enabled: bool,
    **_: Any,
) -> None:
    """A driver's preferences (apps.drivers): the same for their own key and their cards'."""
    for key in keys:
        services.contact_update(
            key=key,
            email=email,
            phone=phone,
            language=language,
            email_enabled=email_enabled,
            sms_enabled=sms_enabled,
            push_enabled=push_enabled,
        )
