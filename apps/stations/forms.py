"""Portal forms of the inventory.  They only check input: every write goes through the same
service the API calls (``services.site_create`` / ``site_update`` / ``site_delete``)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.tenants.models import StationIdentity

from .choices import ConnectorType, RegistrationStatus
from .models import Connector, Evse, Site, Station
from .passwords import validate_station_password
from .services import SITE_EDITABLE
from .tags import normalize_tags

IDENTITY_PATTERN = r"^[A-Za-z0-9*\-_=:+|@.]{1,48}$"


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


class StationTagsField(forms.CharField):
    """Tags typed as one line (``garage-b, fleet``); cleaned to their normal form."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Tags"))
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _("Separated by commas or spaces: lowercase letters, digits, - and _."),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value) -> list[str]:
        return normalize_tags(super().to_python(value) or "")


class _StationSiteField:
    """The site a station is on: one of the caller's sites (``stations.configure``); only a
    caller who configures every site may leave it empty (as the API's serializer says)."""

    def scope_site(self, actor) -> None:
        scope = actor.scope_for("stations.configure")
        field = self.fields["site"]
        field.queryset = (
            Site.objects.restrict(actor, "stations.configure")
            .filter(archived_at__isnull=True)
            .order_by("name")
        )
        field.required = not scope.all_sites
        field.label = _("Site")


class StationRegisterForm(_StationSiteField, forms.Form):
    identity = forms.RegexField(
        label=_("OCPP identity"),
        regex=IDENTITY_PATTERN,
        max_length=48,
        help_text=_("The last part of the address the station connects to."),
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    site = forms.ModelChoiceField(queryset=Site.objects.none())
    evse_count = forms.IntegerField(label=_("Ports"), min_value=1, max_value=32, initial=1)
    max_current_a = forms.DecimalField(
        label=_("Maximum current per port (A)"),
        min_value=6,
        max_value=1000,
        max_digits=6,
        decimal_places=1,
        initial=32,
    )
    phases = forms.TypedChoiceField(
        label=_("Phases"), choices=[(1, "1"), (3, "3")], coerce=int, initial=3
    )
    connector_type = forms.ChoiceField(
        label=_("Connector"), choices=ConnectorType.choices, initial="cType2"
    )
    tags = StationTagsField()
    password = forms.CharField(
        label=_("Password"),
        required=False,
        validators=[validate_station_password],
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to generate one. 16 to 40 characters; shown once."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_site(actor)

    def clean_identity(self) -> str:
        identity = self.cleaned_data["identity"]
        # Identities are unique across every tenant (one public registry).
        if StationIdentity.objects.filter(identity=identity).exists():
            raise forms.ValidationError(_("This identity is already registered."))
        return identity


class StationEditForm(_StationSiteField, forms.ModelForm):
    """Name, site (moving the station), tags, registration and protocol settings."""

    tags = StationTagsField()

    class Meta:
        model = Station
        fields = [
            "name",
            "site",
            "tags",
            "registration_status",
            "heartbeat_interval",
            "security_profile",
            "lax_validation",
        ]
        labels = {
            "name": _("Name"),
            "registration_status": _("Registration"),
            "heartbeat_interval": _("Heartbeat interval (s)"),
            "security_profile": _("Security profile"),
            "lax_validation": _("Accept messages that break the OCPP schema"),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_site(actor)
        self.fields["registration_status"].choices = RegistrationStatus.choices

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MessageLimitsForm(forms.Form):
    """A station's overrides of what it takes in one message (OCPP 2.0.1 B06-B08): items and
    bytes per GetVariables, SetVariables and GetReport.  Empty: the station's own report
    counts.  Written by ``apps.ocpp.services.message_limits_override`` (as the API does)."""

    REQUESTS = ("GetVariables", "SetVariables", "GetReport")
    MEASURES = {
        "ItemsPerMessage": _("Items per %(request)s"),
        "BytesPerMessage": _("Bytes per %(request)s"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for request in self.REQUESTS:
            for measure, label in self.MEASURES.items():
                key = f"{measure}/{request}"
                self.fields[self.field_name(key)] = forms.IntegerField(
                    label=label % {"request": request},
                    required=False,
                    min_value=1,
                )

    @staticmethod
    def field_name(key: str) -> str:
        measure, request = key.split("/")
        return f"{measure.lower()}_{request.lower()}"

    def overrides(self) -> dict[str, int | None]:
        """Every limit, None where the field was left empty (that override is removed)."""
        return {
            f"{measure}/{request}": self.cleaned_data[self.field_name(f"{measure}/{request}")]
            for request in self.REQUESTS
            for measure in self.MEASURES
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            name = self.field_name(key) if "/" in key else None
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class EvseForm(forms.ModelForm):
    """A port's ratings (``services.evse_update``, as ``PATCH /api/v1/evses/<id>/``)."""

    class Meta:
        model = Evse
        fields = ["max_current_a", "min_current_a", "phases", "max_power_w"]
        labels = {
            "max_current_a": _("Maximum current (A)"),
            "min_current_a": _("Minimum current (A)"),
            "phases": _("Phases"),
            "max_power_w": _("Maximum power (W)"),
        }

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class EvseAddForm(EvseForm):
    """One more port (``services.evse_add``, as ``POST /api/v1/evses/``)."""

    connector_type = forms.ChoiceField(
        label=_("Connector"), choices=ConnectorType.choices, initial="cType2"
    )

    class Meta(EvseForm.Meta):
        help_texts = {"max_power_w": _("Leave empty: from the current and phases at 230 V.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["max_power_w"].required = False

    def service_fields(self) -> dict:
        return {**super().service_fields(), "connector_type": self.cleaned_data["connector_type"]}


class ConnectorForm(forms.ModelForm):
    """A connector's plug and power (``services.connector_update``)."""

    connector_type = forms.ChoiceField(label=_("Connector"), choices=ConnectorType.choices)

    class Meta:
        model = Connector
        fields = ["connector_type", "max_power_w"]
        labels = {"max_power_w": _("Maximum power (W)")}
        help_texts = {"max_power_w": _("Leave empty: the port's.")}

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
