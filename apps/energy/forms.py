"""The portal's VEN form: connection settings, and the TLS material uploaded as PEM files (the
private key is write-only: never shown, kept when no new file is given)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import rules
from .choices import Opt
from .limits import PowerNode

MAX_PEM_BYTES = 64 * 1024
WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
PEM_ACCEPT = ".pem,.crt,.cer,.key,application/x-pem-file"

# Form field -> the VEN setting it carries (uploads carry PEM text).
UPLOADS = {
    "client_cert_file": "client_cert_pem",
    "client_key_file": "client_key_pem",
    "vtn_ca_file": "vtn_ca_pem",
}


def _percent(label):
    return forms.DecimalField(
        label=label, min_value=Decimal(0), max_value=Decimal(100), decimal_places=2
    )


class VenForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    node = forms.ModelChoiceField(
        label=_("node"),
        queryset=PowerNode.objects.none(),
        help_text=_("The node whose limit demand-response events lower."),
    )
    member_nodes = forms.ModelMultipleChoiceField(
        label=_("also apply its events to (a group of sites)"),
        queryset=PowerNode.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "One registration at the VTN for several sites: each event lowers every node chosen "
            "here too (levels as a share of each node's limit, kW targets split by capacity)."
        ),
    )
    vtn_url = forms.URLField(
        label=_("VTN URL"),
        max_length=300,
        assume_scheme="https",
        help_text=_("e.g. https://vtn.example/OpenADR2/Simple/2.0b"),
    )
    ven_name = forms.CharField(label=_("VEN name"), max_length=100)
    ven_id = forms.CharField(
        label=_("VEN ID"),
        max_length=100,
        required=False,
        help_text=_("Leave empty: the VTN assigns it at registration."),
    )
    client_cert_file = forms.FileField(
        label=_("client certificate (PEM)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PEM_ACCEPT}),
    )
    client_key_file = forms.FileField(
        label=_("client private key (PEM)"),
        required=False,
        help_text=_("RSA, without a passphrase. Stored encrypted; never shown again."),
        widget=forms.ClearableFileInput(attrs={"accept": PEM_ACCEPT}),
    )
    vtn_ca_file = forms.FileField(
        label=_("VTN CA certificate (PEM)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PEM_ACCEPT}),
    )
    remove_tls = forms.BooleanField(
        label=_("Remove the client certificate, its key and the VTN's CA"), required=False
    )
    vtn_fingerprint = forms.CharField(
        label=_("VTN certificate fingerprint"),
        max_length=64,
        required=False,
        help_text=_("As the utility gives it (e.g. 7A:1D:...): the VTN's signatures are checked."),
    )
    poll_seconds = forms.IntegerField(label=_("poll every (s)"), min_value=5, initial=10)
    default_opt = forms.ChoiceField(label=_("new events"), choices=Opt.choices, initial=Opt.IN)
    opt_out_over_minutes = forms.IntegerField(
        label=_("opt out of events longer than (minutes)"),
        min_value=1,
        required=False,
        help_text=_("Empty: any length. Open-ended events count as longer."),
    )
    opt_out_days = forms.TypedMultipleChoiceField(
        label=_("opt out of events starting on"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "weekdays"}),
        help_text=_("In the site's time."),
    )
    level_1_percent = _percent(_("limit at level 1 (% of the node's limit)"))
    level_2_percent = _percent(_("limit at level 2 (%)"))
    level_3_percent = _percent(_("limit at level 3 (%)"))
    randomize = forms.BooleanField(
        label=_("honour the VTN's start randomisation"), required=False, initial=True
    )
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)

    SETTINGS = (
        "name",
        "node",
        "vtn_url",
        "ven_name",
        "ven_id",
        "vtn_fingerprint",
        "poll_seconds",
        "default_opt",
        "opt_out_over_minutes",
        "opt_out_days",
        "level_1_percent",
        "level_2_percent",
        "level_3_percent",
        "randomize",
        "is_active",
    )

    def __init__(self, *args, site, ven=None, members=None, **kwargs):
        if ven is not None:
            initial = {name: getattr(ven, name) for name in self.SETTINGS}
            initial["member_nodes"] = [member.node_id for member in ven.members.all()]
            initial["opt_out_days"] = rules.days_of(ven.opt_out_days)
            kwargs.setdefault("initial", initial)
        else:
            kwargs.setdefault(
                "initial",
                {"level_1_percent": 75, "level_2_percent": 50, "level_3_percent": 25},
            )
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # (the model's lower-case names, as labels)
            field.label = capfirst(field.label)
        self.fields["node"].queryset = PowerNode.objects.filter(site=site).order_by("name")
        # other sites' nodes where the person may set up VENs too (the view restricts them)
        self.fields["member_nodes"].queryset = (
            members.exclude(site=site).select_related("site").order_by("site__name", "name")
            if members is not None
            else PowerNode.objects.none()
        )
        self.fields["member_nodes"].label_from_instance = lambda node: f"{node.site.name}: {node}"
        # Members on sites this person does not manage stay as they are (not shown, not lost).
        visible = set(self.fields["member_nodes"].queryset.values_list("pk", flat=True))
        self.hidden_members = (
            [m.node for m in ven.members.select_related("node") if m.node_id not in visible]
            if ven is not None
            else []
        )
        if ven is not None:
            self.initial["member_nodes"] = [
                pk for pk in self.initial.get("member_nodes", []) if pk in visible
            ]

    def _pem(self, name: str) -> str | None:
        upload = self.cleaned_data.get(name)
        if not upload:
            return None
        if upload.size > MAX_PEM_BYTES:
            raise forms.ValidationError({name: _("This file is too large for a PEM file.")})
        try:
            return upload.read().decode("ascii").strip() + "\n"
        except UnicodeDecodeError as error:
            raise forms.ValidationError({name: _("Not a PEM file (text).")}) from error

    def clean(self):
        data = super().clean()
        pems = {}
        for upload, setting in UPLOADS.items():
            text = self._pem(upload)
            if text is not None:
                pems[setting] = text
        if data.get("remove_tls") and pems:
            raise forms.ValidationError(
                _("Either remove the certificates or upload new ones, not both.")
            )
        self.pems = pems
        return data

    def settings(self) -> dict:
        """What to give ``ven_create`` / ``ven_update``: the settings, the uploaded PEM text
        (absent: unchanged), or empty TLS material when it is removed."""
        values = {name: self.cleaned_data[name] for name in self.SETTINGS}
        values["opt_out_days"] = rules.mask_of(self.cleaned_data.get("opt_out_days") or [])
        values["member_nodes"] = [
            *(self.cleaned_data.get("member_nodes") or []),
            *self.hidden_members,
        ]
        if self.cleaned_data.get("remove_tls"):
            values.update(client_cert_pem="", client_key_pem="", vtn_ca_pem="")
        values.update(self.pems)
        return values

    def add_service_errors(self, error) -> None:
        """A service's ValidationError on the form: PEM settings on their upload field."""
        fields = {setting: upload for upload, setting in UPLOADS.items()}
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                field = fields.get(name, name)
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error)
