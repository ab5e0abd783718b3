from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import PricingGoal, Sector
from .engine import (
    DAY_NAMES,
    TIME_BASIS_CHARGING,
    TIME_BASIS_CONNECTED,
    TariffError,
)
from .engine import Tariff as TariffDefinition
from .services.pricing import price_start

EDITOR_FORM = "form"
EDITOR_JSON = "json"
DAY_LABELS = {
    "mon": _("Mon"),
    "tue": _("Tue"),
    "wed": _("Wed"),
    "thu": _("Thu"),
    "fri": _("Fri"),
    "sat": _("Sat"),
    "sun": _("Sun"),
}
_CLOCK = r"([01]\d|2[0-3]):[0-5]\d"
_ROW_PREFIX = re.compile(r"^(?:(?:energy|time)(?:-\d{1,3}-windows)?|idle-windows)$")
# "energy[1].windows[0].start: ...", "idle.max_amount: ...", "time[0]: to_minutes must be..."
_PROBLEM = re.compile(
    r"^(?P<part>energy|time|idle)(?:\[(?P<rate>\d+)\])?"
    r"(?:\.windows\[(?P<window>\d+)\])?(?:\.(?P<field>\w+))?"
)
_TOP_FIELDS = ("session_fee", "time_basis", "time_step_seconds", "min_price", "max_price")
_IDLE_FIELDS = {
    "price_per_hour": "idle_price_per_hour",
    "grace_minutes": "idle_grace_minutes",
    "step_seconds": "idle_step_seconds",
    "max_amount": "idle_max_amount",
    "label": "idle_label",
}


def _price(label, **kwargs) -> forms.DecimalField:
    # Unit prices take up to 6 decimals; fixed amounts are checked against the currency by the
    # engine, whose problem lands on the same field.
    return forms.DecimalField(
        label=label,
        required=kwargs.pop("required", False),
        min_value=0,
        max_digits=18,
        decimal_places=6,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 9}),
        **kwargs,
    )


def _whole(label, low, high, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"style": "width:7em"}),
        **kwargs,
    )


