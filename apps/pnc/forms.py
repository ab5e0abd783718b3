from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TrustedRootForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    certificate_pem = forms.CharField(
        label=_("Root certificate (PEM)"), widget=forms.Textarea(attrs={"rows": 6})
    )
