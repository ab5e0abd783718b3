"""The channels behind narrow adapters: each says whether it can reach a contact and sends one
rendered message (raising on failure; the service retries)."""

from __future__ import annotations

import json

from django.core.mail import EmailMessage

from . import conf, sms
from .choices import Channel
from .messages import Message
from .models import Contact


class ChannelError(Exception):
    pass


def reachable(channel: str, contact: Contact) -> bool:
    if channel == Channel.EMAIL:
        return contact.email_enabled and bool(contact.email)
    if channel == Channel.SMS:
        return contact.sms_enabled and bool(contact.phone)
    if channel == Channel.PUSH:
        return (
            contact.push_enabled
            and bool(conf.get("VAPID_PRIVATE_KEY"))
            and contact.push_subscriptions.exists()
        )
    return False


def send_email(contact: Contact, message: Message) -> None:
    EmailMessage(
        subject=message.subject,
        body=message.body,
        to=[contact.email],
        reply_to=[message.reply_to] if message.reply_to else None,
    ).send()


def send_sms(contact: Contact, message: Message) -> None:
    sms.backend().send(to=contact.phone, body=f"{message.subject}. {message.body}")


def send_push(contact: Contact, message: Message) -> None:
    """Web Push with VAPID (pywebpush) to each of the contact's browsers; a subscription the
    push service says is gone (404/410) is forgotten."""
    # Lazy on purpose: pywebpush (and its crypto) loads only where a push is sent.
    from pywebpush import WebPushException, webpush  # noqa: PLC0415

    data = json.dumps({"title": message.subject, "body": message.body})
    delivered, errors = 0, []
    for subscription in list(contact.push_subscriptions.all()):
        try:
            webpush(
                subscription_info=subscription.as_subscription_info(),
                data=data,
                vapid_private_key=conf.get("VAPID_PRIVATE_KEY"),
                vapid_claims={"sub": conf.get("VAPID_SUBJECT", "mailto:noreply@localhost")},
                timeout=10,
            )
            delivered += 1
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in (404, 410):
                subscription.delete()
            else:
                errors.append(str(error))
    if errors and not delivered:
        raise ChannelError("; ".join(errors))


SENDERS = {Channel.EMAIL: send_email, Channel.SMS: send_sms, Channel.PUSH: send_push}