class DefinitionJSONForm(forms.Form):
    """What the create and edit pages share: which editor is in use and the JSON alternative."""

    editor = forms.CharField(required=False, widget=forms.HiddenInput)
    definition = forms.CharField(
        label=_("Prices (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "code"}),
        help_text=_("The pricing models and their JSON form are described in docs/billing.md."),
    )

    @property
    def uses_json(self) -> bool:
        """Posts without ``editor`` (scripts, older pages) carry JSON."""
        return (self.data.get("editor") or EDITOR_JSON) != EDITOR_FORM

    def clean_definition(self):
        if not self.uses_json:
            return None
        try:
            data = json.loads(self.cleaned_data["definition"])
            TariffDefinition.from_dict(data)
        except ValueError as error:  # JSONDecodeError and TariffError are ValueErrors
            problems = error.problems if isinstance(error, TariffError) else [str(error)]
            raise forms.ValidationError(problems) from error
        return data


class TariffForm(DefinitionJSONForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    effective_from = forms.DateTimeField(
        label=_("In force from"),
        required=False,
        help_text=_("Now or later; leave empty for now."),
    )

    field_order = ["name", "description", "effective_from"]

    def clean_effective_from(self):
        value = self.cleaned_data["effective_from"]
        if value is None:
            return None
        try:
            return price_start(value)
        except ValidationError as error:
            raise ValidationError(error.message_dict["effective_from"]) from error


class TariffVersionForm(DefinitionJSONForm):
    """New prices for an existing tariff: versions are never edited, a new one is added."""

    effective_from = forms.DateTimeField(
        label=_("In force from"),
        required=False,
        help_text=_("Now or later; leave empty for now."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    field_order = ["effective_from", "note"]


class PricesForm(forms.Form):
    """The parts of a tariff that occur once."""

    session_fee = _price(_("Session fee"), help_text=_("Charged once per session."))
    time_basis = forms.ChoiceField(
        label=_("Time counts"),
        choices=[
            (TIME_BASIS_CONNECTED, _("while plugged in")),
            (TIME_BASIS_CHARGING, _("until charging ends")),
        ],
        required=False,
    )
    time_step_seconds = _whole(
        _("Billing step (seconds)"),
        1,
        86400,
        initial=60,
        help_text=_("Time is billed per started step: 900 is per started 15 minutes."),
    )
    idle_price_per_hour = _price(
        _("Idle fee per hour"),
        help_text=_("Once charging has ended and the vehicle is still plugged in."),
    )
    idle_grace_minutes = _whole(_("Grace period (minutes)"), 0, 1440, initial=0)
    idle_step_seconds = _whole(_("Idle billing step (seconds)"), 1, 86400, initial=60)
    idle_max_amount = _price(_("Idle fee at most"))
    idle_label = forms.CharField(label=_("Idle fee label"), required=False, max_length=80)
    min_price = _price(_("Minimum session price"))
    max_price = _price(_("Maximum session price"))
    reservation_fee = _price(
        _("Reservation fee"),
        help_text=_("On a session that starts on a port held for its driver (the waitlist)."),
    )
    no_show_fee = _price(
        _("No-show fee"),
        help_text=_("When a port held for a driver is not used; on the driver's next receipt."),
    )


class RateForm(forms.Form):
    price = _price(_("Price"), required=True)
    label = forms.CharField(
        label=_("Label"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"size": 10}),
    )
    from_minutes = _whole(_("From minute"), 0, 10080, help_text=_("Minutes after plug-in (tiers)."))
    to_minutes = _whole(_("Until minute"), 1, 10080)


class EnergyRateForm(RateForm):
    price = _price(_("Price per kWh"), required=True)


class TimeRateForm(RateForm):
    price = _price(_("Price per hour"), required=True)


class WindowForm(forms.Form):
    days = forms.MultipleChoiceField(
        label=_("Days"),
        choices=list(DAY_LABELS.items()),
        initial=list(DAY_NAMES),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "days"}),
    )
    start = forms.RegexField(
        label=_("From"),
        regex=rf"^{_CLOCK}$",
        error_messages={"invalid": _("A time of day such as 07:30.")},
        widget=forms.TextInput(attrs={"size": 5, "placeholder": "16:00"}),
    )
    end = forms.RegexField(
        label=_("To"),
        regex=rf"^({_CLOCK}|24:00)$",
        error_messages={"invalid": _("A time of day such as 21:00 (24:00 for midnight).")},
        help_text=_("Before the start: until the next day."),
        widget=forms.TextInput(attrs={"size": 5, "placeholder": "21:00"}),
    )

    def has_changed(self) -> bool:
        # A row with no hours is an empty row, whichever days are ticked (all by default).
        return any(self.data.get(self.add_prefix(name)) for name in ("start", "end"))


EnergyRateFormSet = forms.formset_factory(EnergyRateForm, extra=0, can_delete=True)
TimeRateFormSet = forms.formset_factory(TimeRateForm, extra=0, can_delete=True)
WindowFormSet = forms.formset_factory(WindowForm, extra=0, can_delete=True)


def add_row(data, prefix: str):
    """A copy of the posted data with one more (empty) row in the formset ``prefix``: the
    "add" buttons work without JavaScript."""
    data = _with_management(data)
    if _ROW_PREFIX.match(prefix):
        key = f"{prefix}-TOTAL_FORMS"
        data[key] = str(_count(data, key) + 1)
    return data


def _count(data, key: str) -> int:
    try:
        return max(0, min(int(data.get(key) or 0), 100))
    except ValueError:
        return 0


def _with_management(data):
    """Posted data with a management form for every formset, including the windows of a rate
    row just added (which has none yet)."""
    data = data.copy()
    prefixes = ["energy", "time", "idle-windows"]
    for kind in ("energy", "time"):
        total = _count(data, f"{kind}-TOTAL_FORMS")
        prefixes += [f"{kind}-{i}-windows" for i in range(total)]
    for prefix in prefixes:
        for name in ("TOTAL_FORMS", "INITIAL_FORMS"):
            if f"{prefix}-{name}" not in data:
                data[f"{prefix}-{name}"] = "0"
    return data


def _window_initial(windows) -> list[dict]:
    return [
        {
            "days": [DAY_NAMES[day] for day in sorted(window.days)],
            "start": window.start.strftime("%H:%M"),
            "end": "24:00" if window.end is None else window.end.strftime("%H:%M"),
        }
        for window in windows
    ]


def _rate_initial(rate, price) -> dict:
    return {
        "price": price,
        "label": rate.label,
        "from_minutes": rate.when.from_minutes or None,
        "to_minutes": rate.when.to_minutes,
    }


def _form_data(form) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in form:
        value = field.value()
        if value is None or value == "" or value is False:
            continue
        data[field.html_name] = (
            [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
        )
    return data


class TariffEditor:
    """The structured tariff editor: the parts that occur once (``PricesForm``), energy and
    time rates as formsets (time-of-use bands and duration tiers), each rate's weekly windows
    as a formset nested under it, and the idle fee's windows.

    It builds the same definition dict ``TariffDefinition.from_dict`` reads (its normalised
    form, as stored), and fills itself from a definition; the definition's problems are
    attached to the field or row they concern.
    """

    def __init__(self, *, currency: str, data=None, definition: dict | None = None):
        self.currency = currency
        self.is_bound = data is not None
        self.problems: list[str] = []  # what no single field owns
        self.definition: dict[str, Any] | None = None
        initial: dict[str, Any] = {}
        energy_windows: list[list[dict]] = []
        time_windows: list[list[dict]] = []
        idle_windows: list[dict] = []
        energy: list[dict] = []
        time_rates: list[dict] = []
        if data is not None:
            data = _with_management(data)
        elif definition is not None:
            tariff = TariffDefinition.from_dict(definition)
            initial = {
                "session_fee": tariff.session_fee or None,
                "time_basis": tariff.time_basis,
                "time_step_seconds": tariff.time_step_seconds,
                "min_price": tariff.min_price,
                "max_price": tariff.max_price,
            }
            if tariff.reservation is not None:
                initial |= {
                    "reservation_fee": tariff.reservation.fee,
                    "no_show_fee": tariff.reservation.no_show_fee,
                }
            if tariff.idle is not None:
                idle = tariff.idle
                initial |= {
                    "idle_price_per_hour": idle.price_per_hour,
                    "idle_grace_minutes": idle.grace_minutes,
                    "idle_step_seconds": idle.step_seconds,
                    "idle_max_amount": idle.max_amount,
                    "idle_label": idle.label,
                }
                idle_windows = _window_initial(idle.windows)
            energy = [_rate_initial(r, r.price_per_kwh) for r in tariff.energy]
            energy_windows = [_window_initial(r.when.windows) for r in tariff.energy]
            time_rates = [_rate_initial(r, r.price_per_hour) for r in tariff.time]
            time_windows = [_window_initial(r.when.windows) for r in tariff.time]
        self.prices = PricesForm(data, initial=initial)
        self.energy = EnergyRateFormSet(data, initial=energy, prefix="energy")
        self.time = TimeRateFormSet(data, initial=time_rates, prefix="time")
        self.energy_windows = [
            WindowFormSet(
                data,
                initial=energy_windows[i] if i < len(energy_windows) else [],
                prefix=f"energy-{i}-windows",
            )
            for i in range(len(self.energy.forms))
        ]
        self.time_windows = [
            WindowFormSet(
                data,
                initial=time_windows[i] if i < len(time_windows) else [],
                prefix=f"time-{i}-windows",
            )
            for i in range(len(self.time.forms))
        ]
        self.idle_windows = WindowFormSet(data, initial=idle_windows, prefix="idle-windows")

    # -- for templates --

    @property
    def energy_rows(self):
        return list(zip(self.energy.forms, self.energy_windows, strict=True))

    @property
    def time_rows(self):
        return list(zip(self.time.forms, self.time_windows, strict=True))

    def _formsets(self):
        return [self.energy, self.time, *self.energy_windows, *self.time_windows, self.idle_windows]

    def as_data(self) -> dict[str, Any]:
        """What a browser would post for this editor as shown (tests, representability)."""
        data = _form_data(self.prices)
        for formset in self._formsets():
            data |= _form_data(formset.management_form)
            for form in formset.forms:
                data |= _form_data(form)
        return data

    def silence(self) -> None:
        """Show posted values without errors (after adding a row, nothing was submitted)."""
        for form in [self.prices, *(f for fs in self._formsets() for f in fs.forms)]:
            form._errors = forms.utils.ErrorDict()
        for formset in self._formsets():
            formset._errors = [forms.utils.ErrorDict() for _form in formset.forms]
            formset._non_form_errors = formset.error_class()

    # -- validation --

    def is_valid(self) -> bool:
        valid = self.prices.is_valid()
        valid = self.energy.is_valid() and valid
        valid = self.time.is_valid() and valid
        valid = self.idle_windows.is_valid() and valid
        rates = [
            *zip(self.energy.forms, self.energy_windows, strict=True),
            *zip(self.time.forms, self.time_windows, strict=True),
        ]
        for form, windows in rates:
            if getattr(form, "cleaned_data", None) and form.cleaned_data.get("DELETE"):
                continue
            valid = windows.is_valid() and valid
            if valid and not form.cleaned_data and any(f.has_changed() for f in windows.forms):
                form.add_error("price", _("Give the price of these hours."))
                valid = False
        if not valid:
            return False
        built, self._owners = self._build()
        try:
            TariffDefinition.from_dict(built)
        except TariffError as error:
            for problem in error.problems:
                self._attach(problem)
            return False
        self.definition = TariffDefinition.from_dict(built).to_dict()
        return True

    def _rates(self, formset, windows_formsets, price_key: str, name: str, owners) -> list:
        rates = []
        for form, windows in zip(formset.forms, windows_formsets, strict=True):
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            rate: dict[str, Any] = {price_key: str(data["price"])}
            window_forms = self._windows(windows)
            if window_forms:
                rate["windows"] = [entry for entry, _form in window_forms]
            if data.get("from_minutes"):
                rate["from_minutes"] = data["from_minutes"]
            if data.get("to_minutes") is not None:
                rate["to_minutes"] = data["to_minutes"]
            if data.get("label"):
                rate["label"] = data["label"]
            owners[f"{name}[{len(rates)}]"] = form
            for i, (_entry, window_form) in enumerate(window_forms):
                owners[f"{name}[{len(rates)}].windows[{i}]"] = window_form
            rates.append(rate)
        return rates

    @staticmethod
    def _windows(formset) -> list[tuple[dict, forms.Form]]:
        entries = []
        for form in formset.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            days = [day for day in DAY_NAMES if day in data["days"]]
            entries.append(({"days": days, "start": data["start"], "end": data["end"]}, form))
        return entries

    def _build(self) -> tuple[dict[str, Any], dict[str, forms.Form]]:
        prices = self.prices.cleaned_data
        owners: dict[str, forms.Form] = {}
        definition: dict[str, Any] = {"currency": self.currency}
        if prices["session_fee"] is not None:
            definition["session_fee"] = str(prices["session_fee"])
        energy = self._rates(self.energy, self.energy_windows, "price_per_kwh", "energy", owners)
        if energy:
            definition["energy"] = energy
        time_rates = self._rates(self.time, self.time_windows, "price_per_hour", "time", owners)
        if time_rates:
            definition["time"] = time_rates
            definition["time_basis"] = prices["time_basis"] or TIME_BASIS_CONNECTED
            definition["time_step_seconds"] = prices["time_step_seconds"] or 60
        if prices["idle_price_per_hour"] is not None:
            idle: dict[str, Any] = {
                "price_per_hour": str(prices["idle_price_per_hour"]),
                "grace_minutes": prices["idle_grace_minutes"] or 0,
                "step_seconds": prices["idle_step_seconds"] or 60,
            }
            window_forms = self._windows(self.idle_windows)
            if window_forms:
                idle["windows"] = [entry for entry, _form in window_forms]
            for i, (_entry, window_form) in enumerate(window_forms):
                owners[f"idle.windows[{i}]"] = window_form
            if prices["idle_max_amount"] is not None:
                idle["max_amount"] = str(prices["idle_max_amount"])
            if prices["idle_label"]:
                idle["label"] = prices["idle_label"]
            definition["idle"] = idle
        for key in ("min_price", "max_price"):
            if prices[key] is not None:
                definition[key] = str(prices[key])
        if prices["reservation_fee"] is not None or prices["no_show_fee"] is not None:
            definition["reservation"] = {
                "fee": str(prices["reservation_fee"] or 0),
                "no_show_fee": str(prices["no_show_fee"] or 0),
            }
        return definition, owners

    def _attach(self, problem: str) -> None:
        """Put one of the definition's problems next to the field or row it is about."""
        top = problem.split(":")[0].split(" ")[0]
        if top in _TOP_FIELDS:
            self.prices.add_error(top, problem)
            return
        match = _PROBLEM.match(problem)
        if match is None:
            self.problems.append(problem)
            return
        part, rate, window, field = match.group("part", "rate", "window", "field")
        if part == "idle" and window is None:
            name = _IDLE_FIELDS.get(field or "", "idle_price_per_hour")
            self.prices.add_error(name, problem)
            return
        key = f"{part}[{rate}]" if part != "idle" else "idle"
        if window is not None:
            key += f".windows[{window}]"
        form = self._owners.get(key)
        if form is None:
            self.problems.append(problem)
        elif window is not None:
            form.add_error(field if field in form.fields else "end", problem)
        elif field == "price" or field in form.fields:
            form.add_error("price" if field == "price" else field, problem)
        elif "to_minutes" in problem and "applies at all times" not in problem:
            form.add_error("to_minutes", problem)
        else:
            form.add_error(None, problem)

    @classmethod
    def representable(cls, definition: dict, currency: str) -> str:
        """Why ``definition`` cannot be edited in the form ("" if it can): the form builds it
        again from what it shows, and the result must be the same prices."""
        try:
            tariff = TariffDefinition.from_dict(definition)
        except TariffError as error:
            return str(error)
        if tariff.currency != currency:
            return _("its currency is %(currency)s, not the tenant's %(tenant)s") % {
                "currency": tariff.currency,
                "tenant": currency,
            }
        again = cls(currency=currency, data=cls(currency=currency, definition=definition).as_data())
        if not again.is_valid() or again.definition != tariff.to_dict():
            return _("the form cannot show every part of it")
        return ""


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


class TariffAssignmentForm(forms.Form):
    """Where and for whom a tariff applies.  Only the caller's own tariffs, places and groups
    (``billing.manage``); a tariff for every site needs that permission on every site, as in
    the API (``TariffAssignmentInputSerializer``).  The write is ``services.tariff_assign``."""

    tariff = forms.ModelChoiceField(label=_("Tariff"), queryset=None)
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=None, required=False, empty_label=_("All sites")
    )
    station = forms.ModelChoiceField(
        label=_("Station"),
        queryset=None,
        required=False,
        empty_label=_("Every station of the site"),
        help_text=_("A station's own price wins over its site's."),
    )
    driver_group = forms.ModelChoiceField(
        label=_("Driver group"), queryset=None, required=False, empty_label=_("Everyone")
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=0,
        max_value=32767,
        initial=100,
        help_text=_("Between two assignments at the same level, the lower number wins."),
    )
    valid_from = forms.DateTimeField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, actor, **kwargs):
        from apps.stations.models import Site, Station

        from .models import DriverGroup, Tariff

        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["tariff"].queryset = Tariff.objects.restrict(actor, "billing.manage").filter(
            is_active=True
        )
        self.fields["site"].queryset = Site.objects.restrict(actor, "billing.manage").order_by(
            "name"
        )
        self.fields["station"].queryset = (
            Station.objects.restrict(actor, "billing.manage")
            .select_related("site")
            .order_by("identity")
        )
        self.fields["driver_group"].queryset = DriverGroup.objects.restrict(
            actor, "billing.manage"
        ).order_by("name")
        if not actor.scope_for("billing.manage").all_sites:
            self.fields["site"].required = True
            self.fields["site"].empty_label = None

    def clean(self):
        data = super().clean()
        site, station = data.get("site"), data.get("station")
        if station is not None and site is not None and station.site_id != site.pk:
            self.add_error("station", _("This station is on another site."))
        if site is None and station is None and "site" not in self.errors:
            if not self.actor.scope_for("billing.manage").all_sites:
                self.add_error("site", _("Only who manages billing on every site prices them all."))
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", _("The end must come after the start."))
        return data


