"""Forms of the remote-control panel; their choices follow the station's OCPP version.

A form only parses what the person entered: ``arguments()`` gives the keyword arguments of its
command in the OCPP command service (``apps.ocpp.commands``, the API's service too), which the
view calls."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.charging.choices import SessionStatus
from apps.charging.models import ChargingSession
from apps.ocpp import payloads
from apps.stations.choices import OcppVersion

from .choices import AlertKind

V16, V201 = payloads.V16, payloads.V201
# What the portal offers, per version (the schemas allow these values).
TRIGGER_MESSAGES = {
    V16: (
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "FirmwareStatusNotification",
        "DiagnosticsStatusNotification",
    ),
    V201: (
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "TransactionEvent",
        "FirmwareStatusNotification",
        "LogStatusNotification",
    ),
}


class StationCommandForm(forms.Form):
    def __init__(self, *args, station, actor=None, **kwargs) -> None:
        self.station = station
        self.actor = actor
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)

    prefix_name = ""

    def arguments(self) -> dict:
        """The command service's keyword arguments (besides requester and station)."""
        return dict(self.cleaned_data)

    @property
    def version(self) -> str:
        return self.station.ocpp_version or V16

    def port_choices(self, *, whole_station: bool = False) -> list[tuple[int, str]]:
        choices = [(0, _("Whole station"))] if whole_station else []
        return choices + [
            (evse.evse_id, _("Port %(n)s") % {"n": evse.evse_id})
            for evse in self.station.evses.all()
        ]


class ResetForm(StationCommandForm):
    prefix_name = "reset"
    reset_type = forms.ChoiceField(label=_("Kind of reset"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "Soft": _("Soft (restart the software)"),
            "Hard": _("Hard (reboot)"),
            "Immediate": _("Immediately"),
            "OnIdle": _("When no one is charging"),
        }
        self.fields["reset_type"].choices = [
            (value, labels[value]) for value in payloads.RESET_TYPES[self.version].values()
        ]

    def arguments(self) -> dict:
        """The version's own word for the reset, as the API's ``kind``."""
        words = payloads.RESET_TYPES[self.version]
        return {"kind": "hard" if self.cleaned_data["reset_type"] == words["hard"] else "soft"}


class UnlockForm(StationCommandForm):
    prefix_name = "unlock"
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Port"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evse_id"].choices = self.port_choices()


