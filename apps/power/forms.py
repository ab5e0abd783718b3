from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class LimitForm(forms.Form):
    """A temporary limit on a node, from the portal."""

    limit_a = forms.DecimalField(
        label=_("Amps per line"), required=False, min_value=0, max_digits=7, decimal_places=1
    )
    limit_kw = forms.DecimalField(
        label=_("kW"), required=False, min_value=0, max_digits=10, decimal_places=3
    )
    hours = forms.DecimalField(
        label=_("For (hours)"),
        min_value=Decimal("0.25"),
        max_value=Decimal("168"),
        initial=Decimal("1"),
        max_digits=5,
        decimal_places=2,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    def clean(self):
        data = super().clean()
        if data.get("limit_a") is None and data.get("limit_kw") is None:
            raise forms.ValidationError(_("Give a limit in amps, in kW, or both."))
        return data


class PlannerForm(forms.Form):
    port_kw = forms.DecimalField(
        label=_("Power of a new port (kW)"),
        min_value=Decimal("1"),
        max_value=Decimal("350"),
        initial=Decimal("7.4"),
        max_digits=6,
        decimal_places=1,
    )
    phases = forms.TypedChoiceField(
        label=_("Phases"), choices=[(1, "1"), (3, "3")], coerce=int, initial=3
    )
