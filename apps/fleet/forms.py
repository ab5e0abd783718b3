from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.stations.models import Site

from .choices import CardKind
from .models import Fleet, Vehicle
from .vin import validate_vin


class FleetForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    site = forms.ModelChoiceField(label=_("Home depot"), queryset=Site.objects.none())
    managers = forms.ModelMultipleChoiceField(
        label=_("Fleet managers"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(actor, "fleet.manage")
        self.fields["managers"].queryset = User.objects.filter(is_active=True).order_by("email")


class VehicleForm(forms.Form):
    fleet = forms.ModelChoiceField(label=_("Fleet"), queryset=Fleet.objects.none())
    make = forms.CharField(label=_("Make"), max_length=60)
    model = forms.CharField(label=_("Model"), max_length=60)
    battery_kwh = forms.DecimalField(
        label=_("Battery (kWh)"), max_digits=6, decimal_places=1, min_value=1
    )
    vin = forms.CharField(label=_("VIN"), max_length=17, validators=[validate_vin])
    plate = forms.CharField(label=_("Plate"), max_length=20, required=False)
    depot = forms.ModelChoiceField(
        label=_("Depot site"), queryset=Site.objects.none(), required=False
    )
    is_active = forms.BooleanField(label=_("In service"), required=False, initial=True)

    def __init__(self, *args, fleets, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fleet"].queryset = fleets
        self.fields["depot"].queryset = Site.objects.restrict(actor, "fleet.view")

    def clean_vin(self) -> str:
        return self.cleaned_data["vin"].upper()


class CardForm(forms.Form):
    uid = forms.CharField(label=_("Card number (token)"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=CardKind.choices, initial=CardKind.RFID)
    vehicle = forms.ModelChoiceField(
        label=_("Vehicle"), queryset=Vehicle.objects.none(), required=False
    )
    driver_name = forms.CharField(label=_("Driver"), max_length=120, required=False)

    def __init__(self, *args, fleet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = fleet.vehicles.all()


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ImportForm(forms.Form):
    what = forms.ChoiceField(
        label=_("What"), choices=[("vehicles", _("Vehicles")), ("cards", _("Cards"))]
    )
    file = forms.FileField(label=_("CSV or XLSX file"))
    keep_good = forms.BooleanField(label=_("Import the good rows anyway"), required=False)
    dry_run = forms.BooleanField(label=_("Only check"), required=False)