class AvailabilityForm(StationCommandForm):
    prefix_name = "availability"
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Where"))
    operative = forms.TypedChoiceField(
        coerce=lambda value: value == "1",
        choices=[("1", _("Make available")), ("0", _("Make unavailable"))],
        label=_("Availability"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evse_id"].choices = self.port_choices(whole_station=True)


class TriggerForm(StationCommandForm):
    prefix_name = "trigger"
    message = forms.ChoiceField(label=_("Message"))
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Port"), required=False, empty_value=0)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["message"].choices = [(m, m) for m in TRIGGER_MESSAGES[self.version]]
        self.fields["evse_id"].choices = self.port_choices(whole_station=True)


def _check_variable(key: str) -> None:
    """A 2.0.1 key the command builder understands, or the builder's reason why not."""
    try:
        payloads.parse_variable(key)
    except payloads.BadKey as error:
        raise forms.ValidationError(str(error)) from None


class ConfigurationReadForm(StationCommandForm):
    prefix_name = "configuration_read"
    keys = forms.CharField(
        required=False,
        label=_("Keys"),
        widget=forms.TextInput(attrs={"placeholder": _("empty: the usual ones")}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.version == OcppVersion.V201:
            self.fields["keys"].help_text = _(
                "Component/Variable names, separated by commas "
                "(e.g. OCPPCommCtrlr/HeartbeatInterval); empty: the usual ones."
            )
        else:
            self.fields["keys"].help_text = _(
                "Configuration keys, separated by commas; empty: all."
            )

    def clean_keys(self) -> list[str]:
        """Comma-separated keys; none on a 2.0.1 station (which has no "everything"): the
        usual ones (``payloads.DEFAULT_VARIABLES``)."""
        keys = [key.strip() for key in self.cleaned_data["keys"].split(",") if key.strip()]
        if self.version == OcppVersion.V201:
            for key in keys:
                _check_variable(key)
            return keys or list(payloads.DEFAULT_VARIABLES)
        return keys


class ConfigurationChangeForm(StationCommandForm):
    prefix_name = "configuration_change"
    key = forms.CharField(max_length=100, label=_("Key"))
    value = forms.CharField(max_length=1000, required=False, label=_("New value"))

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip()
        if self.version == OcppVersion.V201:
            _check_variable(key)
        return key

    def arguments(self) -> dict:
        return {"changes": [{"key": self.cleaned_data["key"], "value": self.cleaned_data["value"]}]}


class RemoteStartForm(StationCommandForm):
    prefix_name = "remote_start"
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Port"))
    id_token = forms.CharField(max_length=36, label=_("Token to charge with"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evse_id"].choices = self.port_choices()


class RemoteStopForm(StationCommandForm):
    prefix_name = "remote_stop"
    session = forms.ModelChoiceField(
        queryset=ChargingSession.objects.none(), label=_("Session"), empty_label=None
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = ChargingSession.objects.filter(
            station=self.station, status=SessionStatus.ACTIVE
        ).select_related("station", "evse")
        self.fields["session"].label_from_instance = lambda session: (
            _("Port %(port)s, token %(token)s (tx %(tx)s)")
            % {
                "port": session.evse.evse_id,
                "token": session.id_token,
                "tx": session.transaction_id,
            }
        )


class PasswordRotateForm(StationCommandForm):
    """No input: the command service generates a strong password (OCPP 2.0.1 A01, 1.6
    AuthorizationKey) and the old one keeps working until the station logs in with it."""

    prefix_name = "password_rotate"


COMMAND_FORMS: dict[str, type[StationCommandForm]] = {
    "reset": ResetForm,
    "unlock": UnlockForm,
    "availability": AvailabilityForm,
    "trigger": TriggerForm,
    "configuration_read": ConfigurationReadForm,
    "configuration_change": ConfigurationChangeForm,
    "remote_start": RemoteStartForm,
    "remote_stop": RemoteStopForm,
    "password_rotate": PasswordRotateForm,
}
COMMAND_PERMISSIONS = {
    "configuration_read": "stations.configure",
    "configuration_change": "stations.configure",
    "password_rotate": "stations.configure",
}


def command_forms(*, station, actor) -> dict[str, StationCommandForm]:
    """Unbound forms of the commands the actor may send to this station."""
    result = {}
    for name, form_class in COMMAND_FORMS.items():
        if name == "remote_stop":  # one button per running session, in the sessions panel
            continue
        permission = COMMAND_PERMISSIONS.get(name, "stations.command")
        if actor.scope_for(permission).covers_site(station.site_id):
            result[name] = form_class(station=station, actor=actor)
    return result


class AlertSubscriptionForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("E-mail me about"),
    )
    all_sites = forms.BooleanField(required=False, label=_("On all the sites I can see"))
    sites = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label=_("Only on")
    )
    notify_on_clear = forms.BooleanField(required=False, label=_("Also when it clears"))

    def __init__(self, *args, sites_queryset, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = sites_queryset

    def clean(self):
        data = super().clean()
        if data.get("kinds") and not data.get("all_sites") and not data.get("sites"):
            raise forms.ValidationError(_("Choose the sites, or all of them."))
        return data


class AlertActionForm(forms.Form):
    """Acknowledge or resolve an alert, with an optional note (what is being done)."""

    note = forms.CharField(
        max_length=500,
        required=False,
        label=_("Note"),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. technician on the way")}),
    )
