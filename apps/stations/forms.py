"""Portal forms of the inventory.  They only check input: every write goes through the same
service the API calls (``services.site_create`` / ``site_update`` / ``site_delete``)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Site
from .services import SITE_EDITABLE


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class SiteForm(forms.ModelForm):
    """A site: name, address, coordinates (typed, or picked on the map) and time zone."""

    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)

    class Meta:
        model = Site
        fields = [
            "name",
            "address",
            "city",
            "region",
            "postal_code",
            "country",
            "latitude",
            "longitude",
            "timezone",
        ]
        labels = {
            "name": _("Name"),
            "address": _("Street address"),
            "city": _("City"),
            "region": _("Province / state"),
            "postal_code": _("Postal code"),
            "country": _("Country (two letters)"),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
        }
        widgets = {
            "latitude": forms.NumberInput(attrs={"step": "0.000001", "data-map-lat": ""}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001", "data-map-lon": ""}),
        }

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean(self):
        data = super().clean()
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if (latitude is None) != (longitude is None) and not self.errors:
            raise forms.ValidationError(_("Give both the latitude and the longitude, or neither."))
        return data

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in SITE_EDITABLE}
