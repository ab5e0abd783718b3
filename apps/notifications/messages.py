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
    reply_to: str = ""  # the asker's ``reply_to`` (support: the case's reply address)


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
    # support (issue 20): the reference in brackets is how an answer by e-mail finds its case
    "support.verify": (
        _("Please confirm your request: %(title)s"),
        _(
            "Open this link to confirm your e-mail address and send your request to our support team:\n%(link)s\n\nIf you did not ask for help, ignore this message."
        ),
    ),
    "support.opened": (
        _("[%(reference)s] We have your request: %(title)s"),
        _(
            "Thank you. Your request %(reference)s is with our support team; we will answer by e-mail. Reply to this e-mail to add to it, or follow it here:\n%(link)s"
        ),
    ),
    "support.new_case": (
        _("[%(reference)s] New case: %(title)s"),
        _("%(author)s wrote:\n\n%(body)s\n\nOpen the case:\n%(link)s"),
    ),
    "support.message": (
        _("[%(reference)s] %(title)s"),
        _(
            "%(author)s wrote:\n\n%(body)s\n\nAnswer by replying to this e-mail (keep %(reference)s in the subject), or here:\n%(link)s"
        ),
    ),
    "support.resolved": (
        _("[%(reference)s] Resolved: %(title)s"),
        _(
            "Your request %(reference)s is resolved. If the problem is still there, reply to this e-mail or answer here:\n%(link)s"
        ),
    ),
    "support.breach_first_response": (
        _("[%(reference)s] First answer overdue: %(title)s"),
        _("Case %(reference)s was due a first answer at %(due)s.\n%(link)s"),
    ),
    "support.breach_resolution": (
        _("[%(reference)s] Resolution overdue: %(title)s"),
        _("Case %(reference)s was due to be resolved at %(due)s.\n%(link)s"),
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
        return Message(
            subject=str(subject) % context,
            body=str(body) % context,
            reply_to=str(context.get("reply_to") or ""),
        )
