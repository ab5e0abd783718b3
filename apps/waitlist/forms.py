from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Station

from .models import WaitlistGroup


class WaitlistGroupForm(forms.ModelForm):
    class Meta:
        model = WaitlistGroup
        fields = [
            "name",
            "stations",
            "hold_minutes",
            "max_no_shows",
            "allow_several_queues",
            "opens_at",
            "closes_at",
            "is_active",
        ]
        widgets = {
            "stations": forms.CheckboxSelectMultiple,
            "opens_at": forms.TimeInput(attrs={"type": "time"}),
            "closes_at": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stations"].queryset = Station.objects.filter(site=site).order_by("identity")


class JoinForm(forms.Form):
    token_uid = forms.CharField(label=_("Card number (as printed on your card)"), max_length=64)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    phone = forms.CharField(label=_("Mobile phone (optional)"), max_length=20, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
