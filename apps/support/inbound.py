"""Inbound e-mail: the provider posts each received message to a webhook; django-anymail
parses every provider's format into one ``AnymailInboundMessage``.  One endpoint per provider
on the platform's public host (one inbound route serves every tenant): the case's reply
address, or its subject's reference, names the tenant and the case.

Anymail's views normally hand each event to a Django signal; these subclasses hand it to the
support service instead (in the case's tenant), so the whole path is explicit.  The webhook is
protected by anymail's basic auth (``ANYMAIL["WEBHOOK_SECRET"]``), and each provider's own
signature check where it has one.
"""

from __future__ import annotations

import logging

from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.http import Http404, HttpResponse
from django_tenants.utils import tenant_context

from apps.tenants.models import Tenant

from . import links, services

logger = logging.getLogger(__name__)


def receive(message, *, event_id: str = "") -> bool:
    """Thread one parsed message into its case.  True when it was kept."""
    recipients = [address.addr_spec for address in (message.to or []) + (message.cc or [])]
    recipients += [str(value) for value in message.get_all("Delivered-To", [])]
    addressed = links.addressed_case(recipients, message.subject or "")
    if addressed is None:
        logger.info("Inbound e-mail for no case (to %s)", recipients)
        return False
    tenant = Tenant.objects.filter(slug=addressed.tenant_slug).first()
    if tenant is None:
        return False
    sender = message.from_email.addr_spec if message.from_email else ""
    message_id = (message.get("Message-ID") or "").strip() or event_id
    with tenant_context(tenant):
        kept = services.inbound_email_receive(
            addressed=addressed,
            sender=sender,
            text=message.text or _text_of_html(message.html or ""),
            message_id=message_id,
        )
    return kept is not None


def _text_of_html(html: str) -> str:
    from django.utils.html import strip_tags

    return strip_tags(html.replace("<br>", "\n").replace("</p>", "\n"))


class _SupportInbound:
    """Parse with anymail, then call the service (not anymail's signal)."""

    def post(self, request, *args, **kwargs):
        self.run_validators(request)
        for event in self.parse_events(request):
            if event.message is not None:
                receive(event.message, event_id=event.event_id or "")
        return HttpResponse()


class PostmarkInbound(_SupportInbound, PostmarkInboundWebhookView):
    pass


class MailgunInbound(_SupportInbound, MailgunInboundWebhookView):
    pass


class SendGridInbound(_SupportInbound, SendGridInboundWebhookView):
    pass


class AmazonSESInbound(_SupportInbound, AmazonSESInboundWebhookView):
    pass


PROVIDERS = {
    "postmark": PostmarkInbound,
    "mailgun": MailgunInbound,
    "sendgrid": SendGridInbound,
    "amazon_ses": AmazonSESInbound,
}
_views = {name: view.as_view() for name, view in PROVIDERS.items()}


def inbound_webhook(request, provider: str):
    view = _views.get(provider)
    if view is None or not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        raise Http404  # unknown provider, or no secret: nobody may post replies
    return view(request)
