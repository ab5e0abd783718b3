"""The receipt e-mailed to the driver after a session is priced.

Once per session cost: the ``ReceiptEmail`` row is the claim and is locked while the mail is
handed to the mail backend; ``sent_at`` is set in the same transaction.  If sending fails the
transaction rolls back and the task retries; a crash between the hand-over and the commit
can send the same receipt twice (at least once, never lost), which a receipt tolerates.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ..models import ReceiptEmail, SessionCost


def receipt_context(cost: SessionCost) -> dict:
    session = cost.session
    zone = ZoneInfo(cost.site_timezone)
    lines = list(cost.lines.order_by("position"))
    return {
        "cost": cost,
        "operator": connection.tenant.name,
        "site": session.station.site,
        "station": session.station,
        "started_local": session.started_at.astimezone(zone),
        "ended_local": session.ended_at.astimezone(zone) if session.ended_at else None,
        "timezone": cost.site_timezone,
        "energy_kwh": Decimal(cost.energy_wh).scaleb(-3),
        "lines": [line for line in lines if not line.is_tax],
        "taxes": [line for line in lines if line.is_tax],
    }


def receipt_message(cost: SessionCost, *, recipient: str, language: str) -> EmailMultiAlternatives:
    # Dates on the site's clock, words in the driver's language.
    with translation.override(language), timezone.override(ZoneInfo(cost.site_timezone)):
        context = receipt_context(cost)
        subject = render_to_string("billing/email/receipt_subject.txt", context)
        text = render_to_string("billing/email/receipt.txt", context)
        html = render_to_string("billing/email/receipt.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
    )
    message.attach_alternative(html, "text/html")
    return message


def receipt_email_send(*, session_cost_id: int) -> ReceiptEmail | None:
    """E-mail the receipt to the driver account's address, once.  ``None``: nobody to send
    it to (no driver account, or no e-mail address)."""
    cost = SessionCost.objects.select_related("driver_account", "session__station__site").get(
        pk=session_cost_id
    )
    account = cost.driver_account
    if account is None or not account.email:
        return None
    language = getattr(connection.tenant, "language", "") or settings.LANGUAGE_CODE
    with transaction.atomic():
        record, _ = ReceiptEmail.objects.get_or_create(
            cost=cost, defaults={"recipient": account.email, "language": language}
        )
        record = ReceiptEmail.objects.select_for_update().get(pk=record.pk)
        if record.sent_at is not None:
            return record
        receipt_message(cost, recipient=record.recipient, language=record.language).send()
        record.sent_at = timezone.now()
        record.save(update_fields=["sent_at"])
    return record
