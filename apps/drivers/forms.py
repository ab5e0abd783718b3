from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from apps.stations.choices import ConnectorType

from .models import Driver, FinderListing


class FinderForm(forms.Form):
    """The finder's filters and where the driver is (typed or from the browser)."""

    near = forms.CharField(
        label=_("Near"),
        required=False,
        max_length=120,
        help_text=_("A place, an address or coordinates (45.50, -73.56)."),
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    connector = forms.ChoiceField(
        label=_("Connector"),
        required=False,
        choices=[("", _("Any"))] + list(ConnectorType.choices),
    )
    min_kw = forms.ChoiceField(
        label=_("Power"),
        required=False,
        choices=[
            ("", _("Any")),
            ("7", "≥ 7 kW"),
            ("22", "≥ 22 kW"),
            ("50", "≥ 50 kW"),
            ("150", "≥ 150 kW"),
        ],
    )
    free = forms.BooleanField(label=_("Free now"), required=False)
    public = forms.BooleanField(label=_("Public access only"), required=False)


class SignUpForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    full_name = forms.CharField(label=_("Name"), max_length=120, required=False)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=10)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class PreferencesForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    class Meta:
        model = Driver
        fields = ["full_name", "language", "phone", "notify_email", "notify_sms", "notify_push"]


class CardForm(forms.Form):
    uid = forms.CharField(label=_("Card number"), max_length=64)


class CardCodeForm(forms.Form):
    code = forms.CharField(label=_("Code printed on the card"), max_length=12)


class TipForm(forms.Form):
    body = forms.CharField(
        label=_("Your tip"), widget=forms.Textarea(attrs={"rows": 3}), min_length=3, max_length=1000
    )
    photo = forms.FileField(label=_("Photo (optional)"), required=False)


class DeleteForm(forms.Form):
    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput)
    delete_tips = forms.BooleanField(label=_("Delete my tips too"), required=False)


class FinderListingForm(forms.ModelForm):
    class Meta:
        model = FinderListing
        fields = ["site", "published", "access", "shared", "opens_at", "closes_at", "access_note"]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}),
            "closes_at": forms.TimeInput(attrs={"type": "time"}),
        }
