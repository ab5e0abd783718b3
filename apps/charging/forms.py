"""Portal forms of tokens.  They only check input: writes go through ``services.token_*``,
the functions the API calls."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import IdToken
from .services import TOKEN_EDITABLE


class IdTokenForm(forms.ModelForm):
    class Meta:
        model = IdToken
        fields = ["uid", "token_type", "label", "is_active", "expires_at", "parent_uid"]
        labels = {
            "uid": _("Token"),
            "token_type": _("Type"),
            "label": _("Label"),
            "is_active": _("Active (may charge)"),
            "expires_at": _("Expires"),
            "parent_uid": _("Group (parent token)"),
        }
        help_texts = {
            "uid": _("As the reader sends it: an RFID card's UID in hexadecimal, an eMAID..."),
            "expires_at": _("Leave empty: never expires."),
        }
        widgets = {
            "expires_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def clean_uid(self) -> str:
        return self.cleaned_data["uid"].strip()

    def service_fields(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in TOKEN_EDITABLE
        }
