from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.stations.models import Site

from .choices import GroupBy

MAX_DAYS = 3 * 366


class ReportForm(forms.Form):
    """The report's period (site-local days, the end excluded), grouping and site."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until (excluded)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    group_by = forms.ChoiceField(label=_("By"), choices=GroupBy.choices, required=False)
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("All sites")
    )

    def __init__(self, *args, sites=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.fields["site"].queryset = sites

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate() + dt.timedelta(days=1)
        start = data.get("start") or end - dt.timedelta(days=30)
        if start >= end:
            raise forms.ValidationError(_("The end must be after the start."))
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("At most three years at a time."))
        data.update(start=start, end=end, group_by=data.get("group_by") or GroupBy.SITE)
        return data
