"""What each kind of notification says, in every language (gettext; French in this app's
catalogue).  A message is rendered in the contact's language with the asker's ``context``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


TEMPLATES: dict[str, tuple[Any, Any]] = {
    "waitlist.joined": (
        _("You are in the queue at %(group)s"),
        _(
            "You are number %(position)s in the queue at %(group)s. We will tell you when a port is free for you."
        ),
    ),
    "waitlist.promoted": (
        _("A port is waiting for you at %(group)s"),
        _("%(port)s is held for you until %(until)s. Tap your card or plug in there to charge."),
    ),
    "waitlist.expired": (
        _("Your hold at %(group)s has ended"),
        _(
            "You did not arrive in time: the port went to the next driver. You are back in the queue."
        ),
    ),
    "waitlist.dropped": (
        _("You have left the queue at %(group)s"),
        _("You missed your turn too often and were taken off the queue."),
    ),
    "valet.move_car": (
        _("Please move your car"),
        _(
            "Your car at %(port)s has finished charging. Please move it so the next driver can charge."
        ),
    ),
    # drivers (issue 20)
    "drivers.verify_email": (
        _("Confirm your e-mail address for %(network)s"),
        _(
            "Welcome! Open this link to confirm your e-mail address and start using your driver account: %(link)s"
        ),
    ),
}


def render(kind: str, context: dict[str, Any], language: str) -> Message:
    subject, body = TEMPLATES[kind]
    with translation.override(language or "en"):
        return Message(subject=str(subject) % context, body=str(body) % context)
