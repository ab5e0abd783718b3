"""Portal forms of webhooks.  They only check input; the writes are the services the API calls
(``services.webhook_create`` / ``webhook_update``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Site

from .choices import WebhookEvent


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The http(s) endpoint that receives a signed POST per event."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[choice for choice in WebhookEvent.choices if choice[0] != WebhookEvent.PING],
        widget=forms.CheckboxSelectMultiple,
    )
    sites = forms.ModelMultipleChoiceField(
        label=_("Only these sites"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: events of every site."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = Site.objects.restrict(actor, "sites.view").order_by("name")

    @classmethod
    def initial_of(cls, webhook) -> dict:
        return {
            "name": webhook.name,
            "url": webhook.url,
            "events": list(webhook.events),
            "sites": list(webhook.sites.all()),
            "is_active": webhook.is_active,
        }
