from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import PricingGoal, Sector
from .engine import Tariff as TariffDefinition
from .engine import TariffError


class TariffForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    definition = forms.CharField(
        label=_("Prices (JSON)"),
        widget=forms.Textarea(attrs={"rows": 18, "class": "code"}),
        help_text=_("The pricing models and their JSON form are described in docs/billing.md."),
    )
    effective_from = forms.DateTimeField(label=_("In force from"), required=False)

    def clean_definition(self):
        try:
            data = json.loads(self.cleaned_data["definition"])
            TariffDefinition.from_dict(data)
        except ValueError as error:  # JSONDecodeError and TariffError are ValueErrors
            problems = error.problems if isinstance(error, TariffError) else [str(error)]
            raise forms.ValidationError(problems) from error
        return data


class WizardForm(forms.Form):
    sector = forms.ChoiceField(label=_("Business sector"), choices=Sector.choices)
    goal = forms.ChoiceField(label=_("Goal"), choices=PricingGoal.choices)
    energy_price_per_kwh = forms.DecimalField(
        label=_("Utility energy price (per kWh)"), min_value=0, max_digits=10, decimal_places=6
    )
    demand_charge_per_kw_month = forms.DecimalField(
        label=_("Demand charge (per kW per month)"),
        min_value=0,
        max_digits=10,
        decimal_places=4,
        required=False,
        initial=0,
    )
    margin_percent = forms.DecimalField(
        label=_("Margin (%)"),
        min_value=0,
        max_value=500,
        decimal_places=2,
        initial=20,
        required=False,
    )

    def answers(self) -> dict:
        data = dict(self.cleaned_data)
        data["demand_charge_per_kw_month"] = data.get("demand_charge_per_kw_month") or 0
        if data.get("margin_percent") is None:
            data.pop("margin_percent", None)
        return data


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        min_value=0,
        decimal_places=4,
        help_text=_("Leave empty to refund everything that is left."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
