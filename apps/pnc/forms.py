from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.ocpp import payloads

from .models import PncSettings


class TrustedRootForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    certificate_pem = forms.CharField(
        label=_("Root certificate (PEM)"), widget=forms.Textarea(attrs={"rows": 6})
    )


class StationPickForm(forms.Form):
    identity = forms.CharField(label=_("Station identity"), max_length=100)


class InstallCertificateForm(forms.Form):
    """InstallCertificate: the types offered follow the station's OCPP version."""

    certificate_type = forms.ChoiceField(label=_("Type"))
    certificate_pem = forms.CharField(
        label=_("CA certificate (PEM)"), widget=forms.Textarea(attrs={"rows": 6})
    )

    TYPE_LABELS = {
        "V2GRootCertificate": _("V2G root (ISO 15118)"),
        "MORootCertificate": _("Mobility operator root"),
        "CSMSRootCertificate": _("Central system (CSMS) root"),
        "ManufacturerRootCertificate": _("Manufacturer root (firmware)"),
    }

    def __init__(self, *args, version: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["certificate_type"].choices = [
            (kind, self.TYPE_LABELS[kind]) for kind in payloads.certificate_types(version)
        ]


class PncSettingsForm(forms.ModelForm):
    pool_url = forms.URLField(
        label=_("contract certificate pool URL"), required=False, assume_scheme="https"
    )
    ocsp_responder_url = forms.URLField(
        label=_("OCSP responder URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Asked for every certificate; empty: the responder named in the certificate."),
    )

    class Meta:
        model = PncSettings
        fields = [
            "pool_url",
            "pool_timeout_seconds",
            "pool_ca_pem",
            "ocsp_responder_url",
            "ocsp_timeout_seconds",
            "accept_unknown_ocsp",
        ]
        widgets = {"pool_ca_pem": forms.Textarea(attrs={"rows": 5})}
        help_texts = {
            "accept_unknown_ocsp": _(
                "When the OCSP responder is down or has no answer: accept the contract (the "
                "token decides) instead of refusing it. A known revocation is always refused."
            ),
        }

    def clean_pool_timeout_seconds(self):
        return _bounded(self.cleaned_data["pool_timeout_seconds"])

    def clean_ocsp_timeout_seconds(self):
        return _bounded(self.cleaned_data["ocsp_timeout_seconds"])


def _bounded(value: float) -> float:
    if not 0.1 <= value <= 30:
        raise forms.ValidationError(_("Between 0.1 and 30 seconds."))
    return value