class PayoutRunForm(forms.Form):
    """A month that has ended on the tenant's clock: preview its statement, or build its
    payout now (``services.payout_run``, the monthly task's service)."""

    period = forms.TypedChoiceField(label=_("Month"), choices=(), coerce=str)

    def __init__(self, *args, months, **kwargs):
        super().__init__(*args, **kwargs)
        from django.utils import formats

        self.fields["period"].choices = [
            (f"{month:%Y-%m}", formats.date_format(month, "YEAR_MONTH_FORMAT")) for month in months
        ]

    def period_start(self):
        from datetime import date

        year, month = self.cleaned_data["period"].split("-")
        return date(int(year), int(month), 1)


class TaxRateForm(forms.ModelForm):
    """A tax of one of the caller's sites (``services.tax_rate_set`` / ``tax_rate_update``, as
    the API).  The rate is typed in percent and stored as a fraction."""

    percent = forms.DecimalField(
        label=_("Rate (%)"), min_value=0, max_value=Decimal("99.9999"), decimal_places=4
    )

    class Meta:
        from .models import TaxRate

        model = TaxRate
        fields = ["site", "code", "name", "compound", "position", "registration_number"]
        labels = {
            "site": _("Site"),
            "code": _("Code"),
            "name": _("Name on receipts"),
            "compound": _("Compound"),
            "position": _("Order on receipts"),
            "registration_number": _("Registration number"),
        }
        help_texts = {
            "code": _("Short and unique at the site, e.g. GST."),
            "compound": _("Computed on the price plus the taxes listed before it."),
        }

    field_order = ["site", "code", "name", "percent", "compound", "position"]

    def __init__(self, *args, actor, **kwargs):
        from apps.stations.models import Site

        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = (
            Site.objects.restrict(actor, "billing.manage")
            .filter(archived_at__isnull=True)
            .order_by("name")
        )
        if self.instance.pk is not None:
            self.fields["percent"].initial = self.instance.rate * 100
            self.fields["site"].disabled = True

    def validate_unique(self):
        pass  # (site, code) is the service's to check: its message goes next to the code

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["rate"] = self.cleaned_data["percent"] / 100
        return data


class BillingProfileForm(forms.ModelForm):
    """The tenant's billing settings (``services.billing_profile_update``, as the API)."""

    class Meta:
        from .models import BillingProfile

        model = BillingProfile
        fields = [
            "legal_name",
            "prices_include_tax",
            "payout_account_holder",
            "payout_iban",
            "payout_account_number",
            "payout_clearing_system",
            "payout_clearing_member_id",
            "payout_bic",
            "payout_country",
            "payout_file_format",
            "ocpi_country_code",
            "ocpi_party_id",
            "cost_update_interval_seconds",
        ]
        labels = {
            "legal_name": _("Legal name"),
            "prices_include_tax": _("Prices include taxes"),
            "payout_account_holder": _("Account holder"),
            "payout_iban": _("IBAN"),
            "payout_account_number": _("Account number"),
            "payout_clearing_system": _("Clearing system"),
            "payout_clearing_member_id": _("Bank routing number"),
            "payout_bic": _("BIC"),
            "payout_country": _("Bank country (two letters)"),
            "payout_file_format": _("Bank file format"),
            "ocpi_country_code": _("OCPI country code"),
            "ocpi_party_id": _("OCPI party id"),
            "cost_update_interval_seconds": _("Running cost sent every (s)"),
        }

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
