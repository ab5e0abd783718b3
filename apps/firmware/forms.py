from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Site
from apps.stations.tags import normalize_tags

from .models import FirmwareImage


class FirmwareImageForm(forms.Form):
    file = forms.FileField(label=_("Image file"))
    vendor = forms.CharField(label=_("Vendor"), max_length=50)
    model = forms.CharField(label=_("Model"), max_length=50)
    version = forms.CharField(label=_("Version"), max_length=50)
    sha256 = forms.RegexField(
        label=_("SHA-256 of the file (hexadecimal)"),
        regex=r"^\s*[0-9a-fA-F]{64}\s*$",
        error_messages={"invalid": _("64 hexadecimal digits.")},
    )
    signature = forms.CharField(
        label=_("Signature (Base64, for a signed update)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    signing_certificate = forms.CharField(
        label=_("Signing certificate (PEM, for a signed update)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


def _numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationError(_("Whole numbers separated by commas.")) from None


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    image = forms.ModelChoiceField(label=_("Image"), queryset=FirmwareImage.objects.none())
    model = forms.CharField(
        label=_("Station model (empty: the image's)"), max_length=50, required=False
    )
    versions = forms.CharField(
        label=_("Only stations on these versions (comma-separated; empty: any)"),
        required=False,
    )
    sites = forms.ModelMultipleChoiceField(
        label=_("Only these sites (none ticked: every site)"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(
        label=_("Only stations with all these tags (comma-separated; empty: any)"),
        required=False,
    )
    canary_count = forms.IntegerField(label=_("Canary stations"), min_value=0, initial=1)
    wave_percents = forms.CharField(
        label=_("Waves after the canary (cumulative %, comma-separated)"), initial="10, 50"
    )
    concurrency = forms.IntegerField(label=_("At most this many at once"), min_value=1, initial=10)
    failure_threshold_percent = forms.IntegerField(
        label=_("Pause when a wave's failures exceed (%)"), min_value=0, max_value=100, initial=20
    )
    max_attempts = forms.IntegerField(
        label=_("Attempts per station"), min_value=1, max_value=10, initial=3
    )
    retry_backoff_seconds = forms.IntegerField(
        label=_("First retry after (seconds; doubles each time)"), min_value=0, initial=300
    )
    window_start = forms.TimeField(
        label=_("Maintenance window from (site's local time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    window_end = forms.TimeField(
        label=_("Maintenance window until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    force = forms.BooleanField(label=_("Update even during a session"), required=False)
    start = forms.BooleanField(label=_("Start at once"), required=False, initial=True)

    def __init__(self, *args, images, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].queryset = images
        self.fields["sites"].queryset = sites

    def clean_tags(self) -> list[str]:
        return normalize_tags(self.cleaned_data["tags"])

    def clean_versions(self) -> list[str]:
        return [v.strip() for v in self.cleaned_data["versions"].split(",") if v.strip()]

    def clean_wave_percents(self) -> list[int]:
        percents = _numbers(self.cleaned_data["wave_percents"])
        if any(not 1 <= p <= 100 for p in percents):
            raise ValidationError(_("Percentages from 1 to 100."))
        return percents
