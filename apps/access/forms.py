"""Portal forms: groups, members by uid, rules with their weekly windows, holidays, and the
"why refused" question."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Station

from .choices import HolidayMode, RuleKind, Weekday
from .models import AccessGroup, Holiday


class AccessGroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class MembersForm(forms.Form):
    add = forms.CharField(
        label=_("Add tokens (ids, one per line or separated by commas)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    remove = forms.CharField(
        label=_("Remove tokens"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    @staticmethod
    def _uids(text: str) -> list[str]:
        return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]

    def clean(self):
        data = super().clean()
        data["add"], data["remove"] = self._uids(data["add"]), self._uids(data["remove"])
        if not data["add"] and not data["remove"]:
            raise forms.ValidationError(_("Name tokens to add or to remove."))
        return data


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Who"), choices=RuleKind.choices)
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups (for a members rule)"),
        queryset=AccessGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    date_from = forms.DateField(
        label=_("From (local date)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until (local date, inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    holidays = forms.ChoiceField(label=_("Holidays"), choices=HolidayMode.choices)
    confirm_lockout = forms.BooleanField(
        label=_("I know that nobody may then charge here"), required=False
    )


class WindowForm(forms.Form):
    """One row of the schedule: the same hours on several days.  Until earlier than from runs
    past midnight; from equal to until is all day."""

    days = forms.TypedMultipleChoiceField(
        label=_("Days"),
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "days"}),
    )
    start = forms.TimeField(
        label=_("From"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end = forms.TimeField(
        label=_("Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def clean(self):
        data = super().clean()
        filled = [
            bool(data.get("days")),
            data.get("start") is not None,
            data.get("end") is not None,
        ]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("A schedule row needs days, a start and an end."))
        return data


WindowFormSet = forms.formset_factory(WindowForm, extra=3, max_num=20)


def window_rows(windows) -> list[dict]:
    """A rule's windows as form rows: the days that share the same hours, together."""
    rows: dict[tuple[dt.time, dt.time], list[int]] = {}
    for window in windows:
        rows.setdefault((window.start, window.end), []).append(window.weekday)
    return [
        {"days": sorted(days), "start": start, "end": end} for (start, end), days in rows.items()
    ]


def window_specs(formset) -> list[tuple[int, dt.time, dt.time]]:
    return [
        (day, row["start"], row["end"])
        for row in formset.cleaned_data
        if row.get("days")
        for day in row["days"]
    ]


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name", "site"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, sites, all_sites: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["site"].required = not all_sites
        self.fields["site"].empty_label = _("Every site") if all_sites else None


class ExplainForm(forms.Form):
    token = forms.CharField(label=_("Card (token id)"), max_length=64, required=False)
    station = forms.ModelChoiceField(label=_("Station"), queryset=Station.objects.none())
    port = forms.IntegerField(label=_("Port number (optional)"), min_value=1, required=False)
    at = forms.DateTimeField(
        label=_("When, on the site's clock (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args, stations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    keep_good = forms.BooleanField(
        label=_("Import the good rows even if some rows are bad"), required=False
    )
    dry_run = forms.BooleanField(label=_("Only check the file"), required=False)
