"""Forms of the remote-control panel; their choices follow the station's OCPP version.

A form only parses what the person entered: ``arguments()`` gives the keyword arguments of its
command in the OCPP command service (``apps.ocpp.commands``, the API's service too), which the
view calls."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import zoneinfo

from django import forms
from django.core import validators
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
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
    """The key is picked from the station's own report (a datalist: typing stays possible)."""

    prefix_name = "configuration_change"
    key = forms.CharField(max_length=100, label=_("Key"))
    value = forms.CharField(max_length=1000, required=False, label=_("New value"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from .selectors import station_known_settings

        self.known_settings = [
            row for row in station_known_settings(station=self.station) if not row["readonly"]
        ]
        if self.known_settings:
            self.fields["key"].widget.attrs["list"] = f"station-settings-{self.station.pk}"
            self.fields["key"].help_text = _(
                "Pick one of the settings the station reported, or type a key."
            )
        elif self.version == V201:
            self.fields["key"].help_text = _(
                "Ask for the station's report to pick from its own settings."
            )
        else:
            self.fields["key"].help_text = _(
                "Read the whole configuration (no keys) to pick from the station's own keys."
            )

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


# --- Reservations, smart charging, local list, logs, firmware, display, data transfer --------
def _random_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


class _ForVersions:
    """A command only some OCPP versions have."""

    versions: tuple[str, ...] = (V16, V201)


class ReserveForm(StationCommandForm):
    prefix_name = "reserve"
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Port"))
    id_token = forms.CharField(max_length=36, label=_("For the token"))
    minutes = forms.TypedChoiceField(
        coerce=int,
        label=_("Hold it for"),
        choices=[
            (15, _("15 minutes")),
            (30, _("30 minutes")),
            (60, _("1 hour")),
            (120, _("2 hours")),
            (240, _("4 hours")),
        ],
        initial=30,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evse_id"].choices = self.port_choices()

    def arguments(self) -> dict:
        return {
            "evse_id": self.cleaned_data["evse_id"],
            "id_token": self.cleaned_data["id_token"].strip(),
            "reservation_id": _random_id(),
            "expires_at": timezone.now() + dt.timedelta(minutes=self.cleaned_data["minutes"]),
        }


class CancelReservationForm(StationCommandForm):
    """The station's reservations still running, as the audit log knows them (ours, and those
    the waiting list made), named by port, token and end."""

    prefix_name = "cancel_reservation"
    reservation_id = forms.TypedChoiceField(coerce=int, label=_("Reservation"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        zone = self.station.site.timezone if self.station.site_id else "UTC"
        choices = []
        for held in open_reservations(station=self.station):
            until = date_format(
                held["expires_at"].astimezone(zoneinfo.ZoneInfo(zone)), "SHORT_DATETIME_FORMAT"
            )
            choices.append(
                (
                    held["reservation_id"],
                    _("Port %(port)s for %(token)s until %(until)s")
                    % {"port": held["evse_id"], "token": held["id_token"], "until": until},
                )
            )
        self.fields["reservation_id"].choices = choices

    @property
    def has_choices(self) -> bool:
        return bool(self.fields["reservation_id"].choices)


def open_reservations(*, station) -> list[dict]:
    """Reservations the station accepted that have not expired or been cancelled since."""
    from apps.audit.models import AuditEntry

    entries = AuditEntry.objects.filter(
        object_type="stations.station", object_id=str(station.pk)
    ).order_by("-occurred_at")
    now = timezone.now()
    cancelled = {
        entry.changes.get("input", {}).get("reservation_id")
        for entry in entries.filter(action="station.cancel_reservation", succeeded=True)[:200]
    }
    held = []
    for entry in entries.filter(action="station.reserve_now", succeeded=True)[:200]:
        inputs = entry.changes.get("input", {})
        calls = entry.changes.get("calls") or [{}]
        payload = calls[0].get("payload", {})
        expires_at = parse_datetime(str(inputs.get("expires_at", "")))
        if expires_at is None or expires_at <= now:
            continue
        if inputs.get("reservation_id") in cancelled:
            continue
        token = payload.get("idTag") or (payload.get("idToken") or {}).get("idToken", "")
        held.append(
            {
                "reservation_id": inputs.get("reservation_id"),
                "evse_id": inputs.get("evse_id"),
                "id_token": token,
                "expires_at": expires_at,
            }
        )
    return held


PURPOSE_CHOICES = [
    ("station_max", _("Cap the whole station")),
    ("tx_default", _("Default limit for new sessions")),
]
UNIT_CHOICES = [("A", _("Amps per phase")), ("W", _("Watts (all phases)"))]


class ChargingProfileSetForm(StationCommandForm):
    prefix_name = "charging_profile_set"
    purpose = forms.ChoiceField(label=_("Limit"), choices=PURPOSE_CHOICES)
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Where"))
    limit = forms.DecimalField(
        label=_("At most"), min_value=0, max_digits=9, decimal_places=1, initial=32
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=UNIT_CHOICES, initial="A")
    hours = forms.TypedChoiceField(
        coerce=int,
        label=_("For"),
        choices=[
            (0, _("Until cleared")),
            (1, _("1 hour")),
            (4, _("4 hours")),
            (12, _("12 hours")),
        ],
        initial=0,
        help_text=_("Afterwards the limit goes back to the station's own maximum."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evse_id"].choices = self.port_choices(whole_station=True)

    def clean(self):
        data = super().clean()
        if data.get("purpose") == "station_max" and data.get("evse_id"):
            self.add_error("evse_id", _("A station cap applies to the whole station."))
        limit, unit = data.get("limit"), data.get("unit")
        if limit is not None and unit == "A" and 0 < limit < 6:
            # IEC 61851: no pilot signal below 6 A; 0 pauses charging.
            self.add_error("limit", _("Use 0 (pause) or at least 6 A."))
        return data

    def arguments(self) -> dict:
        data = self.cleaned_data
        periods: list[tuple[int, float]] = [(0, float(data["limit"]))]
        if data["hours"]:
            # The end of the limit: a high ceiling the station caps at its own maximum.
            ceiling = 10_000.0 if data["unit"] == "A" else 10_000_000.0
            periods.append((data["hours"] * 3600, ceiling))
        return {
            "purpose": data["purpose"],
            "evse_id": data["evse_id"],
            "unit": data["unit"],
            "periods": periods,
        }


class ChargingProfileClearForm(StationCommandForm):
    prefix_name = "charging_profile_clear"
    purpose = forms.ChoiceField(
        label=_("Remove"),
        choices=[*PURPOSE_CHOICES, ("", _("Every limit set from here or by power management"))],
        required=False,
    )
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Where"), required=False, empty_value=None)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evse_id"].choices = [("", _("Anywhere"))] + self.port_choices(
            whole_station=True
        )

    def arguments(self) -> dict:
        return {
            "purpose": self.cleaned_data["purpose"] or None,
            "evse_id": self.cleaned_data["evse_id"],
        }


class CompositeScheduleForm(StationCommandForm):
    prefix_name = "composite_schedule"
    evse_id = forms.TypedChoiceField(coerce=int, label=_("Where"))
    hours = forms.TypedChoiceField(
        coerce=int,
        label=_("Over the next"),
        choices=[(1, _("1 hour")), (6, _("6 hours")), (24, _("24 hours"))],
        initial=6,
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=UNIT_CHOICES, initial="A")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evse_id"].choices = self.port_choices(whole_station=True)

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"evse_id": data["evse_id"], "duration": data["hours"] * 3600, "unit": data["unit"]}


class LocalListVersionForm(StationCommandForm):
    prefix_name = "local_list_version"


class LocalListSendForm(StationCommandForm):
    prefix_name = "local_list_send"
    full = forms.TypedChoiceField(
        coerce=lambda value: value == "1",
        label=_("How"),
        choices=[("1", _("Replace the whole list")), ("0", _("Add or change these tokens"))],
        initial="1",
    )
    tokens = forms.CharField(
        label=_("Tokens"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One per line or separated by commas. Empty with “Replace”: empties the list."),
    )
    status = forms.ChoiceField(
        label=_("They may"),
        choices=[("Accepted", _("charge")), ("Blocked", _("not charge (blocked)"))],
        initial="Accepted",
    )
    list_version = forms.IntegerField(
        label=_("List version"),
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("Must be higher than the station's current version."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Minutes since 2020: grows by itself, so a new list is always a newer version.
        epoch = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        self.fields["list_version"].initial = int((timezone.now() - epoch).total_seconds() // 60)

    def clean_tokens(self) -> list[str]:
        tokens = [t.strip() for t in re.split(r"[,\s]+", self.cleaned_data["tokens"]) if t.strip()]
        too_long = [token for token in tokens if len(token) > 20]
        if too_long:
            raise forms.ValidationError(
                _("A token has at most 20 characters: %(tokens)s") % {"tokens": ", ".join(too_long)}
            )
        return list(dict.fromkeys(tokens))

    def clean(self):
        data = super().clean()
        if data.get("full") is False and not data.get("tokens"):
            self.add_error("tokens", _("Name the tokens to add or change."))
        return data

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "list_version": data["list_version"],
            "full": data["full"],
            "entries": [(token, data["status"]) for token in data["tokens"]],
        }


class LogsUploadForm(StationCommandForm):
    prefix_name = "logs_upload"
    location = forms.URLField(
        label=_("Upload to"),
        max_length=512,
        assume_scheme="https",
        help_text=_("An FTP or HTTP(S) address the station can reach."),
    )
    hours = forms.TypedChoiceField(
        coerce=int,
        label=_("The last"),
        choices=[(0, _("everything")), (1, _("1 hour")), (24, _("24 hours")), (168, _("7 days"))],
        initial=24,
    )
    log_type = forms.ChoiceField(
        label=_("Log"),
        choices=[("DiagnosticsLog", _("Diagnostics")), ("SecurityLog", _("Security events"))],
        initial="DiagnosticsLog",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].validators.append(
            validators.URLValidator(schemes=["ftp", "ftps", "http", "https", "sftp"])
        )
        if self.version == V16:
            del self.fields["log_type"]  # 1.6 GetDiagnostics has one kind

    def arguments(self) -> dict:
        data = self.cleaned_data
        since = timezone.now() - dt.timedelta(hours=data["hours"]) if data["hours"] else None
        return {
            "location": data["location"],
            "since": since,
            "log_type": data.get("log_type", "DiagnosticsLog"),
        }


class FirmwareUpdateForm(StationCommandForm):
    prefix_name = "firmware_update"
    location = forms.URLField(
        label=_("Firmware file address"),
        max_length=512,
        assume_scheme="https",
        help_text=_("For a fleet, prefer a firmware campaign (waves, windows, retries)."),
    )
    delay_minutes = forms.TypedChoiceField(
        coerce=int,
        label=_("Download"),
        choices=[(0, _("now")), (60, _("in 1 hour")), (360, _("in 6 hours"))],
        initial=0,
    )
    retries = forms.IntegerField(label=_("Retries"), min_value=0, max_value=10, initial=3)

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "location": data["location"],
            "retrieve_at": timezone.now() + dt.timedelta(minutes=data["delay_minutes"]),
            "request_id": _random_id(),
            "retries": data["retries"],
        }


class DataTransferForm(StationCommandForm):
    prefix_name = "data_transfer"
    vendor_id = forms.CharField(label=_("Vendor id"), max_length=255)
    message_id = forms.CharField(label=_("Message id"), max_length=50, required=False)
    data = forms.CharField(
        label=_("Data"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


MESSAGE_PRIORITIES = [
    ("NormalCycle", _("In turn with other messages")),
    ("InFront", _("In front of other messages")),
    ("AlwaysFront", _("Always in front")),
]


class DisplayMessageForm(_ForVersions, StationCommandForm):
    versions = (V201,)
    prefix_name = "display_message"
    text = forms.CharField(
        label=_("Text"), max_length=512, widget=forms.Textarea(attrs={"rows": 2})
    )
    priority = forms.ChoiceField(
        label=_("Shown"), choices=MESSAGE_PRIORITIES, initial="NormalCycle"
    )
    hours = forms.TypedChoiceField(
        coerce=int,
        label=_("For"),
        choices=[(0, _("until cleared")), (1, _("1 hour")), (24, _("24 hours"))],
        initial=0,
    )
    message_id = forms.IntegerField(
        label=_("Message number"),
        min_value=1,
        max_value=2**31 - 1,
        initial=1,
        help_text=_("The same number replaces that message; clear it by its number."),
    )

    def arguments(self) -> dict:
        data = self.cleaned_data
        end = timezone.now() + dt.timedelta(hours=data["hours"]) if data["hours"] else None
        return {
            "message_id": data["message_id"],
            "text": data["text"],
            "priority": data["priority"],
            "language": translation.get_language() or "",
            "end": end,
        }


class ReportRequestForm(_ForVersions, StationCommandForm):
    versions = (V201,)
    prefix_name = "report_request"


class DisplayMessagesGetForm(_ForVersions, StationCommandForm):
    versions = (V201,)
    prefix_name = "display_messages_get"


class DisplayMessageClearForm(_ForVersions, StationCommandForm):
    versions = (V201,)
    prefix_name = "display_message_clear"
    message_id = forms.IntegerField(label=_("Message number"), min_value=1, max_value=2**31 - 1)


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
    "reserve": ReserveForm,
    "cancel_reservation": CancelReservationForm,
    "charging_profile_set": ChargingProfileSetForm,
    "charging_profile_clear": ChargingProfileClearForm,
    "composite_schedule": CompositeScheduleForm,
    "local_list_version": LocalListVersionForm,
    "local_list_send": LocalListSendForm,
    "logs_upload": LogsUploadForm,
    "firmware_update": FirmwareUpdateForm,
    "display_message": DisplayMessageForm,
    "display_messages_get": DisplayMessagesGetForm,
    "display_message_clear": DisplayMessageClearForm,
    "data_transfer": DataTransferForm,
    "report_request": ReportRequestForm,
}
COMMAND_PERMISSIONS = {
    "configuration_read": "stations.configure",
    "configuration_change": "stations.configure",
    "password_rotate": "stations.configure",
    "report_request": "stations.configure",
}


def command_forms(*, station, actor) -> dict[str, StationCommandForm]:
    """Unbound forms of the commands the actor may send to this station."""
    result = {}
    for name, form_class in COMMAND_FORMS.items():
        if name == "remote_stop":  # one button per running session, in the sessions panel
            continue
        permission = COMMAND_PERMISSIONS.get(name, "stations.command")
        versions = getattr(form_class, "versions", None)
        if versions and (station.ocpp_version or V16) not in versions:
            continue
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


# The panel's further commands, by group: (form name, title, button, confirmation).
COMMAND_GROUPS = [
    (
        _("Configuration"),
        [
            (
                "report_request",
                _("Ask for the station's report"),
                _("Ask the station"),
                _("Ask the station to report all its settings?"),
            ),
        ],
    ),
    (
        _("Reservations"),
        [
            ("reserve", _("Reserve a port"), _("Reserve"), _("Hold this port for the token?")),
            (
                "cancel_reservation",
                _("Cancel a reservation"),
                _("Cancel the reservation"),
                _("Cancel this reservation?"),
            ),
        ],
    ),
    (
        _("Power limits"),
        [
            (
                "charging_profile_set",
                _("Set a power limit"),
                _("Set the limit"),
                _("Send this limit to the station?"),
            ),
            (
                "charging_profile_clear",
                _("Remove power limits"),
                _("Remove"),
                _("Remove these limits from the station?"),
            ),
            ("composite_schedule", _("Limits the station will apply"), _("Ask the station"), ""),
        ],
    ),
    (
        _("Local list of tokens"),
        [
            ("local_list_version", _("Version of the station's list"), _("Ask the station"), ""),
            (
                "local_list_send",
                _("Send tokens to the station"),
                _("Send"),
                _("Send this list to the station?"),
            ),
        ],
    ),
    (
        _("Firmware and logs"),
        [
            (
                "firmware_update",
                _("Update the firmware"),
                _("Update"),
                _("Ask the station to download and install this firmware?"),
            ),
            (
                "logs_upload",
                _("Upload the station's logs"),
                _("Ask for the logs"),
                _("Ask the station to upload its logs to this address?"),
            ),
        ],
    ),
    (
        _("Screen and vendor messages"),
        [
            (
                "display_message",
                _("Show a message on the screen"),
                _("Show"),
                _("Show this message on the station's screen?"),
            ),
            ("display_messages_get", _("Messages on the screen"), _("Ask the station"), ""),
            (
                "display_message_clear",
                _("Remove a message from the screen"),
                _("Remove"),
                _("Remove this message from the station's screen?"),
            ),
            (
                "data_transfer",
                _("Vendor data transfer"),
                _("Send"),
                _("Send this data to the station?"),
            ),
        ],
    ),
]


def command_groups(forms_by_name: dict[str, StationCommandForm], station) -> list[dict]:
    """The groups of further commands the actor may send, each form with its address."""
    from django.urls import reverse

    groups = []
    for title, entries in COMMAND_GROUPS:
        commands = [
            {
                "name": name,
                "form": forms_by_name[name],
                "action": reverse(f"stations:station_{name}", args=[station.pk]),
                "title": form_title,
                "button": button,
                "confirm": confirm,
            }
            for name, form_title, button, confirm in entries
            if name in forms_by_name
        ]
        if commands:
            groups.append({"title": title, "commands": commands})
    return groups


class BulkCommandForm(forms.Form):
    """One command for every station of the filtered list, in the operator's words."""

    command = forms.ChoiceField(
        label=_("Command"),
        choices=[
            ("reset_soft", _("Reset when idle (soft)")),
            ("reset_hard", _("Reset now (hard)")),
            ("available", _("Make available")),
            ("unavailable", _("Make unavailable")),
            ("configuration", _("Change a configuration key")),
            ("firmware", _("Update the firmware")),
        ],
    )
    key = forms.CharField(
        label=_("Key"),
        max_length=100,
        required=False,
        help_text=_("1.6 key, or Component/Variable for 2.0.1 stations."),
    )
    value = forms.CharField(label=_("New value"), max_length=1000, required=False)
    location = forms.URLField(
        label=_("Firmware file address"), max_length=512, required=False, assume_scheme="https"
    )

    def clean(self):
        data = super().clean()
        choice = data.get("command")
        if choice == "configuration" and not (data.get("key") or "").strip():
            self.add_error("key", _("Name the key to change."))
        if choice == "firmware" and not data.get("location"):
            self.add_error("location", _("Give the firmware file's address."))
        return data

    def command_and_arguments(self) -> tuple[str, dict]:
        data = self.cleaned_data
        choice = data["command"]
        if choice.startswith("reset_"):
            return "reset", {"kind": choice.removeprefix("reset_")}
        if choice in ("available", "unavailable"):
            return "availability", {"operative": choice == "available"}
        if choice == "configuration":
            return "configuration", {"key": data["key"].strip(), "value": data["value"]}
        return "firmware", {"location": data["location"]}
